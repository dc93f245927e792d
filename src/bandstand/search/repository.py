"""Search queries, one interface over two engines: pg_trgm on PostgreSQL (postgres.py),
FTS5 trigram tables on SQLite (sqlite.py). The query is always data, never a pattern.

Both answer the same question (kinds.py says what each kind is matched by): rows whose
best column holds at least ``THRESHOLD`` of the query's trigrams, the query respelled
with one transposition undone counting as one edit (``kit.trigrams``), ranked by
similarity, then newest first, through the best ``WINDOW``; one or two characters match
the start of a column instead, newest first. A song is found by its title, genre and
artist, and by its uploader's username or full name. ``Hits.total`` is exact when the
search saw every match (``Hits.exact``); otherwise it is a lower bound.

Only what everyone may see is searched, for everyone, owners included: search is for
finding what others share. Public playlists, not hidden, of owners not banned (a user's
own playlists are at ``/playlist/get``); songs not taken down, of owners not banned (a
user's own songs are at ``/songs/userSongs``); people not banned.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.errors import ServiceUnavailable
from bandstand.search import postgres, sqlite
from bandstand.search.kinds import PEOPLE, PLAYLISTS, SONGS, Hits, Kind

# PostgreSQL's "query_canceled": a search statement ran past ``postgres.STATEMENT_TIMEOUT``.
_CANCELED = "57014"

__all__ = ["Hits", "playlists", "songs", "users"]


class Engine(Protocol):
    """What each engine's module answers."""

    async def ranked(
        self, session: AsyncSession, kind: Kind, query: str, limit: int, offset: int
    ) -> Hits:
        """A page of matching rows (models), best first."""
        ...

    async def scored(
        self, session: AsyncSession, kind: Kind, query: str, limit: int, offset: int
    ) -> Hits:
        """A page of matching ids, best first, every match scored."""
        ...


_ENGINES: dict[str, Engine] = {"postgresql": postgres, "sqlite": sqlite}


def _engine(session: AsyncSession) -> Engine:
    return _ENGINES[session.get_bind().dialect.name]


@contextmanager
def _timed_out_is_busy() -> Iterator[None]:
    """A search cut short by the statement timeout is a database too busy to answer it in
    time, which may pass (503, retry later), not a fault in the request or the code."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _CANCELED:
            raise ServiceUnavailable("Search is busy. Try again shortly.") from exc
        raise


async def songs(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    with _timed_out_is_busy():
        return await _engine(session).ranked(session, SONGS, query, limit, offset)


async def users(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    with _timed_out_is_busy():
        return await _engine(session).ranked(session, PEOPLE, query, limit, offset)


async def playlists(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    """Public playlists by name; ``Hits.items`` are their ids, best first."""
    with _timed_out_is_busy():
        return await _engine(session).scored(session, PLAYLISTS, query, limit, offset)
