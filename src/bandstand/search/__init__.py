"""Typo-tolerant search over songs, people and public playlists."""
