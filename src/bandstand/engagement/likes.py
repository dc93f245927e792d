"""Writing song likes: the busiest write of the API, so on PostgreSQL it skips the ORM.

Two implementations of one interface, as for the callers' logins (accounts/principals.py):
on PostgreSQL a prepared statement on a small asyncpg pool does the change and reads the
song's stored count in one round trip (through SQLAlchemy the same statement cost about
three times as long); on the embedded SQLite database the repository's statements run on
an autocommit session, one writer at a time as SQLite wants.

Each statement commits on its own: the like is durable before the answer.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.engagement import repository as repo

# (whether the call changed the like, the song's stored like count), or None: no song.
Outcome = tuple[bool, int] | None


class Likes(Protocol):
    async def like(self, song_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> Outcome:
        """Add the like unless it is there."""
        ...

    async def unlike(self, song_id: uuid.UUID, user_id: uuid.UUID) -> Outcome:
        """Remove the like if it is there."""
        ...

    async def close(self) -> None: ...


class SessionLikes:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def like(self, song_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> Outcome:
        async with self._sessionmaker() as session:
            return await repo.add_like(session, song_id, user_id, now)

    async def unlike(self, song_id: uuid.UUID, user_id: uuid.UUID) -> Outcome:
        async with self._sessionmaker() as session:
            return await repo.remove_like(session, song_id, user_id)

    async def close(self) -> None:
        return None


class PostgresLikes:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool[Any] | None = None
        self._lock = asyncio.Lock()

    async def _ready_pool(self) -> asyncpg.Pool[Any]:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=2, max_size=20)
        return self._pool

    async def _run(self, sql: str, *args: Any) -> Outcome:
        pool = self._pool or await self._ready_pool()
        try:
            row = await pool.fetchrow(sql, *args)
        except asyncpg.ForeignKeyViolationError:
            return None  # the song went between the check and the insert
        return None if row is None else (bool(row[1]), int(row[0]))

    async def like(self, song_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> Outcome:
        return await self._run(repo.ADD_LIKE_SQL, song_id, user_id, now)

    async def unlike(self, song_id: uuid.UUID, user_id: uuid.UUID) -> Outcome:
        return await self._run(repo.REMOVE_LIKE_SQL, song_id, user_id)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def build_likes(database_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> Likes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SessionLikes(sessionmaker)
    return PostgresLikes(url.set(drivername="postgresql").render_as_string(hide_password=False))
