"""Moving pending counter deltas into the database, and rebuilding counters from the truth.

A flush takes batches from the counter store and applies each in one transaction that
also records the batch's id (``counter_batches``). A batch stays in the store until that
commit is done, so a flush that dies half-way leaves it for the next one, which applies
it unless its id is already recorded: each delta lands exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import DBAPIError

from bandstand.engagement import repository as repo
from bandstand.engagement.counters import COMMENT, COMMENTS, LIKES, SONG, VIEWS, Batch
from bandstand.kit.time import utcnow
from bandstand.runtime import Runtime

log = structlog.get_logger(__name__)

# Long enough for any flush; a flusher that dies holding it only delays the next one.
LOCK_TTL_S = 600.0
# A batch's id is kept this long after it is applied, for a flush resumed after a crash.
BATCH_MEMORY = timedelta(days=1)
APPLY_TRIES = 3
# How often a rebuild asks for the lock a flush holds.
LOCK_POLL_S = 0.2
# Batches written at once: the database's work runs on one core per connection.
WRITERS = 2


@dataclass(frozen=True)
class FlushReport:
    batches: int = 0
    counters: int = 0
    seconds: float = 0.0
    # Another process was flushing: this one did nothing.
    skipped: bool = False


async def flush_counters(rt: Runtime) -> FlushReport:
    """Apply every pending delta: first batches a crashed flush left, then new ones,
    ``counter_flush_batch`` counters at a time, until the store is empty. One flush at a
    time across every process sharing the store."""
    started = time.perf_counter()
    token = await rt.counters.flush_lock(LOCK_TTL_S)
    if token is None:
        return FlushReport(skipped=True)
    try:
        # A crashed flush's batches first, then everything pending now.
        batches = await rt.counters.unfinished()
        batches += await rt.counters.take(rt.settings.counter_flush_batch)
        counters = await _apply_all(rt, batches)
    finally:
        await rt.counters.release(token)
    report = FlushReport(len(batches), counters, time.perf_counter() - started)
    if batches:
        log.info(
            "counters_flushed", batches=len(batches), counters=counters, seconds=report.seconds
        )
    return report


async def _apply_all(rt: Runtime, batches: list[str]) -> int:
    """Apply batches, ``WRITERS`` at a time on PostgreSQL, one at a time on SQLite (one
    writer at a time). Batches taken together share no row, and each locks its rows in
    id order, so two never deadlock."""
    slots = asyncio.Semaphore(1 if rt.settings.is_embedded_database else WRITERS)

    async def apply(batch_id: str) -> int:
        async with slots:
            return await _apply(rt, batch_id)

    return sum(await asyncio.gather(*(apply(batch_id) for batch_id in batches)))


async def _apply(rt: Runtime, batch_id: str) -> int:
    batch = await rt.counters.batch(batch_id)
    for attempt in range(1, APPLY_TRIES + 1):
        try:
            await _write(rt, batch)
            break
        except DBAPIError:
            # A deadlock with a song being deleted, say: the batch is still whole in the
            # store, so trying again is safe; past the last try the next flush does.
            if attempt == APPLY_TRIES:
                raise
            log.warning("counter_batch_retried", batch=batch_id, attempt=attempt)
    await rt.counters.drop(batch_id)
    return len(batch)


async def _write(rt: Runtime, batch: Batch) -> None:
    songs = [
        (item, totals.get(VIEWS, 0), totals.get(LIKES, 0), totals.get(COMMENTS, 0))
        for (kind, item), totals in batch.totals.items()
        if kind == SONG
    ]
    comments = [
        (item, totals.get(LIKES, 0))
        for (kind, item), totals in batch.totals.items()
        if kind == COMMENT and totals.get(LIKES, 0)
    ]
    daily = [
        (item, day, totals.get(VIEWS, 0), totals.get(LIKES, 0), totals.get(COMMENTS, 0))
        for (item, day), totals in batch.daily.items()
    ]
    async with rt.sessionmaker() as session, session.begin():
        if not await repo.claim_batch(session, batch.id):
            return
        await repo.add_song_totals(session, songs)
        await repo.add_comment_likes(session, comments)
        await repo.add_daily(session, daily)
        await repo.forget_batches(session, utcnow() - BATCH_MEMORY)


async def rebuild_counters(rt: Runtime) -> FlushReport:
    """Recompute every counter from the truth tables, for after the counter store was
    lost (Redis emptied, or the embedded server killed). Pending deltas are flushed
    first; those that arrive while the counts are taken are subtracted, as the next
    flush adds them. Exact when no like or comment is in flight meanwhile; one that is
    may leave its counter one off until the next rebuild."""
    started = time.perf_counter()
    # A flush in progress finishes first; ask again now and then, not in a tight loop.
    # The lock may be another process's (Redis): there is no event to wait on.
    while (token := await rt.counters.flush_lock(LOCK_TTL_S)) is None:  # noqa: ASYNC110
        await asyncio.sleep(LOCK_POLL_S)
    try:
        batches = await rt.counters.unfinished()
        await _apply_all(rt, batches + await rt.counters.take(rt.settings.counter_flush_batch))
        async with rt.sessionmaker() as session, session.begin():
            await repo.recount(session)
            # Deltas recorded since the store was emptied are for rows the counts
            # above already include.
            songs, comments = await _still_pending(rt)
            await repo.add_song_totals(
                session, [(i, 0, -likes, -n) for i, (likes, n) in songs.items()]
            )
            await repo.add_comment_likes(session, [(i, -n) for i, n in comments.items()])
    finally:
        await rt.counters.release(token)
    report = FlushReport(seconds=time.perf_counter() - started)
    log.info("counters_rebuilt", seconds=report.seconds)
    return report


async def _still_pending(
    rt: Runtime,
) -> tuple[dict[uuid.UUID, tuple[int, int]], dict[uuid.UUID, int]]:
    """Likes and comment counts recorded in the store and not yet flushed."""
    songs: dict[uuid.UUID, tuple[int, int]] = {}
    comments: dict[uuid.UUID, int] = defaultdict(int)
    for (kind, item), totals in (await rt.counters.peek()).items():
        if kind == SONG:
            songs[item] = (totals.get(LIKES, 0), totals.get(COMMENTS, 0))
        else:
            comments[item] += totals.get(LIKES, 0)
    return songs, comments


@asynccontextmanager
async def counters_kept(rt: Runtime) -> AsyncIterator[None]:
    """Around a process that keeps its counter deltas in memory (the embedded default):
    it writes them when it stops, and marks that it did; a start without the mark
    follows a crash that lost some, so the counters are rebuilt first. With Redis the
    deltas outlive the process and the workers flush them."""
    if rt.settings.redis_url:
        yield
        return
    clean = rt.settings.data_dir / "counters-flushed"
    if not await asyncio.to_thread(clean.exists):
        # A first start, or a crash: either way the truth tables are what counts.
        log.info("counters_rebuild_at_start", reason="no clean stop recorded")
        await rebuild_counters(rt)
    await asyncio.to_thread(clean.unlink, missing_ok=True)
    yield
    await flush_counters(rt)
    await asyncio.to_thread(clean.touch)
