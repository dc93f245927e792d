from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base


class WatchEntry(Base):
    """A song in a listener's history, at its latest play (one row per song)."""

    __tablename__ = "watch_history"
    __table_args__ = (Index(None, "user_id", "watched_at"), Index(None, "song_id"))

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    song_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    watched_at: Mapped[datetime]
