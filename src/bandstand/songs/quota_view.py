"""What a user's quota looks like in an answer: the upload's, and their own account's
(current-user). Apart from ``schemas.py`` so that accounts can show it too."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bandstand.songs.quota import Usage


class QuotaRead(BaseModel):
    bytesUsed: int = Field(description="Bytes the user's songs take (the files as uploaded)")
    bytesLimit: int
    bytesLeft: int
    uploadsToday: int = Field(description="Songs uploaded since midnight UTC")
    uploadsPerDay: int
    uploadsLeft: int

    @classmethod
    def of(cls, usage: Usage) -> QuotaRead:
        return cls(
            bytesUsed=usage.bytes_used,
            bytesLimit=usage.bytes_limit,
            bytesLeft=usage.bytes_left,
            uploadsToday=usage.uploads_today,
            uploadsPerDay=usage.uploads_per_day,
            uploadsLeft=usage.uploads_left,
        )
