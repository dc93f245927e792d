from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base, IdMixin


class AppPassword(IdMixin, Base):
    """A password a user made for one music app (the ``/rest`` API): never the account
    password. Kept sealed, not hashed, because Subsonic's token scheme
    (``t = md5(secret + salt)``) needs the secret itself; ``lookup`` (a keyed hash of the
    secret) finds it for an ``apiKey`` that comes without a username."""

    __tablename__ = "app_passwords"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    sealed_secret: Mapped[str] = mapped_column(String(300))
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
