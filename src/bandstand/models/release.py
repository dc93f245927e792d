from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin, TimestampMixin


class ReleaseKind(StrEnum):
    ALBUM = "album"
    EP = "ep"
    SINGLE = "single"


class Release(IdMixin, TimestampMixin, Base):
    """An artist's release (album, EP or single): a title, a cover, a year and its songs
    in order (``Song.release_id`` and ``Song.track``); a song is on at most one."""

    __tablename__ = "releases"
    __table_args__ = (Index(None, "owner_id", "id"), Index(None, "created_at", "id"))

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=ReleaseKind.ALBUM)
    year: Mapped[int | None] = mapped_column(Integer)
    # covers/<id>/<size>.webp as songs' covers; None shows its first song's cover.
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
