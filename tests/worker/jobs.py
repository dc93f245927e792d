"""Jobs the worker tests run (registered on import, before any queue is built): one that
records each run, and one that waits at a gate the test opens."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

import structlog
from sqlalchemy import select
from taskiq import Context, TaskiqDepends

from bandstand.db import transaction
from bandstand.models import PendingJob
from bandstand.worker.jobs import job

log = structlog.get_logger(__name__)

RUNS: Counter[str] = Counter()
# name -> (started, release): per test, made in the test's own event loop.
GATES: dict[str, tuple[asyncio.Event, asyncio.Event]] = {}


@job("tests.record")
async def record(name: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    RUNS[name] += 1


@job("tests.gated")
async def gated(name: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Runs until the test opens its gate (a stand-in for a long FFmpeg run)."""
    RUNS[name] += 1
    started, release = GATES[name]
    started.set()
    await release.wait()


@job("tests.sleep")
async def sleep(name: str, seconds: float, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Takes ``seconds``, and says when it starts (in a worker's log)."""
    RUNS[name] += 1
    log.info("test_sleep_started", name=name)
    await asyncio.sleep(seconds)


def gate(name: str) -> tuple[asyncio.Event, asyncio.Event]:
    GATES[name] = (asyncio.Event(), asyncio.Event())
    return GATES[name]


async def pending(rt: Any) -> list[PendingJob]:
    async with transaction(rt.sessionmaker) as session:
        return list((await session.execute(select(PendingJob))).scalars().all())
