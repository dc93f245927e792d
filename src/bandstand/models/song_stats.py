from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base


class SongStats(Base):
    """A song's counters, apart from its wide row: the counter flush rewrites them every
    minute, and a narrow row keeps that cheap and out of the songs table's search indexes.
    Made by the first flush that counts something for the song; none means all zero."""

    __tablename__ = "song_stats"

    song_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    like_count: Mapped[int] = mapped_column(BigInteger, default=0)
    comment_count: Mapped[int] = mapped_column(BigInteger, default=0)
