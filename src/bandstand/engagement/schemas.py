"""What plays, likes and history answer (documentation of the JSON the views build)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from bandstand.kit.pagination import PageMeta
from bandstand.songs.schemas import SongRead


class PlayRead(SongRead):
    viewCounted: bool = Field(description="Whether this play counted as a view")


class LikeRead(BaseModel):
    songId: uuid.UUID
    liked: bool
    likeCount: int


class LikedSong(SongRead):
    likedAt: datetime


class LikedPage(PageMeta):
    docs: list[LikedSong]


class HistoryEntry(BaseModel):
    song: SongRead
    watchedAt: datetime


class HistoryPage(PageMeta):
    docs: list[HistoryEntry]
