from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base


class SongDaily(Base):
    """One song's plays, likes and comments gained on one UTC day (likes and comments net
    of those withdrawn that day), written by the counter flush."""

    __tablename__ = "song_daily"

    song_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    plays: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
