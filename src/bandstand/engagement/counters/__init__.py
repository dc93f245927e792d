"""Where views, likes and comment counts are counted: the counter store, and the flush
that moves what it holds into ``song_stats``.

- ``__init__.py`` (here) — the store's interface (``Counters``), what moves through it
  (``Delta``, ``Batch``) and ``build_counters``, which picks the implementation.
- ``redis.py`` — the store in Redis when ``BANDSTAND_REDIS_URL`` is set, shared by every
  process; its docstring draws the key layout.
- ``memory.py`` — the store in this process's memory, on the embedded default.
- ``flush.py`` — the flush: batches into ``song_stats`` and ``song_daily``, the recount
  of marked counters from their rows, the rebuild after the store lost its data.
- ``repository.py`` — the flush's and the recounts' queries.

The store holds pending deltas: the truth of who liked what is in the database before a
like is answered; what waits here is only how the counters on the rows must move, so a
lost store costs counts that ``bandstand counters rebuild`` (or the flush job, by itself)
recomputes from the rows, never a like.

Each counter (``song:<id>`` or ``comment:<id>``) has a total per name (``views``,
``likes``, ``comments``), kept per UTC day for songs: the flush adds the days to
``song_daily`` as well as to the song.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import structlog

from bandstand.config import Settings

log = structlog.get_logger(__name__)

Kind = Literal["song", "comment"]
SONG: Kind = "song"
COMMENT: Kind = "comment"
VIEWS, LIKES, COMMENTS = "views", "likes", "comments"
FIELDS = (VIEWS, LIKES, COMMENTS)
# The day of deltas outside the daily series.
NO_DAY = "-"

# One counter's pending totals, by field.
Totals = dict[str, int]
# A counter whose truth rows changed: (kind, id).
Counter = tuple[Kind, uuid.UUID]


@dataclass(frozen=True)
class Delta:
    """How far one counter must move. ``day`` (songs only) is the UTC day it lands on in
    the daily series; None keeps it out of the series."""

    kind: Kind
    id: uuid.UUID
    field: str
    amount: int
    day: date | None = None


@dataclass(frozen=True)
class Batch:
    """Deltas taken from the store together, summed per counter and per day."""

    id: str
    totals: dict[tuple[Kind, uuid.UUID], Totals]
    daily: dict[tuple[uuid.UUID, date], Totals]

    def __len__(self) -> int:
        return len(self.totals)

    def days_of(self, song_id: uuid.UUID) -> dict[date, Totals]:
        return {day: totals for (item, day), totals in self.daily.items() if item == song_id}


@dataclass(frozen=True)
class Mark:
    """A counter's changes on their way (see ``Counters.mark``)."""

    # The latest change's time (``time.time()``): marked, or its delta recorded.
    at: float
    # Changes marked whose delta has not arrived.
    outstanding: int


class Counters(ABC):
    """Pending counter deltas, and the view window."""

    @abstractmethod
    async def add(self, deltas: Iterable[Delta]) -> None:
        """Record deltas, all or none, and settle their counters' marks (``settle``) in
        the same step: the change they count, marked before its commit, has arrived."""

    async def add_and_read(
        self, deltas: Sequence[Delta], kind: Kind, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Totals]:
        """``add``, then read the pending totals of ``ids`` (as ``pending``), in one
        step: one round trip to Redis, for the busiest writes."""
        await self.add(deltas)
        return await self.pending(kind, ids)

    @abstractmethod
    async def pending(self, kind: Kind, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Totals]:
        """What has not reached the database yet, for each id that has anything pending
        (including batches being flushed)."""

    @abstractmethod
    async def pending_days(self, song_id: uuid.UUID) -> dict[date, Totals]:
        """A song's pending deltas by the day they land on (batches in flight included)."""

    async def pending_daily(
        self, song_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, dict[date, Totals]]:
        """``pending_days`` of many songs (only those with anything pending)."""
        found = {}
        for song_id in song_ids:
            if days := await self.pending_days(song_id):
                found[song_id] = days
        return found

    @abstractmethod
    async def add_marked(self, deltas: Sequence[Delta]) -> None:
        """Mark the deltas' counters and record the deltas, in one step, before the
        change they count commits; the caller ``settle``s them once it has committed.
        Should it not commit, the mark stays and the flush recounts the counters."""

    async def add_committed(self, deltas: Sequence[Delta]) -> bool:
        """Record the deltas of a change already committed. A failure is logged, not
        raised: the rows are the truth and the change was marked before its commit, so
        the flush recounts these counters; the caller answers success. Whether they were
        recorded."""
        if not deltas:
            return True
        try:
            await self.add(deltas)
        except Exception:
            log.warning("counter_deltas_lost", deltas=len(deltas), exc_info=True)
            return False
        return True

    async def pending_or_none(
        self, kind: Kind, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Totals]:
        """``pending``, or nothing when the store cannot answer: for the answer to a
        change already committed, which must not fail because a count cannot be read."""
        try:
            return await self.pending(kind, ids)
        except Exception:
            log.warning("counter_pending_unread", exc_info=True)
            return {}

    # Each counter whose rows changed lately has a mark: how many changes are on their
    # way to it, and the time of the latest. ``mark`` adds one before a change commits;
    # the change's delta takes it away as it is recorded (``add``), or ``settle`` does for
    # a change that needs no delta (it changed nothing) or recorded it before its commit
    # (``add_marked``). A mark still outstanding ``counter_settle_s`` after its latest
    # change belongs to a change whose delta was lost (a killed process, Redis
    # unreachable) or that never committed: only those counters are recounted from their
    # rows, so a flush's recount costs what failed, not what changed. Marks with nothing
    # outstanding stay until then too, for a rebuild to find what was in flight (``heal``).

    @abstractmethod
    async def mark(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        """A change of these counters' truth rows is about to commit (one mark each,
        however many of their rows it changes)."""

    @abstractmethod
    async def settle(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        """A change marked on these counters has arrived without a delta of its own."""

    @abstractmethod
    async def marked(self, limit: int, before: float) -> dict[Counter, Mark]:
        """Up to ``limit`` marks whose latest change is older than ``before``
        (``time.time()``), the oldest first."""

    @abstractmethod
    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        """Forget these marks (their counters were recounted, or had nothing
        outstanding), unless one was renewed at or after ``before`` — then its change may
        have been counted by a recount and will be again by its delta, so one more is
        kept outstanding and the counter is recounted once that change has settled."""

    @abstractmethod
    async def heal(self, since: float) -> int:
        """After a rebuild: every counter changed at or after ``since`` may have had a
        change in flight while the rebuild counted (its row counted and its delta then
        added, or the other way round), so each gets one more change outstanding and is
        recounted once settled. How many."""

    @abstractmethod
    async def intact(self) -> bool:
        """False if the store lost what it held since the last ``stamp`` (or never had
        one): its pending deltas and marks are gone, and only a rebuild repairs them."""

    @abstractmethod
    async def stamp(self, ttl_s: float) -> str | None:
        """Claim the rebuild of a store found not ``intact``: a token, or None if another
        process holds the claim. The claim counts as a stamp (``intact`` is true), but
        expires after ``ttl_s`` unless renewed (``renew_stamp``): a rebuild that dies
        leaves the store to the next flush, which rebuilds again."""

    @abstractmethod
    async def renew_stamp(self, token: str, ttl_s: float) -> bool:
        """Extend a claim by ``ttl_s`` from now; False if it is no longer held."""

    @abstractmethod
    async def seal(self, token: str) -> None:
        """The rebuild committed: the claim becomes the store's permanent stamp."""

    @abstractmethod
    async def unstamp(self, token: str) -> None:
        """The rebuild failed: drop the claim, so the next flush rebuilds."""

    @abstractmethod
    async def peek(self) -> dict[tuple[Kind, uuid.UUID], Totals]:
        """Every counter pending outside a batch (for a rebuild, which holds the lock)."""

    @abstractmethod
    async def pending_count(self) -> int:
        """How many counters wait for the flush, outside a batch (a song's views, its
        likes ..., of one day each): what an operator watches grow when the flush stalls."""

    @abstractmethod
    async def first_play(self, song_id: uuid.UUID, user_id: uuid.UUID, window_s: int) -> bool:
        """True for the first play in ``window_s`` seconds by this listener of this song
        (atomic: of simultaneous plays, one is first)."""

    @abstractmethod
    async def unfinished(self) -> list[str]:
        """Batches taken and not dropped: a crashed flush's, to finish first."""

    @abstractmethod
    async def take(self, max_counters: int) -> list[str]:
        """Move everything pending into batches, at one instant; their ids. Each holds at
        most about ``max_counters`` counters (Redis: a shard, whatever its size)."""

    @abstractmethod
    async def batch(self, batch_id: str) -> Batch:
        """A taken batch's contents."""

    @abstractmethod
    async def drop(self, batch_id: str) -> None:
        """Forget a batch the database now holds."""

    @abstractmethod
    async def flush_lock(self, ttl_s: float) -> str | None:
        """A token if this process may flush now (one flush at a time across every
        process sharing the store), else None. Expires after ``ttl_s``."""

    @abstractmethod
    async def renew(self, token: str, ttl_s: float) -> bool:
        """Extend a held lock by ``ttl_s`` from now; False if it is no longer held."""

    @abstractmethod
    async def release(self, token: str) -> None: ...

    async def close(self) -> None:
        return None


def day_token(delta: Delta) -> str:
    """The day a delta lands on, as the stores write it (``NO_DAY`` outside the series)."""
    return NO_DAY if delta.day is None else delta.day.isoformat()


class BatchBuilder:
    """Builds a ``Batch`` from counters' totals as the stores hold them (``<kind>:<id>``
    and a day token), parsing each id and day once."""

    def __init__(self) -> None:
        self.totals: dict[tuple[Kind, uuid.UUID], Totals] = {}
        self.daily: dict[tuple[uuid.UUID, date], Totals] = {}
        self._ids: dict[str, tuple[Kind, uuid.UUID] | None] = {}
        self._days: dict[str, date | None] = {NO_DAY: None}

    def _key(self, counter: str) -> tuple[Kind, uuid.UUID] | None:
        if counter not in self._ids:
            kind, _, raw_id = counter.partition(":")
            found: tuple[Kind, uuid.UUID] | None = None
            if kind in (SONG, COMMENT):
                found = (SONG if kind == SONG else COMMENT, uuid.UUID(raw_id))
            self._ids[counter] = found
        return self._ids[counter]

    def day(self, token: str) -> date | None:
        if token not in self._days:
            self._days[token] = date.fromisoformat(token)
        return self._days[token]

    def add(self, counter: str, field: str, amount: int, day: date | None) -> None:
        key = self._key(counter)
        if key is None or not amount:
            return
        totals = self.totals.setdefault(key, {})
        totals[field] = totals.get(field, 0) + amount
        if day is not None and key[0] == SONG:
            daily = self.daily.setdefault((key[1], day), {})
            daily[field] = daily.get(field, 0) + amount

    def batch(self, batch_id: str = "") -> Batch:
        totals = {key: t for key, t in self.totals.items() if any(t.values())}
        return Batch(id=batch_id, totals=totals, daily=self.daily)


def build_counters(settings: Settings) -> Counters:
    if settings.redis_url:
        from bandstand.engagement.counters.redis import RedisCounters

        return RedisCounters(settings.redis_url, settings.redis_namespace)
    from bandstand.engagement.counters.memory import MemoryCounters

    return MemoryCounters()
