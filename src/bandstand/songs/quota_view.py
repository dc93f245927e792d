"""What a user's quota looks like in an answer: the upload's, and their own account's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bandstand.songs.quota import Usage
from bandstand.songs.schemas import SongRead


class QuotaRead(BaseModel):
    bytesUsed: int = Field(description="Bytes the user's songs take (the files as uploaded)")
    bytesLimit: int
    bytesLeft: int
    uploadsToday: int = Field(description="Songs uploaded since midnight UTC")
    uploadsPerDay: int
    uploadsLeft: int


class UploadRead(SongRead):
    quota: QuotaRead = Field(description="The uploader's quota, this song counted")


def quota_view(usage: Usage) -> dict[str, Any]:
    return {
        "bytesUsed": usage.bytes_used,
        "bytesLimit": usage.bytes_limit,
        "bytesLeft": usage.bytes_left,
        "uploadsToday": usage.uploads_today,
        "uploadsPerDay": usage.uploads_per_day,
        "uploadsLeft": usage.uploads_left,
    }
