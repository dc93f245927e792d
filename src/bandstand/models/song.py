from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import Double

from bandstand.models.base import Base, IdMixin, TimestampMixin
from bandstand.models.user import User


class SongStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Song(IdMixin, TimestampMixin, Base):
    """A track: its original audio as uploaded, cover art, and what FFmpeg found in it."""

    __tablename__ = "songs"
    __table_args__ = (Index(None, "owner_id", "id"),)

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
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    like_count: Mapped[int] = mapped_column(BigInteger, default=0)
    comment_count: Mapped[int] = mapped_column(BigInteger, default=0)

    owner: Mapped[User] = relationship(lazy="raise")
