"""The counter store in Redis, when ``BANDSTAND_REDIS_URL`` is set: shared by every
process, so any of them may flush.

Layout, under the namespace: the counters are spread over ``SHARDS`` hashes per day by a
hash of their name, so that taking a batch is one ``RENAME`` (constant time, atomic) and
a batch holds one day's deltas of about a ``SHARDS``-th of the pending counters.

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
  data (emptied, or restarted without persistence), and the counters are rebuilt. While
  a rebuild runs it is that rebuild's lease (renewed, with an expiry), made permanent
  only once the rebuild committed: a rebuild that dies leaves it to expire.
- ``ctr-flush`` — the flush lock, a lease its holder renews.

A flush reads only the batches it took (``HGETALL`` of one hash each); nothing scans the
keyspace. The scripts reach keys they are not given, so Bandstand expects one Redis (or a
primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import cast

from bandstand.engagement.counters import (
    COMMENT,
    FIELDS,
    SONG,
    Batch,
    BatchBuilder,
    Counter,
    Counters,
    Delta,
    Kind,
    Totals,
    day_token,
)
from bandstand.kit.ids import new_hex
from bandstand.kit.redisclient import connect

SHARDS = 64


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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

_SEAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PERSIST', KEYS[1]) end
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
        self._seal = self._redis.register_script(_SEAL)

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
                day = day_token(delta)
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
            args += [day_token(delta), shard_of(counter), counter, delta.field, delta.amount]
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
        collect = BatchBuilder()
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
        collect = BatchBuilder()
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

    async def stamp(self, ttl_s: float) -> str | None:
        token = new_hex()
        claimed = await self._redis.set(self._generation, token, nx=True, px=int(ttl_s * 1000))
        return token if claimed else None

    async def renew_stamp(self, token: str, ttl_s: float) -> bool:
        return bool(await self._renew(keys=[self._generation], args=[token, int(ttl_s * 1000)]))

    async def seal(self, token: str) -> None:
        await self._seal(keys=[self._generation], args=[token])

    async def unstamp(self, token: str) -> None:
        await self._release(keys=[self._generation], args=[token])

    async def peek(self) -> dict[tuple[Kind, uuid.UUID], Totals]:
        collect = BatchBuilder()
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
        collect = BatchBuilder()
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
