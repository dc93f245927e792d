from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Double

from bandstand.models.base import Base, IdMixin, TimestampMixin


class Comment(IdMixin, TimestampMixin, Base):
    """A listener's comment on a song, or a reply in one of its threads.

    ``root_id`` is the thread's top-level comment (None on a top-level comment), so a page
    of threads loads all their replies with one indexed query. A flagged comment is
    ``is_held`` until the song's owner approves it.
    """

    __tablename__ = "comments"
    __table_args__ = (
        # Top-level comments of a song, newest first (root_id IS NULL).
        Index(None, "song_id", "root_id", "id"),
        Index(None, "root_id", "id"),
        Index(None, "parent_id"),
        Index(None, "user_id"),
    )

    song_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE")
    )
    root_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    # Seconds into the song the comment is about, if any.
    timestamp_s: Mapped[float | None] = mapped_column(Double)
    sentiment_score: Mapped[float] = mapped_column(Double)
    is_flagged: Mapped[bool]
    is_held: Mapped[bool]
    like_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # Hidden by a moderator: gone for everyone but its author (kept, so it can come back).
    hidden_at: Mapped[datetime | None]
    # What the moderator said, for its author (the one who still sees it).
    hidden_reason: Mapped[str | None] = mapped_column(Text)
