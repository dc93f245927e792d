from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin


class Play(IdMixin, Base):
    """One play of a song, appended when it is reported and never changed: the truth a
    song's ``views`` (the counted plays) and its plays per day are kept from."""

    __tablename__ = "plays"
    # (song, counted, when): a song's views, and its views on a day, are read from the
    # index alone.
    __table_args__ = (
        Index(None, "song_id", "counted", "played_at"),
        Index(None, "user_id", "played_at"),
    )

    song_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"))
    # A deleted listener's plays still count for the song.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    played_at: Mapped[datetime]
    # Whether it counted as a view (not the owner's, first in the listener's window).
    counted: Mapped[bool]
