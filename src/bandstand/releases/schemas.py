"""What the releases API takes and gives. Inputs refuse unknown fields, so nothing but the
whitelisted ones (never the owner, never a song's track by hand) can be written."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.models import ReleaseKind
from bandstand.songs.schemas import SongRead, Title

# A release holds at most this many songs: more than any box set, and a bound on what one
# release's answer carries (all its songs, in order).
MAX_TRACKS = 500
FIRST_YEAR, LAST_YEAR = 1000, 9999
KINDS = ", ".join(kind.value for kind in ReleaseKind)


def _kind(value: Any) -> Any:
    # "EP" and "Album" are what people type; the stored value is the enum's.
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _year(value: Any) -> int | None:
    """A year of four digits, or none: null, or an empty form field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    year: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        year = int(value.strip()[:10])
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"A year from {FIRST_YEAR} to {LAST_YEAR}, or null.")
    return year


def _id_list(value: Any) -> Any:
    # A list of ids, or (from a form) a JSON array or comma-separated text.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValueError("Not a list of ids.") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


Kind = Annotated[ReleaseKind, BeforeValidator(_kind)]
Year = Annotated[int | None, BeforeValidator(_year)]
SongIds = Annotated[list[uuid.UUID], BeforeValidator(_id_list), Field(max_length=MAX_TRACKS)]


def ordered_unique(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReleaseFields(Input):
    """A release's own fields, checked alike wherever a release is made (the API, the
    web app, the catalogue importer)."""

    title: Title
    kind: Kind
    year: Year = None


class ReleaseCreate(ReleaseFields):
    """A new release, with its first songs in track order if given (the caller's own,
    on no other release)."""

    songIds: SongIds = Field(default_factory=list)

    @property
    def song_ids(self) -> list[uuid.UUID]:
        return ordered_unique(self.songIds)


class ReleaseUpdate(Input):
    """Any of title, kind and year; ``"year": null`` clears the year."""

    title: Title | None = None
    kind: Kind | None = None
    year: Year = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ReleaseUpdate:
        if not self.model_fields_set:
            raise ValueError("Give at least one of title, kind or year.")
        for name in ("title", "kind"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null.")
        return self

    def values(self) -> dict[str, Any]:
        """The columns to write: those given."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class SongsToAdd(Input):
    """Songs to append, in the order given (one already on the release stays where it
    is)."""

    songIds: Annotated[SongIds, Field(min_length=1)]

    @property
    def song_ids(self) -> list[uuid.UUID]:
        return ordered_unique(self.songIds)


class TrackOrder(Input):
    """Every song of the release, each once, in the new order: tracks 1 to n."""

    songIds: SongIds

    @model_validator(mode="after")
    def _each_once(self) -> TrackOrder:
        if len(set(self.songIds)) != len(self.songIds):
            raise ValueError("Each song may be listed once.")
        return self


class _Release(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    title: str
    kind: str = Field(description=KINDS)
    year: int | None
    owner: UserPublic
    thumbnail: str | None = Field(
        description="The largest size of the cover (its first song's when it has none of its "
        "own), or null"
    )
    thumbnails: dict[str, str] | None = Field(description="The cover by size in pixels")
    songCount: int = Field(description="Its songs the caller may see")
    duration: float = Field(description="Seconds, the songs the caller may see together")
    createdAt: datetime
    updatedAt: datetime


class ReleaseCard(_Release):
    """A release in a list."""


class ReleaseRead(_Release):
    """One release with its songs in track order (those the caller may see)."""

    songs: list[SongRead]


class ReleasePage(PageMeta):
    docs: list[ReleaseCard]
