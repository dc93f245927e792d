"""What a search looks for, and what it refuses to."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.engagement.counters import Counters
from bandstand.errors import BadRequest
from bandstand.kit.text import has_control_characters
from bandstand.playlists import service as playlists
from bandstand.playlists.service import Listing
from bandstand.search import repository as repo
from bandstand.search.repository import Hits
from bandstand.songs.cards import read_cards

MAX_QUERY = 100


@dataclass(frozen=True)
class PlaylistHits:
    """A page of playlists as a list shows them; ``exact`` as in ``Hits``."""

    listing: Listing
    exact: bool


@dataclass(frozen=True)
class Results:
    songs: Hits
    users: Hits
    playlists: PlaylistHits


def clean_query(raw: str | None) -> str:
    query = (raw or "").strip()
    problem = None
    if not query:
        problem = "Give something to search for."
    elif len(query) > MAX_QUERY:
        problem = f"At most {MAX_QUERY} characters."
    elif has_control_characters(query):
        problem = "Control characters are not allowed."
    if problem:
        raise BadRequest("Invalid input.", errors=[{"field": "q", "message": problem}])
    return query


async def search(
    session: AsyncSession, counters: Counters, raw: str | None, page: int, limit: int
) -> Results:
    """Songs by title and genre, people by username and full name, public playlists by
    name, ranked by similarity;
    one or two characters match as a prefix, newest first. Each kind is paginated on its
    own, through its best ``repository.WINDOW`` matches; a total is exact only when every
    match was counted (``Hits.exact``), otherwise it is a lower bound. Songs come as
    every route gives them, through the one reader (``songs.cards.read_cards``)."""
    query = clean_query(raw)
    offset = (page - 1) * limit
    return Results(
        songs=await _songs(session, counters, query, limit, offset),
        users=await repo.users(session, query, limit, offset),
        playlists=await _playlists(session, query, limit, offset),
    )


async def _songs(
    session: AsyncSession, counters: Counters, query: str, limit: int, offset: int
) -> Hits:
    found = await repo.songs(session, query, limit, offset)
    return replace(found, items=await read_cards(counters, found.items))


async def _playlists(session: AsyncSession, query: str, limit: int, offset: int) -> PlaylistHits:
    found = await repo.playlists(session, query, limit, offset)
    listing = await playlists.listed(session, found.items, found.total)
    return PlaylistHits(listing=listing, exact=found.exact)
