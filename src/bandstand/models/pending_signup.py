from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base, IdMixin


class PendingSignup(IdMixin, Base):
    """A sign-up waiting for its emailed code. Its id is the ``registrationId`` handle."""

    __tablename__ = "pending_signups"
    __table_args__ = (Index(None, "email"), Index(None, "expires_at"))

    email: Mapped[str] = mapped_column(String(254))
    username: Mapped[str] = mapped_column(String(30))
    username_key: Mapped[str] = mapped_column(String(30))
    fullname: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    avatar_key: Mapped[str] = mapped_column(String(200))
    otp_hash: Mapped[str] = mapped_column(String(64))
    otp_expires_at: Mapped[datetime]
    otp_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
