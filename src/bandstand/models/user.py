from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin, TimestampMixin


class Role(StrEnum):
    USER = "user"
    # Works the report queue, bans, takes down, hides.
    MODERATOR = "moderator"
    # A moderator who also grants and revokes roles and reads the audit log.
    ADMIN = "admin"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    fullname: Mapped[str] = mapped_column(String(100))
    # Stored lower-cased: addresses compare case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(30))
    # The uniqueness key for usernames, so "Jane" and "jane" cannot both exist.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    avatar_key: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER)
    # Set while banned (their sessions revoked, their content hidden from everyone else);
    # cleared by an unban, or once ``banned_until`` has passed.
    banned_at: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(Text)
    banned_until: Mapped[datetime | None]
    # Two-factor login (RFC 6238): the secret, encrypted (set up, not yet on, while
    # ``totp_enabled_at`` is None), and the last time step a code was accepted for, so a
    # code is good once.
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The quota, kept on the row so the login check reads it with the account: the bytes
    # of the user's songs' originals (moved in the transaction that adds or deletes a
    # song), and the songs uploaded on ``uploads_day`` (UTC; a delete gives none back).
    storage_used: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    uploads_day: Mapped[date | None]
    uploads_today: Mapped[int] = mapped_column(default=0, server_default=text("0"))
