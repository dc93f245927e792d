"""A small in-process cache of recent answers, for reads everyone shares."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class RecentAnswers:
    """Up to ``size`` answers, each kept for ``ttl_s`` seconds (0 keeps nothing).

    Meant for answers that are the same for every caller and cheap to be a moment late,
    like the newest songs: a process clears it when it changes what they show, and other
    processes catch up within ``ttl_s``. When an answer expires, one caller computes it
    again and the others arriving meanwhile wait for that one, rather than all of them
    asking the database at once.
    """

    def __init__(self, ttl_s: float, size: int = 256) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[bytes | None]] = {}
        # Bumped by clear(): an answer computed before a change must not be kept after it.
        self._generation = 0

    def _get(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def _put(self, key: Hashable, value: bytes) -> None:
        self._entries[key] = (time.monotonic() + self._ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    async def fetch(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The kept answer for ``key``, or ``compute()``'s, kept for the next callers."""
        if self._ttl_s <= 0:
            return await compute()
        value = self._get(key)
        if value is not None:
            return value
        waiting = self._pending.get(key)
        if waiting is not None:
            # shield: a caller that goes away must not cancel the answer others wait for.
            value = await asyncio.shield(waiting)
            return value if value is not None else await compute()
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        generation, value = self._generation, None
        try:
            value = await compute()
            if generation == self._generation:
                self._put(key, value)
            return value
        finally:
            # On failure the waiters get None and compute for themselves.
            del self._pending[key]
            future.set_result(value)

    async def clear(self) -> None:
        """Forget everything (async so a transaction's after-commit hook can call it)."""
        self._generation += 1
        self._entries.clear()
