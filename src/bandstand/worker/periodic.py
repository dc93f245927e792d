"""Periodic jobs, each run once per period however many processes keep time.

Every process that runs jobs (``bandstand serve`` on the embedded default, each
``bandstand worker`` in production) ticks; the first to claim a period in Redis enqueues
that period's job, and the others see the claim and do nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog

from bandstand.config import Settings
from bandstand.kit.redisclient import connect
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Periodic:
    job: str
    every_s: float


def schedule(settings: Settings) -> list[Periodic]:
    return [
        Periodic("accounts.purge_expired_signups", settings.cleanup_every_s),
        Periodic("songs.requeue_stalled", settings.cleanup_every_s),
        Periodic("engagement.flush_counters", settings.counter_flush_s),
        Periodic("engagement.prune_history", settings.cleanup_every_s),
        Periodic("moderation.lift_expired_bans", settings.ban_expiry_every_s),
    ]


class Claims:
    """Who runs period N of a job: Redis ``SET NX`` across processes, or this process."""

    def __init__(self, settings: Settings) -> None:
        self._redis = connect(settings.redis_url) if settings.redis_url else None
        self._prefix = f"{settings.redis_namespace}:periodic"
        self._local: dict[str, int] = {}

    async def claim(self, job: str, period: int, every_s: float) -> bool:
        if self._redis is None:
            if self._local.get(job, -1) >= period:
                return False
            self._local[job] = period
            return True
        expiry = max(int(every_s * 2), 1)
        claimed = await self._redis.set(f"{self._prefix}:{job}:{period}", 1, nx=True, ex=expiry)
        return bool(claimed)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def keep_time(queue: Queue, jobs: list[Periodic], tick_s: float = 1.0) -> None:
    """Run until cancelled: at each period's start, enqueue its job if this process wins
    the period. A period that starts while every process is down is not caught up."""
    claims = Claims(queue.settings)
    # From the next period on: a restart does not run every job again at once.
    seen = {periodic.job: int(time.time() // periodic.every_s) for periodic in jobs}
    try:
        while True:
            now = time.time()
            for periodic in jobs:
                period = int(now // periodic.every_s)
                if seen.get(periodic.job) == period:
                    continue
                seen[periodic.job] = period
                try:
                    if await claims.claim(periodic.job, period, periodic.every_s):
                        await queue.kick(periodic.job)
                        log.info("periodic_job_enqueued", job=periodic.job, period=period)
                except Exception as exc:
                    # The next period tries again: no traceback every period Redis is down.
                    log.warning("periodic_job_not_enqueued", job=periodic.job, error=repr(exc))
            await asyncio.sleep(tick_s)
    finally:
        await claims.close()
