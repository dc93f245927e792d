"""What the songs API takes and gives."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.songs.quota_view import QuotaRead

# Control characters have no place in text people read, and PostgreSQL cannot store NUL
# at all; a description may still break lines.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_line(value: str) -> str:
    if CONTROL.search(value):
        raise ValueError("Control characters and line breaks are not allowed.")
    return value


def lines(value: str) -> str:
    if CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("Control characters are not allowed.")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(one_line),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(lines)
]
Genre = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(one_line)
]


class SongUpdate(BaseModel):
    """Only these three fields can change; anything else in the body is refused."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    genre: Genre | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> SongUpdate:
        if self.title is None and self.description is None and self.genre is None:
            raise ValueError("Give at least one of title, description or genre.")
        return self


class SongRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    songId: uuid.UUID


class Rendition(BaseModel):
    """One file a player can play, by signed link (``original``: the upload itself)."""

    kind: str
    url: str
    contentType: str


class SongRelease(BaseModel):
    """The release a song is on, and its place there (``releases/``)."""

    id: uuid.UUID = Field(serialization_alias="_id", validation_alias=AliasChoices("id", "_id"))
    title: str
    kind: str = Field(description="album, ep or single")
    year: int | None
    track: int = Field(description="Its place in the release's track order, from 1")


class SongRead(BaseModel):
    # Read back from ``song_view``'s JSON too, where a playlist's answer holds songs.
    id: uuid.UUID = Field(serialization_alias="_id", validation_alias=AliasChoices("id", "_id"))
    title: str
    description: str
    genre: str | None
    artist: str | None
    duration: float
    codec: str
    sampleRate: int
    channels: int
    bitrate: int
    songFile: str
    thumbnail: str
    thumbnails: dict[str, str]
    hls: str | None
    renditions: list[Rendition]
    waveform: str | None
    loudness: float | None = Field(description="EBU R 128 integrated loudness, LUFS")
    truePeak: float | None = Field(description="True peak, dBTP")
    gain: float | None = Field(
        description="Gain in dB to apply on playback: the one that brings the song to -14 LUFS,"
        " lowered where needed so that truePeak + gain stays at or under -1 dBTP"
    )
    owner: UserPublic
    views: int = Field(
        description="Plays that counted: not the owner's own, at most one per listener per "
        "30 minutes. Every route gives the same number, counted at once"
    )
    likeCount: int = Field(description="Listeners who like the song, counted at once")
    commentCount: int = Field(
        description="Comments and replies on the song that are not themselves held for the "
        "owner's approval or hidden by a moderator, and whose author is not banned (a held "
        "one counts once approved; a reply beneath a held one counts, though only those who "
        "see the held one see it). The same number as the "
        "song's analytics comment total and its sentiment Total"
    )
    status: str = Field(
        description="processing, ready or failed; placeholder for fake songs with no audio"
        " (bandstand seed), which never play; taken_down for a song a moderator took down,"
        " which only its owner sees"
    )
    failureReason: str | None
    takedownReason: str | None = Field(
        description="Why a moderator took the song down (status taken_down); null otherwise"
    )
    release: SongRelease | None = Field(
        description="The release (album, EP or single) the song is on; null for a song on none"
    )
    createdAt: datetime
    updatedAt: datetime


class UploadRead(SongRead):
    quota: QuotaRead = Field(description="The uploader's quota, this song counted")


class Waveform(BaseModel):
    songId: uuid.UUID
    peaks: list[float] = Field(description="About 1 000 peaks in time order, 0..1")


class SongPage(PageMeta):
    docs: list[SongRead]
