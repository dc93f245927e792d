"""Running jobs: inside ``bandstand serve`` on the embedded default, or as ``bandstand
worker`` processes beside it in production.

The process that calls these built the queue and the parts its jobs use (``app.py``,
``cli.py``); they are handed in, so that nothing here knows the whole runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.worker.periodic import keep_time, schedule
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def jobs_running(
    queue: Queue,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    state: object,
    consume: bool,
) -> AsyncIterator[None]:
    """Connect the queue; where this process runs jobs, take them and keep periodic time.
    ``state`` is what the jobs find as ``context.state.runtime`` (``Queue.start``)."""
    await queue.start(sessionmaker, state=state, consume=consume)
    clock = None
    if consume or queue.in_process:
        clock = asyncio.create_task(keep_time(queue, schedule(queue.settings)))
    try:
        yield
    finally:
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock


async def work(
    queue: Queue, sessionmaker: async_sessionmaker[AsyncSession], *, state: object
) -> None:
    """``bandstand worker``: run jobs from Redis until SIGTERM or SIGINT."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with jobs_running(queue, sessionmaker, state=state, consume=True):
        log.info("worker_started", concurrency=queue.settings.job_concurrency)
        await stopping.wait()
        log.info("worker_stopping")
