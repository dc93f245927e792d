"""Rate limits over the ``limits`` library: in-process when embedded, Redis when shared."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from bandstand.kit.redisclient import client_options


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class RateLimiter:
    """Named limits (``"5/10minutes"``) checked and spent against string keys."""

    def __init__(self, redis_url: str | None = None, prefix: str = "bandstand:rl") -> None:
        self.storage: Storage
        if redis_url:
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
        await self._limiter.clear(self._item(limit), *key)

    async def reset(self) -> None:
        await self.storage.reset()

    async def ping(self) -> bool:
        return await self.storage.check()
