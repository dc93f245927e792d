from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin, TimestampMixin


class Role(StrEnum):
    USER = "user"
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
    banned_at: Mapped[datetime | None]
