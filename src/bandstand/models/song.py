from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.types import Double

from bandstand.models.base import Base, IdMixin, TimestampMixin
from bandstand.models.song_stats import SongStats
from bandstand.models.user import User


class SongStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    # A catalogue entry with no audio behind it (``bench/seed.py``): listed, never playable.
    PLACEHOLDER = "placeholder"


class Song(IdMixin, TimestampMixin, Base):
    """A track: its original audio as uploaded, cover art, and what FFmpeg found in it."""

    __tablename__ = "songs"
    __table_args__ = (
        Index(None, "owner_id", "id"),
        # The media routes find a song by its files' keys.
        Index(None, "audio_key"),
        Index(None, "thumbnail_key"),
        Index(None, "release_id", "track"),
        # An import finds what it already brought in by the file's content.
        Index(None, "owner_id", "content_hash"),
        # The catalogue in id order with what the visibility rule reads of each song: a page
        # of a whole library's sync (``search3``, any offset) from the index alone.
        Index(None, "id", "owner_id", "taken_down_at"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str | None] = mapped_column(String(100))
    artist: Mapped[str | None] = mapped_column(String(200))
    duration: Mapped[float]
    codec: Mapped[str] = mapped_column(String(32))
    sample_rate: Mapped[int]
    channels: Mapped[int]
    bitrate: Mapped[int]
    audio_key: Mapped[str] = mapped_column(String(200))
    audio_format: Mapped[str] = mapped_column(String(16))
    audio_size: Mapped[int] = mapped_column(BigInteger)
    thumbnail_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=SongStatus.PROCESSING)
    # Why processing failed, for a person to read; None unless status is failed.
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    # Made by the worker, in the folder of the original: see songs/renditions.py.
    hls_key: Mapped[str | None] = mapped_column(String(200))
    progressive_key: Mapped[str | None] = mapped_column(String(200))
    loudness_lufs: Mapped[float | None] = mapped_column(Double)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Double)
    gain_db: Mapped[float | None] = mapped_column(Double)
    # Taken down by a moderator: gone for everyone but its owner, who sees why.
    taken_down_at: Mapped[datetime | None]
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    # Its owner turned comments off: no new comment or reply is taken.
    comments_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    # On at most one release, at its place in the track order; None is a single.
    release_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("releases.id", ondelete="SET NULL")
    )
    track: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of the uploaded file, hex: an import skips a file its owner already has.
    content_hash: Mapped[str | None] = mapped_column(String(64))

    owner: Mapped[User] = relationship(lazy="raise")

    if TYPE_CHECKING:
        # Read from song_stats with every song (below); written only by the counter flush.
        views: Mapped[int]
        like_count: Mapped[int]
        comment_count: Mapped[int]


def stat(column: Mapped[int]) -> ColumnElement[int]:
    """One of a song's counters, as a subquery of the song it sits in (0 before any)."""
    found = select(column).where(SongStats.song_id == Song.id).scalar_subquery()
    return func.coalesce(found, 0)


# Not expired by a flush of the song, which never writes them (so a song changed in a
# request still has them to show); a new song is given zeros.
Song.views = column_property(stat(SongStats.views), expire_on_flush=False)
Song.like_count = column_property(stat(SongStats.like_count), expire_on_flush=False)
Song.comment_count = column_property(stat(SongStats.comment_count), expire_on_flush=False)
