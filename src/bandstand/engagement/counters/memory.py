"""The counter store in this process's memory: the embedded default, where one process
serves and flushes. It lives and dies with the process, which writes what it holds when
it stops and rebuilds at a start after a crash (``flush.counters_kept``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date

from bandstand.engagement.counters import (
    COMMENT,
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


class MemoryCounters(Counters):
    """This process's own: the embedded default, where one process serves and flushes."""

    def __init__(self) -> None:
        # (day token, counter) -> totals, like Redis's hashes without the shards.
        self._live: dict[tuple[str, str], Totals] = {}
        self._batches: dict[str, dict[tuple[str, str], Totals]] = {}
        self._plays: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
        self._marks: dict[Counter, Mark] = {}
        self._locked = False

    async def add(self, deltas: Iterable[Delta]) -> None:
        items = list(deltas)
        self._record(items)
        for kind in (SONG, COMMENT):
            self._arrived(kind, {delta.id for delta in items if delta.kind == kind})

    async def add_marked(self, deltas: Sequence[Delta]) -> None:
        for kind in (SONG, COMMENT):
            await self.mark(kind, {delta.id for delta in deltas if delta.kind == kind})
        self._record(deltas)

    def _record(self, deltas: Iterable[Delta]) -> None:
        for delta in deltas:
            totals = self._live.setdefault((day_token(delta), f"{delta.kind}:{delta.id}"), {})
            totals[delta.field] = totals.get(delta.field, 0) + delta.amount

    def _collect(self, counter: str) -> BatchBuilder:
        """A counter's pending deltas, live and in batches being flushed."""
        collect = BatchBuilder()
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
        collect = BatchBuilder()
        for (token, counter), totals in self._live.items():
            for field, amount in totals.items():
                collect.add(counter, field, amount, collect.day(token))
        return collect.batch().totals

    async def pending_count(self) -> int:
        return sum(len(totals) for totals in self._live.values())

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
            outstanding = (
                self._marks[(kind, item)].outstanding if (kind, item) in self._marks else 0
            )
            self._marks[(kind, item)] = Mark(now, outstanding + 1)

    async def settle(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        self._arrived(kind, ids)

    def _arrived(self, kind: Kind, ids: Collection[uuid.UUID]) -> None:
        """Changes of these counters arrived: one less outstanding each (never below
        none: a mark recounted meanwhile owes nothing), the latest change now."""
        now = time.time()
        for item in ids:
            found = self._marks.get((kind, item))
            self._marks[(kind, item)] = Mark(now, max(0, found.outstanding - 1) if found else 0)

    async def marked(self, limit: int, before: float) -> dict[Counter, Mark]:
        settled = [(counter, mark) for counter, mark in self._marks.items() if mark.at < before]
        return dict(sorted(settled, key=lambda pair: pair[1].at)[:limit])

    async def unmark(self, counters: Collection[Counter], before: float) -> None:
        for counter in counters:
            mark = self._marks.get(counter)
            if mark is None or mark.at < before:
                self._marks.pop(counter, None)
            else:
                self._marks[counter] = Mark(mark.at, mark.outstanding + 1)

    async def heal(self, since: float) -> int:
        touched = [counter for counter, mark in self._marks.items() if mark.at >= since]
        for counter in touched:
            mark = self._marks[counter]
            self._marks[counter] = Mark(mark.at, mark.outstanding + 1)
        return len(touched)

    async def intact(self) -> bool:
        # It lives and dies with this process, which rebuilds at a start after a crash.
        return True

    async def stamp(self, ttl_s: float) -> str | None:
        return None

    async def renew_stamp(self, token: str, ttl_s: float) -> bool:
        return False

    async def seal(self, token: str) -> None:
        return None

    async def unstamp(self, token: str) -> None:
        return None

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
        collect = BatchBuilder()
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
