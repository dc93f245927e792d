"""Writing song likes: the busiest write of the API, so on PostgreSQL it skips the ORM.

Two implementations of one interface, as for the callers' logins (accounts/principals.py):
on PostgreSQL a prepared statement on the callers' asyncpg pool does the change and reads
the song's stored count in one round trip (through SQLAlchemy the same statement cost about
three times as long); on the embedded SQLite database the repository's statements run on
an autocommit session, one writer at a time as SQLite wants.

Each statement commits on its own: the like is durable before the answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.accounts.principals import PostgresPrincipals, Principals
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
    def __init__(self, principals: PostgresPrincipals) -> None:
        # One driver pool per process, shared with the login check: each pool holds
        # connections, and PostgreSQL allows only so many.
        self._principals = principals

    async def _run(self, sql: str, *args: Any) -> Outcome:
        pool = await self._principals.pool()
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
        return None  # the pool is the principals'


def build_likes(principals: Principals, sessionmaker: async_sessionmaker[AsyncSession]) -> Likes:
    if isinstance(principals, PostgresPrincipals):
        return PostgresLikes(principals)
    return SessionLikes(sessionmaker)
