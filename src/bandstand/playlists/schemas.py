"""What the playlists API takes and gives. Inputs refuse unknown fields, so nothing but the
whitelisted ones (never the owner) can be written."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.songs.schemas import SongRead

# A playlist holds at most this many songs: over 30 hours of music, and a bound on what a
# list of playlists carries (each lists its songs' ids).
MAX_SONGS = 500
MAX_NAME, MAX_DESCRIPTION = 100, 5000

# Names are one line; a description may break lines. Neither takes other control
# characters (PostgreSQL cannot store NUL at all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("Control characters and line breaks are not allowed.")
    return value


def _lines(value: str) -> str:
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("Control characters are not allowed.")
    return value


def _true_or_false(value: Any) -> Any:
    # Multipart sends text, so "true" and "false" stand for the booleans; anything else
    # ("yes", 1, "") is more likely a mistake than a choice.
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    if isinstance(value, bool):
        return value
    raise ValueError("Must be true or false.")


def _id_list(value: Any) -> Any:
    # One id, a list of them, or (from a form) a JSON array or comma-separated text.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValueError("Not a list of ids.") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    AfterValidator(_one_line),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION),
    AfterValidator(_lines),
]
Visibility = Annotated[bool, BeforeValidator(_true_or_false)]
SongIds = Annotated[
    list[uuid.UUID], BeforeValidator(_id_list), Field(min_length=1, max_length=MAX_SONGS)
]


def _ordered_unique(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Each id once, at its first place: a repeat in a request is not an error."""
    return list(dict.fromkeys(ids))


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaylistCreate(Input):
    name: Name = Field(validation_alias=AliasChoices("playlist_name", "name"))
    description: Description = ""
    isPublic: Visibility = True
    songs: SongIds | None = None
    songIds: SongIds | None = None

    @model_validator(mode="after")
    def _one_list_of_songs(self) -> PlaylistCreate:
        if self.songs is not None and self.songIds is not None:
            raise ValueError("Give songs or songIds, not both.")
        return self

    @property
    def song_ids(self) -> list[uuid.UUID]:
        return _ordered_unique(self.songs or self.songIds or [])


class PlaylistUpdate(Input):
    """Only these fields (and a cover, sent as the ``thumbnail`` file) can change."""

    name: Name | None = Field(default=None, validation_alias=AliasChoices("playlist_name", "name"))
    description: Description | None = None
    isPublic: Visibility | None = None

    @property
    def empty(self) -> bool:
        return self.name is None and self.description is None and self.isPublic is None


class SongsToAdd(Input):
    """``{"songId": id}``, ``{"songId": [ids]}`` or ``{"songIds": [ids]}``."""

    songId: SongIds | None = None
    songIds: SongIds | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SongsToAdd:
        if (self.songId is None) == (self.songIds is None):
            raise ValueError("Give songId or songIds (one of them).")
        return self

    @property
    def song_ids(self) -> list[uuid.UUID]:
        return _ordered_unique(self.songId or self.songIds or [])


class PlaylistRef(Input):
    playlistId: uuid.UUID


class SongsPage(PageMeta):
    """Where ``songs`` is in the playlist's song list (the page shape, without its docs)."""


class _Playlist(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    playlist_name: str
    description: str
    isPublic: bool
    owner: UserPublic
    thumbnail: str | None = Field(description="The largest size of the cover, or null")
    thumbnails: dict[str, str] | None = Field(description="The cover by size in pixels")
    songCount: int
    hiddenReason: str | None = Field(
        description="Set when a moderator hid it: their reason, for its owner, who alone sees it"
    )
    createdAt: datetime
    updatedAt: datetime


class PlaylistCard(_Playlist):
    """A playlist in a list: its songs as ids, in order."""

    songs: list[uuid.UUID]


class PlaylistRead(_Playlist):
    """One playlist with a page of its songs in order (``songsPage`` says which)."""

    songs: list[SongRead]
    songsPage: SongsPage


class PlaylistPage(PageMeta):
    docs: list[PlaylistCard]
