"""Accounts: sign-up by emailed code, login, sessions and profiles."""
