"""The relay: hands the queue, again, every pending job whose ``run_after`` has passed.

That is a job whose worker died (its lease ran out), a retry whose back-off is over, and
a job whose message was lost: its hand-over failed (the queue was unreachable at commit),
the process that held it in memory died (the embedded default), or Redis lost its data.
Redis losing its data is noticed by a key written when it is absent: whoever writes it
again queues every queued job at once rather than after ``job_redeliver_after_s``.

It runs in every process that runs jobs; the database makes sure that two relays never
hand over the same row at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.config import Settings
from bandstand.db import transaction
from bandstand.kit.time import utcnow
from bandstand.worker import outbox

log = structlog.get_logger(__name__)

BATCH = 100  # jobs handed over per transaction

Kick = Callable[[Any, str, Sequence[Any]], Awaitable[None]]


class Relay:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        kick: Kick,
        redis: Redis | None,
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._kick = kick
        self._redis = redis
        self._generation_key = f"{settings.redis_namespace}:jobs:generation"
        self._wake = asyncio.Event()
        self._unreachable = False

    def soon(self) -> None:
        """Look again now (a job of this process set its retry's time)."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: a pass, then sleep until the next due job or the next period."""
        every = self._settings.job_relay_every_s
        while True:
            self._wake.clear()
            pause = every
            try:
                await self.notice_a_lost_queue()
                next_due = await self.pass_once()
                if next_due is not None:
                    pause = min(every, max(next_due, 0.05))
                if self._unreachable:
                    log.info("job_queue_reachable_again")
                    self._unreachable = False
            except Exception as exc:
                # The queue or the database is down: say so once, and keep trying.
                if not self._unreachable:
                    log.warning("job_relay_failed", error=repr(exc))
                self._unreachable = True
            try:
                async with asyncio.timeout(pause):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def pass_once(self) -> float | None:
        """Hand over the due jobs; the seconds until the next one falls due (None: none).
        Reads first: a pass with nothing due writes nothing (SQLite has one writer)."""
        while True:
            now = utcnow()
            async with self._sessionmaker() as session:
                upcoming = await outbox.next_due(session)
            if upcoming is None or upcoming > now:
                return None if upcoming is None else (upcoming - now).total_seconds()
            async with transaction(self._sessionmaker) as session:
                due = await outbox.take_due(
                    session, now, self._settings.job_redeliver_after_s, BATCH
                )
            for index, (job_id, name, args) in enumerate(due):
                try:
                    await self._kick(job_id, name, args)
                except Exception as exc:
                    if _queue_down(exc):
                        # None is handed over: due again at the next pass.
                        left = [row[0] for row in due[index:]]
                        async with transaction(self._sessionmaker) as session:
                            await outbox.due_now(session, left, now)
                        raise
                    # This row cannot be sent (a job no longer registered, say): park it
                    # until ``job_redeliver_after_s`` (as taken) rather than stall every
                    # row behind it on every pass.
                    log.error("job_not_relayed", job=name, job_id=str(job_id), error=repr(exc))
            if due:
                log.info("jobs_relayed", count=len(due))
            else:
                # Due, but another relay is handing it over: look again shortly.
                return 0.05

    async def notice_a_lost_queue(self) -> None:
        """If Redis lost its data (or is new), queue every queued job again now."""
        if self._redis is None:
            return
        if await self._redis.set(self._generation_key, utcnow().isoformat(), nx=True):
            # Absent: Redis is new, or lost its data with every message in it.
            async with transaction(self._sessionmaker) as session:
                count = await outbox.requeue(session, running_too=False)
            if count:
                log.warning("job_queue_lost_its_messages", requeued=count)

    async def requeue_orphans(self) -> None:
        """Make every queued and running job due now: the embedded server starts, and no
        other process (it holds the data folder's lock) can be running or holding one."""
        async with transaction(self._sessionmaker) as session:
            count = await outbox.requeue(session, running_too=True)
        if count:
            log.info("pending_jobs_resumed", count=count)


def _queue_down(exc: BaseException | None) -> bool:
    """Whether a hand-over failed for want of the queue (every row would fail alike), not
    for its row; taskiq wraps the cause in its own ``SendTaskError``."""
    while exc is not None:
        if isinstance(exc, RedisError | OSError):
            return True
        exc = exc.__cause__
    return False
