from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base, IdMixin


class PendingJob(IdMixin, Base):
    """A job not done yet: written in the transaction of the change that asks for it (the
    outbox), handed to the queue after the commit, deleted when the job is done. What the
    queue loses (a killed process, an emptied Redis) is handed to it again from here."""

    __tablename__ = "pending_jobs"
    __table_args__ = (Index(None, "run_after"),)

    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "queued" (a message is on its way to a worker), "running" (a worker holds its lease)
    # or "waiting" (for its retry's back-off). Only a queued job may be started: a second
    # message for the same job finds it running, waiting or gone and is dropped.
    state: Mapped[str] = mapped_column(String(10), default="queued")
    # Until then the job is someone's (the queue's, a worker's lease, its back-off); after
    # it, the relay hands it to the queue again.
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    # How many times a worker has started it.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
