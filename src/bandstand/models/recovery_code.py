from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base, IdMixin


class RecoveryCode(IdMixin, Base):
    """A one-time code that stands in for a two-factor code, stored hashed."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index(None, "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
