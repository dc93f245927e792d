"""Every query on ``pending_jobs``, the outbox that keeps each job until it is done.

A row's life: written ``queued`` in the transaction of the change that asks for the job;
``running`` once a worker claims it (``run_after`` is then the worker's lease, renewed while
it lives); deleted when the job is done or given up; ``waiting`` for a retry's back-off
after a failed try. Whenever ``run_after`` passes, the relay queues the row again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.kit.ids import new_id
from bandstand.kit.time import utcnow
from bandstand.models import PendingJob

QUEUED, RUNNING, WAITING = "queued", "running", "waiting"


def add(session: AsyncSession, name: str, args: list[Any], redeliver_after_s: float) -> uuid.UUID:
    """A new job in the session's transaction: it exists if and only if the change does."""
    row = PendingJob(
        id=new_id(),
        name=name,
        args=args,
        state=QUEUED,
        run_after=utcnow() + timedelta(seconds=redeliver_after_s),
        attempts=0,
    )
    session.add(row)
    return row.id


async def claim(session: AsyncSession, job_id: uuid.UUID, lease_s: float) -> int | None:
    """Start a queued job: its try's number, or None if it is not queued (done, another
    worker's, waiting for its back-off): the message that asked is then a stale copy."""
    stmt = (
        update(PendingJob)
        .where(PendingJob.id == job_id, PendingJob.state == QUEUED)
        .values(
            state=RUNNING,
            attempts=PendingJob.attempts + 1,
            run_after=utcnow() + timedelta(seconds=lease_s),
        )
        .returning(PendingJob.attempts)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _held(job_id: uuid.UUID, tries: int) -> tuple[Any, ...]:
    """The row, if the try numbered ``tries`` still holds it: once its lease ran out and
    another worker claimed the job, the try's number (``attempts``) has moved on, and what
    the old try says of the job is not written over the new one's claim."""
    return (PendingJob.id == job_id, PendingJob.attempts == tries, PendingJob.state == RUNNING)


async def renew(session: AsyncSession, job_id: uuid.UUID, tries: int, lease_s: float) -> bool:
    """Extend the try's lease; False if the try lost it (its job is another's now)."""
    stmt = (
        update(PendingJob)
        .where(*_held(job_id, tries))
        .values(run_after=utcnow() + timedelta(seconds=lease_s))
        .returning(PendingJob.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def retry_later(
    session: AsyncSession, job_id: uuid.UUID, tries: int, delay_s: float, error: str | None
) -> bool:
    """Back off after a failed try (``error``), or hand back an interrupted one (no
    ``error``, and the try does not count). False if the try had lost its lease."""
    values: dict[str, Any] = {
        "state": WAITING,
        "run_after": utcnow() + timedelta(seconds=delay_s),
    }
    if error is None:
        values["attempts"] = PendingJob.attempts - 1
    else:
        values["last_error"] = error[:2000]
    stmt = update(PendingJob).where(*_held(job_id, tries)).values(**values)
    return (await session.execute(stmt.returning(PendingJob.id))).scalar_one_or_none() is not None


async def finish(session: AsyncSession, job_id: uuid.UUID, tries: int) -> bool:
    """Forget a job done (or given up) by the try numbered ``tries``; False if that try
    had lost its lease (the job stays, for the try that holds it)."""
    stmt = delete(PendingJob).where(*_held(job_id, tries)).returning(PendingJob.id)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def contenders(session: AsyncSession, name: str) -> Sequence[Any]:
    """The queued and running jobs called ``name``, oldest first: what takes turns
    (``fair.py``). Rows with ``id`` and ``state`` only: a long queue is read at every
    claim, and the rest of a row is read once (``args_by_id``)."""
    stmt = (
        select(PendingJob.id, PendingJob.state)
        .where(PendingJob.name == name, PendingJob.state.in_([QUEUED, RUNNING]))
        .order_by(PendingJob.created_at, PendingJob.id)
    )
    return (await session.execute(stmt)).all()


async def args_by_id(
    session: AsyncSession, job_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    """The arguments of these jobs (those still pending)."""
    found: dict[uuid.UUID, list[Any]] = {}
    for start in range(0, len(job_ids), 500):
        chunk = list(job_ids[start : start + 500])
        stmt = select(PendingJob.id, PendingJob.args).where(PendingJob.id.in_(chunk))
        found.update((row.id, list(row.args)) for row in await session.execute(stmt))
    return found


async def take_due(
    session: AsyncSession, now: datetime, redeliver_after_s: float, limit: int = 100
) -> Sequence[tuple[uuid.UUID, str, list[Any]]]:
    """Mark queued again, and return, the jobs whose ``run_after`` has passed. Two relays
    never take the same row: PostgreSQL skips rows another is taking and re-checks
    ``run_after`` on a row it waited for; SQLite runs one writer at a time."""
    due = (
        select(PendingJob.id)
        .where(PendingJob.run_after <= now)
        .order_by(PendingJob.run_after)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(PendingJob)
        .where(PendingJob.run_after <= now, PendingJob.id.in_(due.scalar_subquery()))
        .values(state=QUEUED, run_after=now + timedelta(seconds=redeliver_after_s))
        .returning(PendingJob.id, PendingJob.name, PendingJob.args)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.name, row.args) for row in (await session.execute(stmt)).all()]


async def due_now(session: AsyncSession, job_ids: Sequence[uuid.UUID], at: datetime) -> None:
    """Make jobs due at ``at`` (their message could not be sent)."""
    stmt = update(PendingJob).where(PendingJob.id.in_(job_ids)).values(run_after=at)
    await session.execute(stmt.execution_options(synchronize_session=False))


async def requeue(session: AsyncSession, *, running_too: bool) -> int:
    """Make due now every queued job (the queue lost its messages) and, with
    ``running_too``, every running one (no worker that held it is alive)."""
    states = [QUEUED, RUNNING] if running_too else [QUEUED]
    stmt = update(PendingJob).where(PendingJob.state.in_(states)).values(run_after=utcnow())
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def next_due(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(PendingJob.run_after)))).scalar_one_or_none()


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(PendingJob))).scalar_one())


async def args_of(session: AsyncSession, name: str) -> list[list[Any]]:
    """The arguments of every pending job called ``name``."""
    stmt = select(PendingJob.args).where(PendingJob.name == name)
    return [list(args) for args in (await session.execute(stmt)).scalars().all()]
