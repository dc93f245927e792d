from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base, IdMixin


class AuditEntry(IdMixin, Base):
    """One moderator's action: who did what to which target, why, and when. Rows are only
    ever added: nothing in Bandstand updates or deletes them."""

    __tablename__ = "audit_log"
    # Filtered by who acted, or by what was acted on; newest first.
    __table_args__ = (Index(None, "actor_id", "id"), Index(None, "target_id", "id"))

    # None once the moderator's account is gone; ``actor_name`` keeps who it was.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
