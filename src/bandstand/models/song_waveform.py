from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base


class SongWaveform(Base):
    """A song's waveform: about a thousand peaks, 0..1, as a JSON array. Apart from the
    song's row, so lists of songs never carry it."""

    __tablename__ = "song_waveforms"

    song_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )
    peaks: Mapped[str] = mapped_column(Text)
