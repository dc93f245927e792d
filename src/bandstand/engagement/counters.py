"""The counter store: views, likes and comment counts as pending deltas, until the flush
(``engagement/flush.py``) adds them to the database in batches.

Two implementations of one interface: Redis when ``BANDSTAND_REDIS_URL`` is set (shared by
every process), this process's memory on the embedded default. The truth of who liked
what is in the database before a like is answered; what waits here is only how the
counters on the rows must move, so a lost store costs counts that ``bandstand counters
rebuild`` recomputes, never a like.

Each counter (``song:<id>`` or ``comment:<id>``) has a total per name (``views``,
``likes``, ``comments``), kept per UTC day for songs: the flush adds the days to
``song_daily`` as well as to the song.

Redis layout, under the namespace: the counters are spread over ``SHARDS`` hashes per day
by a hash of their name, so that taking a batch is one ``RENAME`` (constant time, atomic)
and a batch holds one day's deltas of about a ``SHARDS``-th of the pending counters.

- ``ctr:<day>:<shard>`` — pending totals of that day, as ``<counter>|<name>`` (``<day>``
  is ``YYYY-MM-DD``, or ``-`` for deltas outside the daily series: a comment's likes).
- ``ctr:days`` — the days that have pending deltas.
- ``ctrb:<batch>`` (``<batch>`` = ``<flush id>.<day>.<shard>``) — a hash taken by a
  flush, as it was at that instant: a delta that arrives meanwhile goes to a fresh
  ``ctr:`` hash and the next flush, neither lost nor counted twice.
- ``ctrb`` — the set of batches taken and not yet finished, so a flush picks up what a
  crashed one left, and reads still add what is in flight.
- ``play:<song>:<user>`` — the view window: a view counts only where this was absent.
- ``ctr:marks`` — a sorted set of counters (``<kind>:<id>``) whose truth rows are about to
  change or just changed, scored by the time of the latest change: marked before the
  commit, so a delta lost after it (a killed process, Redis unreachable) still leaves the
  counter to be recounted from its rows (``flush.py``).
- ``ctr:gen`` — written when the store is known whole; its absence means Redis lost its
  data (emptied, or restarted without persistence), and the counters are rebuilt.

A flush reads only the batches it took (``HGETALL`` of one hash each); nothing scans the
keyspace. The scripts reach keys they are not given, so Bandstand expects one Redis (or a
primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import time
import uuid
import zlib
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

import structlog

from bandstand.config import Settings
from bandstand.kit.ids import new_hex
from bandstand.kit.redisclient import connect

log = structlog.get_logger(__name__)

Kind = Literal["song", "comment"]
SONG: Kind = "song"
COMMENT: Kind = "comment"
VIEWS, LIKES, COMMENTS = "views", "likes", "comments"
FIELDS = (VIEWS, LIKES, COMMENTS)
SHARDS = 64
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


class Counters(ABC):
    """Pending counter deltas, and the view window."""

    @abstractmethod
    async def add(self, deltas: Iterable[Delta]) -> None:
        """Record deltas, all or none."""

    async def add_and_read(
        self, deltas: Sequence[Delta], kind: Kind, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Totals]:
        """Record deltas, then read the pending totals of ``ids`` (as ``pending``), in
        one step: one round trip to Redis, for the busiest writes."""
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

    async def add_marked(self, deltas: Sequence[Delta]) -> None:
        """Mark the deltas' counters and record the deltas, before the change they count
        commits: should it not commit, the flush recounts the counters from the rows."""
        for kind in (SONG, COMMENT):
            await self.mark(kind, {delta.id for delta in deltas if delta.kind == kind})
        await self.add(deltas)

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

    @abstractmethod
    async def mark(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        """These counters' truth rows are about to change: called before the commit,
        so the flush recounts them even if their delta is then lost."""

    @abstractmethod
    async def marked(self, limit: int) -> dict[Counter, float]:
        """Up to ``limit`` marked counters, the longest marked first, with the time
        (``time.time()``) of their latest mark."""

    @abstractmethod
    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        """Forget these marks, unless one was renewed at or after ``before`` (a change
        that may not have settled yet: the counter is recounted again later)."""

    @abstractmethod
    async def intact(self) -> bool:
        """False if the store lost what it held since the last ``stamp`` (or never had
        one): its pending deltas and marks are gone, and only a rebuild repairs them."""

    @abstractmethod
    async def stamp(self) -> bool:
        """Record that the store is whole now; False if another process already did."""

    @abstractmethod
    async def peek(self) -> dict[tuple[Kind, uuid.UUID], Totals]:
        """Every counter pending outside a batch (for a rebuild, which holds the lock)."""

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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _day_token(delta: Delta) -> str:
    return NO_DAY if delta.day is None else delta.day.isoformat()


class _Collect:
    """Builds a ``Batch`` from counters' totals (parsing each id and day once)."""

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


class MemoryCounters(Counters):
    """This process's own: the embedded default, where one process serves and flushes."""

    def __init__(self) -> None:
        # (day token, counter) -> totals, like Redis's hashes without the shards.
        self._live: dict[tuple[str, str], Totals] = {}
        self._batches: dict[str, dict[tuple[str, str], Totals]] = {}
        self._plays: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
        self._marks: dict[Counter, float] = {}
        self._locked = False

    async def add(self, deltas: Iterable[Delta]) -> None:
        for delta in deltas:
            totals = self._live.setdefault((_day_token(delta), f"{delta.kind}:{delta.id}"), {})
            totals[delta.field] = totals.get(delta.field, 0) + delta.amount

    def _collect(self, counter: str) -> _Collect:
        """A counter's pending deltas, live and in batches being flushed."""
        collect = _Collect()
        for source in (self._live, *self._batches.values()):
            for (token, name), totals in source.items():
                if name == counter:
                    for field, amount in totals.items():
                        collect.add(counter, field, amount, collect.day(token))
        return collect

    async def pending(self, kind: Kind, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Totals]:
        found: dict[uuid.UUID, Totals] = {}
        for item in ids:
            totals = self._collect(f"{kind}:{item}").batch().totals.get((kind, item))
            if totals:
                found[item] = totals
        return found

    async def pending_days(self, song_id: uuid.UUID) -> dict[date, Totals]:
        return self._collect(f"{SONG}:{song_id}").batch().days_of(song_id)

    async def peek(self) -> dict[tuple[Kind, uuid.UUID], Totals]:
        collect = _Collect()
        for (token, counter), totals in self._live.items():
            for field, amount in totals.items():
                collect.add(counter, field, amount, collect.day(token))
        return collect.batch().totals

    async def first_play(self, song_id: uuid.UUID, user_id: uuid.UUID, window_s: int) -> bool:
        now = time.monotonic()
        if len(self._plays) > 100_000:
            self._plays = {k: until for k, until in self._plays.items() if until > now}
        if self._plays.get((song_id, user_id), 0.0) > now:
            return False
        self._plays[(song_id, user_id)] = now + window_s
        return True

    async def mark(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        now = time.time()
        for item in ids:
            self._marks[(kind, item)] = now

    async def marked(self, limit: int) -> dict[Counter, float]:
        oldest = sorted(self._marks.items(), key=lambda pair: pair[1])[:limit]
        return dict(oldest)

    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        for counter in counters:
            if self._marks.get(counter, before) < before:
                del self._marks[counter]

    async def intact(self) -> bool:
        # It lives and dies with this process, which rebuilds at a start after a crash.
        return True

    async def stamp(self) -> bool:
        return False

    async def unfinished(self) -> list[str]:
        return list(self._batches)

    async def take(self, max_counters: int) -> list[str]:
        live, self._live = self._live, {}
        keys = list(live)
        taken = []
        for start in range(0, len(keys), max_counters):
            batch_id = new_hex()
            self._batches[batch_id] = {k: live[k] for k in keys[start : start + max_counters]}
            taken.append(batch_id)
        return taken

    async def batch(self, batch_id: str) -> Batch:
        collect = _Collect()
        for (token, counter), totals in self._batches.get(batch_id, {}).items():
            for field, amount in totals.items():
                collect.add(counter, field, amount, collect.day(token))
        return collect.batch(batch_id)

    async def drop(self, batch_id: str) -> None:
        self._batches.pop(batch_id, None)

    async def flush_lock(self, ttl_s: float) -> str | None:
        if self._locked:
            return None
        self._locked = True
        return "memory"

    async def renew(self, token: str, ttl_s: float) -> bool:
        return self._locked

    async def release(self, token: str) -> None:
        self._locked = False


# KEYS: the set of days, the set of batches. ARGV: the live key prefix, the batch key
# prefix, the flush's id, the number of shards. Renames every pending hash into a batch.
_TAKE = """
local taken = {}
for _, day in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for shard = 0, tonumber(ARGV[4]) - 1 do
    local live = ARGV[1] .. day .. ':' .. shard
    if redis.call('EXISTS', live) == 1 then
      local batch = ARGV[3] .. '.' .. day .. '.' .. shard
      redis.call('RENAME', live, ARGV[2] .. batch)
      redis.call('SADD', KEYS[2], batch)
      table.insert(taken, batch)
    end
  end
end
redis.call('DEL', KEYS[1])
return taken
"""

# Each counter's pending totals (views, likes, comments), every day, live and in flight.
# Before it: the set of days and the set of batches as KEYS[1] and KEYS[2], the live and
# batch key prefixes as ARGV[1] and ARGV[2].
_SUMS = """
local days = redis.call('SMEMBERS', KEYS[1])
local inflight = {}
for _, batch in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local shard = string.match(batch, '%.(%d+)$')
  inflight[shard] = inflight[shard] or {}
  table.insert(inflight[shard], ARGV[2] .. batch)
end
local function sums(shard, counter)
  local names = {counter .. '|views', counter .. '|likes', counter .. '|comments'}
  local sources = {}
  for _, day in ipairs(days) do table.insert(sources, ARGV[1] .. day .. ':' .. shard) end
  for _, key in ipairs(inflight[shard] or {}) do table.insert(sources, key) end
  local found = {0, 0, 0}
  for _, key in ipairs(sources) do
    local values = redis.call('HMGET', key, unpack(names))
    for f = 1, 3 do found[f] = found[f] + (tonumber(values[f]) or 0) end
  end
  return found
end
"""

# ARGV after the prefixes: a shard and a counter per counter.
_PENDING = (
    _SUMS
    + """
local out = {}
for i = 3, #ARGV, 2 do table.insert(out, sums(ARGV[i], ARGV[i + 1])) end
return out
"""
)

# ARGV after the prefixes: the number of deltas; the day, shard, counter, field and amount
# of each, recorded (as ``add`` would); then a shard and a counter per counter to read.
_ADD_AND_READ = (
    _SUMS
    + """
local at = 4
for _ = 1, tonumber(ARGV[3]) do
  local day = ARGV[at]
  local key = ARGV[1] .. day .. ':' .. ARGV[at + 1]
  redis.call('HINCRBY', key, ARGV[at + 2] .. '|' .. ARGV[at + 3], ARGV[at + 4])
  if redis.call('SADD', KEYS[1], day) == 1 then table.insert(days, day) end
  at = at + 5
end
local out = {}
for i = at, #ARGV, 2 do table.insert(out, sums(ARGV[i], ARGV[i + 1])) end
return out
"""
)

# KEYS: the set of days, the set of batches. ARGV: the live and batch key prefixes, then a
# shard and a counter per song. For each song, its pending deltas per day, flat:
# day, views, likes, comments, day, ...
_DAILY = """
local days = redis.call('SMEMBERS', KEYS[1])
local inflight = {}
for _, batch in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local day, shard = string.match(batch, '^[^.]+%.([^.]+)%.(%d+)$')
  if day then
    inflight[shard] = inflight[shard] or {}
    table.insert(inflight[shard], {day, ARGV[2] .. batch})
  end
end
local out = {}
for i = 3, #ARGV, 2 do
  local shard, counter = ARGV[i], ARGV[i + 1]
  local names = {counter .. '|views', counter .. '|likes', counter .. '|comments'}
  local sources = {}
  for _, day in ipairs(days) do table.insert(sources, {day, ARGV[1] .. day .. ':' .. shard}) end
  for _, source in ipairs(inflight[shard] or {}) do table.insert(sources, source) end
  local found = {}
  for _, source in ipairs(sources) do
    local values = redis.call('HMGET', source[2], unpack(names))
    if values[1] or values[2] or values[3] then
      table.insert(found, source[1])
      for f = 1, 3 do table.insert(found, tonumber(values[f]) or 0) end
    end
  end
  table.insert(out, found)
end
return out
"""

# KEYS: the marks. ARGV: the time before which a mark may go, then the counters.
_UNMARK = """
local cutoff = tonumber(ARGV[1])
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < cutoff then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def _found(ids: list[uuid.UUID], rows: list[list[int]]) -> dict[uuid.UUID, Totals]:
    """The scripts' sums, one row per id, as ``pending`` answers them."""
    return {
        item: dict(zip(FIELDS, (int(v) for v in sums), strict=True))
        for item, sums in zip(ids, rows, strict=True)
        if any(sums)
    }


def shard_of(counter: str) -> int:
    return zlib.crc32(counter.encode()) % SHARDS


class RedisCounters(Counters):
    """Shared by every process through Redis."""

    def __init__(self, url: str, namespace: str) -> None:
        self._redis = connect(url)
        self._live = f"{namespace}:ctr:"
        self._days = f"{namespace}:ctr:days"
        self._batch = f"{namespace}:ctrb:"
        self._batches = f"{namespace}:ctrb"
        self._plays = f"{namespace}:play:"
        self._lock = f"{namespace}:ctr-flush"
        self._marks = f"{namespace}:ctr:marks"
        self._generation = f"{namespace}:ctr:gen"
        self._take = self._redis.register_script(_TAKE)
        self._pending = self._redis.register_script(_PENDING)
        self._add_and_read = self._redis.register_script(_ADD_AND_READ)
        self._release = self._redis.register_script(_RELEASE)
        self._daily = self._redis.register_script(_DAILY)
        self._unmark = self._redis.register_script(_UNMARK)
        self._renew = self._redis.register_script(_RENEW)

    async def add(self, deltas: Iterable[Delta]) -> None:
        await self._add(deltas, mark=False)

    async def add_marked(self, deltas: Sequence[Delta]) -> None:
        # One round trip for both.
        await self._add(deltas, mark=True)

    async def _add(self, deltas: Iterable[Delta], *, mark: bool) -> None:
        items = list(deltas)
        async with self._redis.pipeline(transaction=True) as pipe:
            if mark and items:
                now = time.time()
                pipe.zadd(self._marks, {f"{d.kind}:{d.id}": now for d in items}, gt=True)
            days = set()
            for delta in items:
                counter = f"{delta.kind}:{delta.id}"
                day = _day_token(delta)
                days.add(day)
                key = f"{self._live}{day}:{shard_of(counter)}"
                pipe.hincrby(key, f"{counter}|{delta.field}", delta.amount)
            if days:
                pipe.sadd(self._days, *days)
            await pipe.execute()

    async def add_and_read(
        self, deltas: Sequence[Delta], kind: Kind, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Totals]:
        args: list[str | int] = [self._live, self._batch, len(deltas)]
        for delta in deltas:
            counter = f"{delta.kind}:{delta.id}"
            args += [_day_token(delta), shard_of(counter), counter, delta.field, delta.amount]
        order = list(ids)
        args += self._read_args(kind, order)
        rows = await self._add_and_read(keys=[self._days, self._batches], args=args)
        return _found(order, rows)

    async def pending(self, kind: Kind, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Totals]:
        if not ids:
            return {}
        order = list(ids)
        args = [self._live, self._batch, *self._read_args(kind, order)]
        rows = await self._pending(keys=[self._days, self._batches], args=args)
        return _found(order, rows)

    @staticmethod
    def _read_args(kind: Kind, ids: list[uuid.UUID]) -> list[str | int]:
        args: list[str | int] = []
        for item in ids:
            counter = f"{kind}:{item}"
            args += [shard_of(counter), counter]
        return args

    async def pending_days(self, song_id: uuid.UUID) -> dict[date, Totals]:
        counter = f"{SONG}:{song_id}"
        shard = str(shard_of(counter))
        names = [f"{counter}|{field}" for field in FIELDS]
        sources = [(day, f"{self._live}{day}:{shard}") for day in await self._members(self._days)]
        for batch_id in await self.unfinished():
            _, day, of = batch_id.split(".")
            if of == shard:
                sources.append((day, self._batch + batch_id))
        collect = _Collect()
        for day, key in sources:
            values = await self._redis.hmget(key, names)
            for field, value in zip(FIELDS, values, strict=True):
                collect.add(counter, field, int(value or 0), collect.day(day))
        return collect.batch().days_of(song_id)

    async def pending_daily(
        self, song_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, dict[date, Totals]]:
        if not song_ids:
            return {}
        order = list(song_ids)
        args = [self._live, self._batch, *self._read_args(SONG, order)]
        rows = await self._daily(keys=[self._days, self._batches], args=args)
        collect = _Collect()
        for song_id, flat in zip(order, rows, strict=True):
            counter = f"{SONG}:{song_id}"
            for at in range(0, len(flat), 4):
                day = collect.day(_text(flat[at]))
                for field, value in zip(FIELDS, flat[at + 1 : at + 4], strict=True):
                    collect.add(counter, field, int(value), day)
        found: dict[uuid.UUID, dict[date, Totals]] = {}
        for (song_id, day), totals in collect.batch().daily.items():
            if any(totals.values()):
                found.setdefault(song_id, {})[day] = totals
        return found

    async def mark(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        if ids:
            now = time.time()
            await self._redis.zadd(self._marks, {f"{kind}:{item}": now for item in ids}, gt=True)

    async def marked(self, limit: int) -> dict[Counter, float]:
        found: dict[Counter, float] = {}
        rows = await self._redis.zrange(self._marks, 0, limit - 1, withscores=True)
        for name, score in cast(list[tuple[bytes, float]], rows):
            kind, _, raw_id = _text(name).partition(":")
            if kind in (SONG, COMMENT):
                found[(SONG if kind == SONG else COMMENT, uuid.UUID(raw_id))] = float(score)
        return found

    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        names = [f"{kind}:{item}" for kind, item in counters]
        for start in range(0, len(names), 1000):
            await self._unmark(keys=[self._marks], args=[before, *names[start : start + 1000]])

    async def intact(self) -> bool:
        return bool(await self._redis.exists(self._generation))

    async def stamp(self) -> bool:
        return bool(await self._redis.set(self._generation, new_hex(), nx=True))

    async def peek(self) -> dict[tuple[Kind, uuid.UUID], Totals]:
        collect = _Collect()
        for day in await self._members(self._days):
            for shard in range(SHARDS):
                async for name, value in self._redis.hscan_iter(
                    f"{self._live}{day}:{shard}", count=1000
                ):
                    counter, _, field = _text(name).partition("|")
                    collect.add(counter, field, int(value), collect.day(day))
        return collect.batch().totals

    async def first_play(self, song_id: uuid.UUID, user_id: uuid.UUID, window_s: int) -> bool:
        key = f"{self._plays}{song_id.hex}:{user_id.hex}"
        return bool(await self._redis.set(key, 1, nx=True, ex=window_s))

    async def _members(self, key: str) -> list[str]:
        return sorted(_text(m) for m in await self._redis.smembers(key))

    async def unfinished(self) -> list[str]:
        return await self._members(self._batches)

    async def take(self, max_counters: int) -> list[str]:
        taken = await self._take(
            keys=[self._days, self._batches], args=[self._live, self._batch, new_hex(), SHARDS]
        )
        return [_text(batch) for batch in taken]

    async def batch(self, batch_id: str) -> Batch:
        raw = await self._redis.hgetall(self._batch + batch_id)
        collect = _Collect()
        day = collect.day(batch_id.split(".")[1])
        for name, value in raw.items():
            counter, _, field = _text(name).partition("|")
            collect.add(counter, field, int(value), day)
        return collect.batch(batch_id)

    async def drop(self, batch_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._batch + batch_id)
            pipe.srem(self._batches, batch_id)
            await pipe.execute()

    async def flush_lock(self, ttl_s: float) -> str | None:
        token = new_hex()
        locked = await self._redis.set(self._lock, token, nx=True, px=int(ttl_s * 1000))
        return token if locked else None

    async def renew(self, token: str, ttl_s: float) -> bool:
        return bool(await self._renew(keys=[self._lock], args=[token, int(ttl_s * 1000)]))

    async def release(self, token: str) -> None:
        await self._release(keys=[self._lock], args=[token])

    async def close(self) -> None:
        await self._redis.aclose()


def build_counters(settings: Settings) -> Counters:
    if settings.redis_url:
        return RedisCounters(settings.redis_url, settings.redis_namespace)
    return MemoryCounters()
