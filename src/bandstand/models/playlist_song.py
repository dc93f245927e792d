from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.kit.time import utcnow
from bandstand.models.base import Base


class PlaylistSong(Base):
    """A song in a playlist, at its place; goes with the song or the playlist."""

    __tablename__ = "playlist_songs"
    __table_args__ = (Index(None, "playlist_id", "position"), Index(None, "song_id"))

    playlist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    song_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
