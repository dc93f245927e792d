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
- ``ctr:marks`` and ``ctr:marks:n`` — the counters (``<kind>:<id>``) changed lately: a
  sorted set scored by the time of the latest change, and a hash of how many changes are
  still on their way. One is added before a change commits and taken away with its
  delta, in the same script, so one left long after is a change whose delta was lost (a
  killed process, Redis unreachable): that counter is recounted from its rows
  (``flush.py``), and the flush forgets the rest once settled.
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
    Mark,
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

# Settling marks: ``settle(counter)`` takes one outstanding change away, and forgets the
# mark when none is left; a mark the store no longer has (recounted meanwhile) stays gone.
# KEYS[3] and KEYS[4]: the marks' sorted set and hash.
_SETTLE_FN = """
local function settle(counter, now)
  redis.call('ZADD', KEYS[3], 'GT', now, counter)
  local outstanding = tonumber(redis.call('HGET', KEYS[4], counter))
  if not outstanding then return end
  if outstanding > 1 then
    redis.call('HINCRBY', KEYS[4], counter, -1)
  else
    redis.call('HDEL', KEYS[4], counter)
  end
end
"""

# Recording deltas. KEYS: the set of days, the set of batches, the marks (sorted set,
# hash). ARGV: the live key prefix, the batch key prefix, the number of deltas; the day,
# shard, counter, field and amount of each; whether to mark (1) their counters or settle
# them (0), the time, then the counters to mark or settle. What follows reads counters
# (``_SUMS``).
_RECORD = """
local at = 4
for _ = 1, tonumber(ARGV[3]) do
  local day = ARGV[at]
  local key = ARGV[1] .. day .. ':' .. ARGV[at + 1]
  redis.call('HINCRBY', key, ARGV[at + 2] .. '|' .. ARGV[at + 3], ARGV[at + 4])
  if redis.call('SADD', KEYS[1], day) == 1 then table.insert(days, day) end
  at = at + 5
end
local marking = ARGV[at] == '1'
local now = ARGV[at + 1]
local count = tonumber(ARGV[at + 2])
at = at + 3
for i = at, at + count - 1 do
  if marking then
    redis.call('HINCRBY', KEYS[4], ARGV[i], 1)
    redis.call('ZADD', KEYS[3], 'GT', now, ARGV[i])
  else
    settle(ARGV[i], now)
  end
end
at = at + count
"""

# KEYS as ``_RECORD``'s. ARGV: the time, then the counters whose changes arrived without
# a delta.
_SETTLE = (
    _SETTLE_FN
    + """
for i = 2, #ARGV do settle(ARGV[i], ARGV[1]) end
return 0
"""
)

# KEYS: the marks (sorted set, hash). ARGV: the time from which a change may have been in
# flight during a rebuild. One more change outstanding for each mark changed since.
_HEAL = """
local touched = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
for _, counter in ipairs(touched) do redis.call('HINCRBY', KEYS[2], counter, 1) end
return #touched
"""

# KEYS: the marks (sorted set, hash). ARGV: the time a renewed mark is at or after, then
# the counters just recounted.
_UNMARK = """
local cutoff = tonumber(ARGV[1])
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) >= cutoff then
    redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
return 0
"""

# ``_RECORD``, then a shard and a counter per counter to read (ARGV, after those it
# recorded): the pending totals of each.
_ADD_AND_READ = (
    _SUMS
    + _SETTLE_FN
    + _RECORD
    + """
local out = {}
for i = at, #ARGV, 2 do table.insert(out, sums(ARGV[i], ARGV[i + 1])) end
return out
"""
)

# ``_RECORD`` alone.
_ADD = "local days = {}\n" + _SETTLE_FN + _RECORD + "return 0\n"

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
        self._outstanding = f"{namespace}:ctr:marks:n"
        self._generation = f"{namespace}:ctr:gen"
        self._take = self._redis.register_script(_TAKE)
        self._pending = self._redis.register_script(_PENDING)
        self._add = self._redis.register_script(_ADD)
        self._add_and_read = self._redis.register_script(_ADD_AND_READ)
        self._settle = self._redis.register_script(_SETTLE)
        self._heal = self._redis.register_script(_HEAL)
        self._record_keys = [self._days, self._batches, self._marks, self._outstanding]
        self._release = self._redis.register_script(_RELEASE)
        self._daily = self._redis.register_script(_DAILY)
        self._unmark = self._redis.register_script(_UNMARK)
        self._renew = self._redis.register_script(_RENEW)
        self._seal = self._redis.register_script(_SEAL)

    async def add(self, deltas: Iterable[Delta]) -> None:
        items = list(deltas)
        if items:
            args = self._record_args(items, mark=False)
            await self._add(keys=self._record_keys, args=args)

    async def add_marked(self, deltas: Sequence[Delta]) -> None:
        if deltas:
            await self._add(keys=self._record_keys, args=self._record_args(deltas, mark=True))

    def _record_args(self, deltas: Sequence[Delta], *, mark: bool) -> list[str | int | float]:
        """``_RECORD``'s arguments: record ``deltas``, and mark or settle their counters
        (each once, however many of its deltas there are)."""
        args: list[str | int | float] = [self._live, self._batch, len(deltas)]
        counters = []
        for delta in deltas:
            counter = f"{delta.kind}:{delta.id}"
            counters.append(counter)
            args += [day_token(delta), shard_of(counter), counter, delta.field, delta.amount]
        distinct = list(dict.fromkeys(counters))
        return [*args, 1 if mark else 0, time.time(), len(distinct), *distinct]

    async def add_and_read(
        self, deltas: Sequence[Delta], kind: Kind, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Totals]:
        order = list(ids)
        args = [*self._record_args(deltas, mark=False), *self._read_args(kind, order)]
        rows = await self._add_and_read(keys=self._record_keys, args=args)
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
            names = [f"{kind}:{item}" for item in ids]
            now = time.time()
            async with self._redis.pipeline(transaction=True) as pipe:
                for name in names:
                    pipe.hincrby(self._outstanding, name, 1)
                pipe.zadd(self._marks, dict.fromkeys(names, now), gt=True)
                await pipe.execute()

    async def settle(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        if ids:
            names = [f"{kind}:{item}" for item in ids]
            await self._settle(keys=self._record_keys, args=[time.time(), *names])

    async def marked(self, limit: int, before: float) -> dict[Counter, Mark]:
        found_rows = await self._redis.zrangebyscore(
            self._marks, "-inf", f"({before}", start=0, num=limit, withscores=True
        )
        rows = cast(list[tuple[bytes, float]], found_rows)
        if not rows:
            return {}
        counts = await self._redis.hmget(self._outstanding, [name for name, _ in rows])
        found: dict[Counter, Mark] = {}
        for (name, score), outstanding in zip(rows, counts, strict=True):
            kind, _, raw_id = _text(name).partition(":")
            if kind in (SONG, COMMENT):
                counter = (SONG if kind == SONG else COMMENT, uuid.UUID(raw_id))
                found[counter] = Mark(float(score), int(outstanding or 0))
        return found

    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        names = [f"{kind}:{item}" for kind, item in counters]
        for start in range(0, len(names), 1000):
            await self._unmark(
                keys=[self._marks, self._outstanding], args=[before, *names[start : start + 1000]]
            )

    async def heal(self, since: float) -> int:
        return int(await self._heal(keys=[self._marks, self._outstanding], args=[since]))

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

    async def pending_count(self) -> int:
        days = await self._members(self._days)
        if not days:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for day in days:
                for shard in range(SHARDS):
                    pipe.hlen(f"{self._live}{day}:{shard}")
            return sum(int(n) for n in await pipe.execute())

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
