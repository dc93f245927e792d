"""Rate limits: in-process when embedded, Redis when shared.

Named limits (``check``/``hit``) go through the ``limits`` library's moving window.
Budgets spent on every write (``spend``) are a cell-rate algorithm (GCRA) instead: one
number per key, and every key of a request checked and spent together in one step. On
Redis that step is a Lua call, and the requests spending at the same moment go in one
call together (``kit/batching.py``): at rest a request pays one round trip, under load
many requests share one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.limits import RateLimitItem
from limits.util import parse
from redis.asyncio import Redis

from bandstand.kit.batching import Batcher
from bandstand.kit.redisclient import client_options, connect


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


@dataclass(frozen=True, slots=True)
class Rate:
    """``amount`` hits at once, then one more every ``period_ms / amount``."""

    amount: int
    period_ms: int

    @classmethod
    def parse(cls, limit: str) -> Rate:
        item = parse(limit)
        return cls(item.amount, item.get_expiry() * 1000)

    @property
    def interval_ms(self) -> int:
        return max(1, self.period_ms // max(1, self.amount))


# Requests, in the order they came, each spending some budgets. KEYS: every request's
# budgets, one after another; ARGV: the number of requests, how many budgets each spends,
# then each budget's interval and period (ms). A key holds the time (ms, Redis's clock,
# so replicas' clocks do not matter) its budget is next empty at: a hit fits when that
# time, one interval on, is at most a period ahead. A request spends every budget of its
# own or none; its answer is 0, or the ms until all of them have room.
_SPEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local requests = tonumber(ARGV[1])
local rates = 1 + requests
local waits, done = {}, 0
for r = 1, requests do
  local count = tonumber(ARGV[1 + r])
  local wait, next = 0, {}
  for i = 1, count do
    local n = done + i
    local interval, period = tonumber(ARGV[rates + 2 * n - 1]), tonumber(ARGV[rates + 2 * n])
    local tat = math.max(tonumber(redis.call('GET', KEYS[n]) or now), now) + interval
    wait = math.max(wait, tat - now - period)
    next[i] = tat
  end
  if wait <= 0 then
    wait = 0
    for i = 1, count do
      redis.call('SET', KEYS[done + i], next[i], 'PX', next[i] - now)
    end
  end
  waits[r] = wait
  done = done + count
end
return waits
"""


def _now_ms() -> int:
    """Whole milliseconds, as the script reads Redis's clock: in floats, a fresh budget's
    first hit could come out a rounding error over its period, and be refused."""
    return time.monotonic_ns() // 1_000_000


class _MemoryBudgets:
    """The same algorithm in this process (the embedded default has one process)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._swept = _now_ms()

    def spend(self, budgets: Sequence[tuple[Rate, str]]) -> float:
        now = _now_ms()
        if now - self._swept > 60_000:
            # Keys whose budget is full again hold nothing worth keeping.
            self._next = {k: v for k, v in self._next.items() if v > now}
            self._swept = now
        wait, tats = 0, []
        for rate, key in budgets:
            tat = max(self._next.get(key, now), now) + rate.interval_ms
            wait = max(wait, tat - now - rate.period_ms)
            tats.append(tat)
        if wait > 0:
            return wait
        for (_, key), tat in zip(budgets, tats, strict=True):
            self._next[key] = tat
        return 0.0

    def clear(self) -> None:
        self._next.clear()


class RateLimiter:
    """Named limits (``"5/10minutes"``) checked and spent against string keys."""

    def __init__(self, redis_url: str | None = None, prefix: str = "bandstand:rl") -> None:
        self.storage: Storage
        self._prefix = prefix
        self._redis: Redis | None = None
        self._memory = _MemoryBudgets()
        if redis_url:
            self._redis = connect(redis_url)
            self._spend_script = self._redis.register_script(_SPEND)
            self._spends = Batcher(self._spend_in_redis)
            uri = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # The pool must heal after a Redis restart like every other (kit/redisclient.py).
            self.storage = RedisStorage(
                uri, implementation="redispy", key_prefix=prefix, **client_options()
            )
        else:
            self.storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        if limit not in self._items:
            self._items[limit] = parse(limit)
        return self._items[limit]

    async def check(self, limit: str, *key: str) -> Verdict:
        """Whether one more hit fits, without spending it."""
        item = self._item(limit)
        if await self._limiter.test(item, *key):
            return Verdict(True, 0)
        stats = await self._limiter.get_window_stats(item, *key)
        return Verdict(False, int(stats.reset_time - time.time()) + 1)

    async def hit(self, limit: str, *key: str) -> Verdict:
        """Spend one hit; the verdict says whether it fitted."""
        item = self._item(limit)
        if await self._limiter.hit(item, *key):
            return Verdict(True, 0)
        stats = await self._limiter.get_window_stats(item, *key)
        return Verdict(False, int(stats.reset_time - time.time()) + 1)

    async def clear(self, limit: str, *key: str) -> None:
        self._stop_expiry()
        await self._limiter.clear(self._item(limit), *key)

    def _stop_expiry(self) -> None:
        """Stop the in-memory store's expiry task, if it runs: it reads keys that a
        clear or a reset deletes meanwhile, and dies on them with a KeyError logged as
        never retrieved. The store's next hit schedules it again."""
        timer = getattr(self.storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()

    async def spend(self, budgets: Sequence[tuple[Rate, str]]) -> Verdict:
        """Spend one hit of every budget (a rate and a key), or of none when one of them
        is empty: the verdict then says how long until all have room."""
        if self._redis is None:
            wait_ms = self._memory.spend(budgets)
        else:
            wait_ms = await self._spends(budgets)
        if wait_ms <= 0:
            return Verdict(True, 0)
        return Verdict(False, int(wait_ms // 1000) + 1)

    async def _spend_in_redis(self, requests: Sequence[Sequence[tuple[Rate, str]]]) -> list[float]:
        keys = [f"{self._prefix}:b:{key}" for budgets in requests for _, key in budgets]
        rates = [
            n
            for budgets in requests
            for rate, _ in budgets
            for n in (rate.interval_ms, rate.period_ms)
        ]
        args = [len(requests), *(len(budgets) for budgets in requests), *rates]
        waits = await self._spend_script(keys=keys, args=args)
        return [float(wait) for wait in waits]

    async def reset(self) -> None:
        self._stop_expiry()
        # The library's reset deletes every key under the prefix, the budgets' too.
        await self.storage.reset()
        self._memory.clear()

    async def close(self) -> None:
        if self._redis is not None:
            await self._spends.close()
            await self._redis.aclose()

    async def ping(self) -> bool:
        return await self.storage.check()
