"""What a search answers: a page of each kind it finds, each paged on its own."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.playlists.schemas import PlaylistCard
from bandstand.songs.schemas import SongRead

EXACT = Field(
    description="False when the search stopped before it saw every match: totalDocs is "
    "then a lower bound, at most 1,000"
)


class SongHits(PageMeta):
    docs: list[SongRead]
    totalExact: bool = EXACT


class UserHits(PageMeta):
    docs: list[UserPublic]
    totalExact: bool = EXACT


class PlaylistHits(PageMeta):
    docs: list[PlaylistCard]
    totalExact: bool = EXACT


class SearchResults(BaseModel):
    """Songs, people and public playlists, each ranked by similarity and paged on its
    own."""

    songs: SongHits
    users: UserHits
    playlists: PlaylistHits
