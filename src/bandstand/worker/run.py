"""Running jobs: inside ``bandstand serve`` on the embedded default, or as ``bandstand
worker`` processes beside it in production."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog

from bandstand.worker.periodic import keep_time, schedule

if TYPE_CHECKING:
    from bandstand.config import Settings
    from bandstand.runtime import Runtime

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def jobs_running(runtime: Runtime, *, consume: bool) -> AsyncIterator[None]:
    """Connect the queue; where this process runs jobs, take them and keep periodic time."""
    queue = runtime.queue
    await queue.start(runtime, consume=consume)
    clock = None
    if consume or queue.in_process:
        clock = asyncio.create_task(keep_time(queue, schedule(runtime.settings)))
    try:
        yield
    finally:
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock


async def work(settings: Settings) -> None:
    """``bandstand worker``: run jobs from Redis until SIGTERM or SIGINT."""
    from bandstand.runtime import Runtime

    if not settings.redis_url:
        raise ValueError("a worker takes its jobs from Redis: set BANDSTAND_REDIS_URL")
    runtime = Runtime.build(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        async with jobs_running(runtime, consume=True):
            log.info("worker_started", concurrency=settings.job_concurrency)
            await stopping.wait()
            log.info("worker_stopping")
    finally:
        await runtime.close()
