"""Moderation: reports and the moderators' queue, bans, takedowns, hidden comments and
playlists, and the audit log of every moderator's action."""
