"""Moving pending counter deltas into the database, and keeping counters equal to the truth.

A flush takes batches from the counter store and applies each in one transaction that
also records the batch's id (``counter_batches``). A batch stays in the store until that
commit is done, so a flush that dies half-way leaves it for the next one, which applies
it unless its id is already recorded: each delta lands exactly once.

A delta can still be lost between the commit of its rows and its arrival in the store (a
killed process, Redis unreachable). So every change marks its counters in the store
before it commits, and its delta takes the mark away as it arrives; each flush recounts
from their rows (``counter = rows - pending``) only the counters with a change still
outstanding ``counter_settle_s`` after their latest one: what was lost, not what
changed. A store that lost everything (the marks too) is caught by its missing stamp,
and every counter is rebuilt (``heal_counters``, run before each periodic flush); the
counters changed while it counted are recounted once they settle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.config import Settings
from bandstand.engagement.counters import (
    COMMENT,
    COMMENTS,
    LIKES,
    SONG,
    VIEWS,
    Batch,
    Counters,
    Totals,
)
from bandstand.engagement.counters import repository as repo
from bandstand.kit.time import utcnow
from bandstand.observability import metrics

log = structlog.get_logger(__name__)

# The flush lock is a lease the flusher renews while it works: one that dies holding it
# (SIGKILL) delays the next flush by this much at most.
LOCK_TTL_S = 15.0
# In the embedded data folder: the last server to stop wrote its counters (``counters_kept``).
CLEAN_STOP_MARK = "counters-flushed"
# A batch's id is kept this long after it is applied, for a flush resumed after a crash.
BATCH_MEMORY = timedelta(days=1)
APPLY_TRIES = 3
# How often a rebuild asks for the lock a flush holds.
LOCK_POLL_S = 0.2
# Batches written at once: the database's work runs on one core per connection.
WRITERS = 2
# Marked counters recounted by one flush (the rest by the next), and per transaction.
RECOUNT_MAX = 10_000
RECOUNT_CHUNK = 500


class Flushing(Protocol):
    """What the flush works with: the counter store, the database, the settings. A
    ``Runtime`` has them; a job builds ``FlushParts`` from its own."""

    @property
    def counters(self) -> Counters: ...

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class FlushParts:
    counters: Counters
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings


@dataclass(frozen=True)
class FlushReport:
    batches: int = 0
    counters: int = 0
    seconds: float = 0.0
    # Marked counters recounted from their rows.
    recounted: int = 0
    # Another process was flushing: this one did nothing.
    skipped: bool = False


async def flush_counters(rt: Flushing) -> FlushReport:
    """Apply every pending delta: first batches a crashed flush left, then new ones,
    ``counter_flush_batch`` counters at a time, until the store is empty; then recount
    the marked counters from their rows. One flush at a time across every process
    sharing the store."""
    started = time.perf_counter()
    async with _locked(rt, wait=False) as locked:
        if not locked:
            return FlushReport(skipped=True)
        # A crashed flush's batches first, then everything pending now.
        batches = await rt.counters.unfinished()
        batches += await rt.counters.take(rt.settings.counter_flush_batch)
        counters = await _apply_all(rt, batches)
        recounted = await _recount_marked(rt)
    report = FlushReport(len(batches), counters, time.perf_counter() - started, recounted)
    store = type(rt.counters).__name__
    metrics.FLUSHED.labels(store).inc(counters + recounted)
    metrics.LAST_FLUSH.labels(store).set_to_current_time()
    if batches or recounted:
        log.info(
            "counters_flushed",
            batches=len(batches),
            counters=counters,
            recounted=recounted,
            seconds=report.seconds,
        )
    return report


class LeaseLost(Exception):
    """A lease (the flush lock, a rebuild's claim) expired while its holder worked: the
    holder's work was cancelled, as another process may now be doing it."""


@asynccontextmanager
async def _locked(rt: Flushing, *, wait: bool) -> AsyncIterator[bool]:
    """Hold the flush lock (one flush or rebuild at a time across every process sharing
    the store), renewing its lease while the body runs; whether it is held. ``wait``:
    until a flush in progress is done, else give up at once. A lease lost meanwhile
    cancels the body (``LeaseLost``): two flushes must never run together."""
    # The lock may be another process's (Redis): there is no event to wait on, so ask
    # again now and then, not in a tight loop.
    while (token := await rt.counters.flush_lock(LOCK_TTL_S)) is None:
        if not wait:
            yield False
            return
        await asyncio.sleep(LOCK_POLL_S)
    try:
        async with _leased(lambda: rt.counters.renew(token, LOCK_TTL_S), "counter_flush_lock"):
            yield True
    finally:
        await rt.counters.release(token)


@asynccontextmanager
async def _leased(renew: Callable[[], Awaitable[bool]], lease: str) -> AsyncIterator[None]:
    """Renew a lease every third of ``LOCK_TTL_S`` while the body runs; cancel the body
    and raise ``LeaseLost`` if the renewal finds the lease gone. A store that cannot be
    reached is asked again: the body's own calls to it fail as well."""
    body = asyncio.current_task()
    assert body is not None
    lost = False

    async def keep() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(LOCK_TTL_S / 3)
            try:
                held = await renew()
            except Exception:
                log.warning("lease_not_renewed", lease=lease, exc_info=True)
                continue
            if not held:
                log.warning("lease_lost", lease=lease)
                lost = True
                body.cancel()
                return

    keeper = asyncio.create_task(keep())
    try:
        yield
    except asyncio.CancelledError:
        if lost and body.uncancel() == 0:
            raise LeaseLost(lease) from None
        raise
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def heal_counters(rt: Flushing) -> bool:
    """If the counter store lost its data (Redis emptied, or restarted without its
    data), rebuild every counter from the truth; whether this process did. The first
    process to see the loss claims the rebuild with an expiring stamp, renewed while it
    rebuilds and made permanent once the rebuild committed; the others see the stamp. A
    rebuild that fails drops its claim, and one that is killed lets it expire: either
    way a later flush finds the store not intact and rebuilds."""
    if await rt.counters.intact():
        return False
    token = await rt.counters.stamp(LOCK_TTL_S)
    if token is None:
        return False
    log.warning("counter_store_lost", action="rebuilding every counter")
    try:
        async with _leased(
            lambda: rt.counters.renew_stamp(token, LOCK_TTL_S), "counter_rebuild_stamp"
        ):
            await rebuild_counters(rt)
    except BaseException:
        with contextlib.suppress(Exception):
            await rt.counters.unstamp(token)
        raise
    await rt.counters.seal(token)
    return True


async def _recount_marked(rt: Flushing) -> int:
    """Set each counter with a change outstanding for longer than ``counter_settle_s``
    (its delta lost, or the change never committed) to its rows minus what is pending
    for it; forget the marks settled by then. Runs under the flush lock, after the
    batches: nothing else writes counters meanwhile. Counters whose changes all arrived
    cost no query; how many were recounted."""
    started = time.time()
    # Only changes that had time to arrive: one younger may still be on its way.
    settled = started - rt.settings.counter_settle_s
    marks = await rt.counters.marked(RECOUNT_MAX, settled)
    due = [counter for counter, mark in marks.items() if mark.outstanding > 0]
    songs = [item for kind, item in due if kind == SONG]
    comments = [item for kind, item in due if kind == COMMENT]
    for start in range(0, len(songs), RECOUNT_CHUNK):
        await _recount_songs(rt, songs[start : start + RECOUNT_CHUNK])
    for start in range(0, len(comments), RECOUNT_CHUNK):
        await _recount_comments(rt, comments[start : start + RECOUNT_CHUNK])
    await rt.counters.unmark(list(marks), settled)
    return len(due)


async def _recount_songs(rt: Flushing, song_ids: list[uuid.UUID]) -> None:
    """Views, likes and comments of these songs from their rows, and their plays on the
    days a recent change can have landed on (today and yesterday, UTC)."""
    today = utcnow().date()
    days = [today - timedelta(days=1), today]
    async with rt.sessionmaker() as session, session.begin():
        truth = await repo.song_truth(session, song_ids)
        found = list(truth)
        if not found:
            return
        on_day = {day: await repo.plays_on(session, found, day) for day in days}
        with_row = {day: await repo.daily_rows_on(session, found, day) for day in days}
        pending = await rt.counters.pending(SONG, found)
        pending_daily = await rt.counters.pending_daily(found)
        await repo.set_song_totals(
            session,
            [
                (
                    item,
                    views - _of(pending, item, VIEWS),
                    likes - _of(pending, item, LIKES),
                    comments - _of(pending, item, COMMENTS),
                )
                for item, (views, likes, comments) in truth.items()
            ],
        )
        for day in days:
            plays = [
                (item, on_day[day].get(item, 0) - _on(pending_daily, item, day)) for item in found
            ]
            # A daily row only where there is one, or something to put in it.
            await repo.set_daily_plays(
                session, day, [(i, n) for i, n in plays if n or i in with_row[day]]
            )


async def _recount_comments(rt: Flushing, comment_ids: list[uuid.UUID]) -> None:
    async with rt.sessionmaker() as session, session.begin():
        truth = await repo.comment_likes_truth(session, comment_ids)
        pending = await rt.counters.pending(COMMENT, list(truth))
        await repo.set_comment_likes(
            session, [(item, n - _of(pending, item, LIKES)) for item, n in truth.items()]
        )


def _of(pending: dict[uuid.UUID, Totals], item: uuid.UUID, field: str) -> int:
    return pending.get(item, {}).get(field, 0)


def _on(daily: dict[uuid.UUID, dict[date, Totals]], item: uuid.UUID, day: date) -> int:
    return daily.get(item, {}).get(day, {}).get(VIEWS, 0)


async def _apply_all(rt: Flushing, batches: list[str]) -> int:
    """Apply batches, ``WRITERS`` at a time on PostgreSQL, one at a time on SQLite (one
    writer at a time). Batches taken together share no row, and each locks its rows in
    id order, so two never deadlock."""
    slots = asyncio.Semaphore(1 if rt.settings.is_embedded_database else WRITERS)

    async def apply(batch_id: str) -> int:
        async with slots:
            return await _apply(rt, batch_id)

    return sum(await asyncio.gather(*(apply(batch_id) for batch_id in batches)))


async def _apply(rt: Flushing, batch_id: str) -> int:
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


async def _write(rt: Flushing, batch: Batch) -> None:
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


async def rebuild_counters(rt: Flushing) -> FlushReport:
    """Recompute every counter from the truth tables, for after the counter store was
    lost (Redis emptied, or the embedded server killed). Pending deltas are flushed
    first; those that arrive while the counts are taken are subtracted, as the next
    flush adds them. A change in flight meanwhile may be counted twice or not at all:
    every counter changed from ``counter_settle_s`` before the rebuild until its end is
    recounted by a flush once its changes have settled."""
    started = time.perf_counter()
    since = time.time() - rt.settings.counter_settle_s
    async with _locked(rt, wait=True):
        batches = await rt.counters.unfinished()
        await _apply_all(rt, batches + await rt.counters.take(rt.settings.counter_flush_batch))
        async with rt.sessionmaker() as session, session.begin():
            await repo.recount_daily_plays(session)
            await repo.recount(session)
            # Deltas recorded since the store was emptied are for rows the counts
            # above already include.
            songs, comments = await _still_pending(rt)
            await repo.add_song_totals(
                session, [(i, -views, -likes, -n) for i, (views, likes, n) in songs.items()]
            )
            await repo.add_comment_likes(session, [(i, -n) for i, n in comments.items()])
            daily = await rt.counters.pending_daily(list(songs))
            await repo.add_daily(
                session,
                [
                    (i, day, -totals.get(VIEWS, 0), 0, 0)
                    for i, days in daily.items()
                    for day, totals in days.items()
                    if totals.get(VIEWS, 0)
                ],
            )
        in_flight = await rt.counters.heal(since)
    report = FlushReport(seconds=time.perf_counter() - started, recounted=in_flight)
    log.info("counters_rebuilt", seconds=report.seconds, to_recount=in_flight)
    return report


async def _still_pending(
    rt: Flushing,
) -> tuple[dict[uuid.UUID, tuple[int, int, int]], dict[uuid.UUID, int]]:
    """Views, likes and comment counts recorded in the store and not yet flushed."""
    songs: dict[uuid.UUID, tuple[int, int, int]] = {}
    comments: dict[uuid.UUID, int] = defaultdict(int)
    for (kind, item), totals in (await rt.counters.peek()).items():
        if kind == SONG:
            songs[item] = (totals.get(VIEWS, 0), totals.get(LIKES, 0), totals.get(COMMENTS, 0))
        else:
            comments[item] += totals.get(LIKES, 0)
    return songs, comments


@asynccontextmanager
async def counters_kept(rt: Flushing) -> AsyncIterator[None]:
    """Around a process that keeps its counter deltas in memory (the embedded default):
    it writes them when it stops, and marks that it did; a start without the mark
    follows a crash that lost some, so the counters are rebuilt first. With Redis the
    deltas outlive the process: the workers flush them, and rebuild when Redis lost
    them (``heal_counters``)."""
    if rt.settings.redis_url:
        yield
        return
    clean = rt.settings.data_dir / CLEAN_STOP_MARK
    if not await asyncio.to_thread(clean.exists):
        # A first start, or a crash: either way the truth tables are what counts.
        log.info("counters_rebuild_at_start", reason="no clean stop recorded")
        await rebuild_counters(rt)
    await asyncio.to_thread(clean.unlink, missing_ok=True)
    yield
    await flush_counters(rt)
    await asyncio.to_thread(clean.touch)
