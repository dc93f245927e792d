from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin, TimestampMixin


class Playlist(IdMixin, TimestampMixin, Base):
    """A listener's list of songs, public or private; its songs are ``PlaylistSong`` rows."""

    __tablename__ = "playlists"
    __table_args__ = (Index(None, "owner_id", "id"), Index(None, "is_public", "id"))

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(default=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    # Hidden by a moderator: gone for everyone but its owner (kept, so it can come back).
    hidden_at: Mapped[datetime | None]
    # What the moderator said, for its owner (the one who still sees it).
    hidden_reason: Mapped[str | None] = mapped_column(Text)
