"""Writing song likes: the busiest write of the API, so likes that arrive together are
written together.

Each like or unlike waits for its batch (``kit/batching.py``): one call to the counter
store marks the batch's songs, then one round trip to the database writes the batch and
commits it, then one call to the counter store records the batch's deltas and reads its
songs' pending counts. The like is durable before its answer, as alone; under load a
round trip serves many listeners instead of one. The mark is stored before the commit
starts: it is what repairs a count whose delta is lost after the commit
(``counters/flush.py``), so a store that cannot take it fails the batch before anything
is written (503, as a comment does); once the rows are committed the like is answered,
even if the counter store then fails.

The database part has two implementations: on PostgreSQL one statement on the process's
raw asyncpg pool, ``kit/pgpool.py`` (through SQLAlchemy one like cost three times as
long); on the embedded SQLite database the repository's statements in one transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.engagement import repository as repo
from bandstand.engagement.counters import LIKES, SONG, Counters, Delta, Totals
from bandstand.kit.batching import Batcher
from bandstand.kit.pgpool import DriverPool
from bandstand.kit.time import utcnow

log = structlog.get_logger(__name__)

# A batch that meets another on the same rows, or a song deleted under it, is tried again.
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Change:
    song_id: uuid.UUID
    user_id: uuid.UUID
    liking: bool  # else unliking


@dataclass(frozen=True, slots=True)
class Written:
    changed: bool
    stored: int  # the song's like_count in its row, before the flush adds what is pending


# One per change, in order; None: no such song.
Writes = list[Written | None]


class LikeTable(Protocol):
    async def write(self, changes: Sequence[Change], now: datetime) -> Writes:
        """Apply changes, at most one per listener and song, and commit them."""
        ...


class SessionLikeTable:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def write(self, changes: Sequence[Change], now: datetime) -> Writes:
        writes: Writes = []
        async with self._sessionmaker() as session, session.begin():
            for change in changes:
                if change.liking:
                    done = await repo.add_like(session, change.song_id, change.user_id, now)
                else:
                    done = await repo.remove_like(session, change.song_id, change.user_id)
                writes.append(None if done is None else Written(*done))
        return writes


class PostgresLikeTable:
    def __init__(self, pool: DriverPool) -> None:
        self._pool = pool

    async def write(self, changes: Sequence[Change], now: datetime) -> Writes:
        pool = await self._pool()
        args = (
            [c.song_id for c in changes],
            [c.user_id for c in changes],
            [c.liking for c in changes],
            now,
        )
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                rows = await pool.fetch(repo.WRITE_LIKES_SQL, *args)
                break
            # Nothing of a failed statement stays, so it is simply run again.
            except (asyncpg.DeadlockDetectedError, asyncpg.ForeignKeyViolationError):
                if attempt == _ATTEMPTS:
                    raise
        found = {(r["song_id"], r["user_id"]): Written(r["changed"], r["stored"]) for r in rows}
        return [found.get((c.song_id, c.user_id)) for c in changes]


class Likes:
    """Song likes and unlikes, batched; each answers the song's like count (stored and
    pending), or None when there is no such song."""

    def __init__(self, table: LikeTable, counters: Counters) -> None:
        self._table = table
        self._counters = counters
        self._batches = Batcher(self.apply)

    async def like(self, song_id: uuid.UUID, user_id: uuid.UUID) -> int | None:
        """Add the like unless it is there."""
        return await self._batches(Change(song_id, user_id, liking=True))

    async def unlike(self, song_id: uuid.UUID, user_id: uuid.UUID) -> int | None:
        """Remove the like if it is there."""
        return await self._batches(Change(song_id, user_id, liking=False))

    async def apply(self, changes: Sequence[Change]) -> list[int | None]:
        """One batch: each change's answer, in order. A listener's changes of one like
        apply in the order given."""
        now = utcnow()
        writes: Writes = [None] * len(changes)
        # Stored before anything commits, or nothing is written: a mark kept anywhere
        # else (this process's memory, a request still on its way) is lost with the
        # process, and with it the only repair of a delta lost after the commit.
        marked = {change.song_id for change in changes}
        await self._counters.mark(SONG, marked)
        try:
            for turn in _turns(changes):
                done = await self._table.write([changes[i] for i in turn], now)
                for i, written in zip(turn, done, strict=True):
                    writes[i] = written
        except Exception:
            # A turn failed: those before it are committed, and their deltas must count.
            await self._counters.add_committed(_deltas(changes, writes, now))
            raise
        songs = {c.song_id for c, w in zip(changes, writes, strict=True) if w is not None}
        deltas = _deltas(changes, writes, now)
        try:
            pending = await self._counters.add_and_read(deltas, SONG, songs)
        except Exception:
            # Committed: answer, with this batch's own changes; the flush recounts.
            log.warning("like_deltas_lost", songs=len(songs), exc_info=True)
            pending = _own(deltas)
        # Songs whose changes all changed nothing owe no delta: their marks go without one
        # (should that fail, they are only recounted later).
        if unchanged := marked - {delta.id for delta in deltas}:
            with contextlib.suppress(Exception):
                await self._counters.settle(SONG, unchanged)
        return [
            None if w is None else w.stored + pending.get(c.song_id, {}).get(LIKES, 0)
            for c, w in zip(changes, writes, strict=True)
        ]

    async def close(self) -> None:
        await self._batches.close()


def _deltas(changes: Sequence[Change], writes: Writes, now: datetime) -> list[Delta]:
    """A delta only where a row really came or went: no sequence of requests moves a
    counter further than the truth."""
    return [
        Delta(SONG, change.song_id, LIKES, 1 if change.liking else -1, now.date())
        for change, written in zip(changes, writes, strict=True)
        if written is not None and written.changed
    ]


def _own(deltas: Sequence[Delta]) -> dict[uuid.UUID, Totals]:
    """The batch's own deltas per song, as ``pending`` would add them."""
    found: dict[uuid.UUID, Totals] = {}
    for delta in deltas:
        totals = found.setdefault(delta.id, {})
        totals[LIKES] = totals.get(LIKES, 0) + delta.amount
    return found


def _turns(changes: Sequence[Change]) -> list[list[int]]:
    """The changes' positions in turns that each hold a listener's like of a song at most
    once, in order: the second change of the same like goes in the second turn, and so on."""
    turns: list[list[int]] = []
    seen: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for i, change in enumerate(changes):
        key = (change.song_id, change.user_id)
        turn = seen[key] = seen.get(key, -1) + 1
        if turn == len(turns):
            turns.append([])
        turns[turn].append(i)
    return turns


def build_table(
    pool: DriverPool | None, sessionmaker: async_sessionmaker[AsyncSession]
) -> LikeTable:
    """``pool``: the process's driver pool (``kit.pgpool.driver_pool``), None on SQLite."""
    if pool is not None:
        return PostgresLikeTable(pool)
    return SessionLikeTable(sessionmaker)


def build_likes(
    pool: DriverPool | None,
    sessionmaker: async_sessionmaker[AsyncSession],
    counters: Counters,
) -> Likes:
    return Likes(build_table(pool, sessionmaker), counters)
