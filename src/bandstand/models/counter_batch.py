from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base


class CounterBatch(Base):
    """A batch of counter deltas the flush has applied, written in the same transaction:
    a flush resumed after a crash skips a batch already here instead of adding it twice."""

    __tablename__ = "counter_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
