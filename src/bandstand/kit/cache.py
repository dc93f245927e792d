"""A small in-process cache of recent answers, for reads everyone shares."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from bandstand.observability.metrics import CACHE

T = TypeVar("T")

# What waiters are given when the computation they waited for failed.
_FAILED: Any = object()


class RecentAnswers:
    """Up to ``size`` answers, each kept for ``ttl_s`` seconds (0 keeps nothing).

    Meant for answers that are the same for every caller and cheap to be a moment late,
    like the newest songs: a process clears it when it changes what they show, and other
    processes catch up within ``ttl_s``. When an answer expires, one caller computes it
    again and the others arriving meanwhile wait for that one, rather than all of them
    asking the database at once — or, with ``stale_while_refreshing``, are given the
    expired answer until the new one is there, so a hot answer never makes anyone wait.
    """

    def __init__(
        self, ttl_s: float, size: int = 256, *, stale_while_refreshing: bool = False
    ) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._stale_ok = stale_while_refreshing
        # key -> (expires at, answer). Expired answers stay until replaced or pushed out,
        # to be given out while their successor is computed (when stale_ok).
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        # key -> (generation it started in, its answer to come): joined only by callers
        # of the same generation (an answer begun before a change is not theirs).
        self._pending: dict[Hashable, tuple[int, asyncio.Future[Any]]] = {}
        # Bumped by clear(): an answer computed before a change must not be kept after it.
        self._generation = 0

    async def fetch(
        self, key: Hashable, compute: Callable[[], Awaitable[T]], *, ttl_s: float | None = None
    ) -> T:
        """The kept answer for ``key``, or ``compute()``'s, kept for the next callers
        ``ttl_s`` seconds (by default the cache's)."""
        ttl_s = self._ttl_s if ttl_s is None else ttl_s
        if ttl_s <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            CACHE.labels("hit").inc()
            kept: T = entry[1]
            return kept
        started = self._pending.get(key)
        waiting = started[1] if started and started[0] == self._generation else None
        # Waiting for another caller's answer, or given the expired one meanwhile, is a
        # hit: only the caller that computes asks the database.
        CACHE.labels("hit" if waiting is not None else "miss").inc()
        if waiting is not None:
            if entry is not None and self._stale_ok:
                # Expired, with its successor on the way. clear() drops every entry, so
                # this is never an answer from before a change.
                kept = entry[1]
                return kept
            # shield: a caller that goes away must not cancel the answer others wait for.
            fresh: T = await asyncio.shield(waiting)
            return fresh if fresh is not _FAILED else await compute()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        generation, value = self._generation, _FAILED
        mine = self._pending[key] = (generation, future)
        try:
            value = await compute()
            if generation == self._generation:
                self._put(key, ttl_s, value)
            return value
        finally:
            # On failure the waiters get _FAILED and compute for themselves.
            if self._pending.get(key) is mine:  # not one begun after a change meanwhile
                del self._pending[key]
            future.set_result(value)

    def _put(self, key: Hashable, ttl_s: float, value: Any) -> None:
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    async def clear(self) -> None:
        """Forget everything (async so a transaction's after-commit hook can call it)."""
        self._generation += 1
        self._entries.clear()
