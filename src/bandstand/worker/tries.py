"""One try of a job, as a worker runs it: claim the job's row, hold its lease while the
job runs, and record the outcome (done, back off, or give up after the last try).

The row is claimed only once the job has room to run, so a job waiting its turn is not
charged a try if its worker dies. The claim's try number (``attempts``) fences the try: once
its lease is lost and the job claimed again, nothing it writes touches the new claim.
A message without a row (a periodic job) just runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import structlog
from taskiq import Context, TaskiqDepends

from bandstand.db import transaction
from bandstand.worker import outbox
from bandstand.worker.jobs import GIVE_UPS, SLOTS, Job
from bandstand.worker.retry import backoff_s

log = structlog.get_logger(__name__)

# The label that carries a message's ``pending_jobs`` row.
ROW_LABEL = "pending_job"


class LeaseLost(Exception):
    """The try's lease ran out and the job was claimed again: its body is stopped, and
    what it would say of the job is the new try's to say."""


def tried(name: str, func: Job) -> Job:
    """``func`` as the queue runs it: once per claim of its row, claimed only once the
    job has room to run (its slot, and on the in-process broker one of ``job_concurrency``),
    so that only a try that really started is counted."""
    slot = SLOTS.get(name)

    async def run(*args: Any, context: Annotated[Context, TaskiqDepends()]) -> None:
        rt = context.state.runtime
        row = context.message.labels.get(ROW_LABEL)
        job_id = None if row is None else uuid.UUID(str(row))
        held = rt.queue.held
        if job_id is not None:
            if job_id in held:
                return  # a second message for a job this process already has
            held.add(job_id)
        try:
            async with contextlib.AsyncExitStack() as room:
                if slot is not None:
                    await room.enter_async_context(slot(rt))
                if rt.queue.job_slots is not None:
                    await room.enter_async_context(rt.queue.job_slots)
                if job_id is None:
                    await func(*args, context=context)
                else:
                    await _try(name, func, job_id, args, context)
        finally:
            if job_id is not None:
                held.discard(job_id)

    # Not functools.wraps: taskiq reads this signature (and its annotations) to inject
    # the context, and must not see the wrapped one's.
    run.__name__, run.__qualname__, run.__doc__ = func.__name__, func.__qualname__, func.__doc__
    return run


async def _try(
    name: str, func: Job, job_id: uuid.UUID, args: tuple[Any, ...], context: Context
) -> None:
    rt = context.state.runtime
    settings = rt.settings
    async with transaction(rt.sessionmaker) as session:
        tries = await outbox.claim(session, job_id, settings.job_lease_s)
    if tries is None:
        return  # done, another worker's, or backing off: this message is a stale copy
    if tries > settings.job_max_tries:
        # Each earlier try ended with its worker (killed, out of memory): do not let this
        # one take another worker down too.
        await _give_up(rt, name, job_id, args, tries, tries - 1, "its worker died on each try")
        return
    log.info("job_started", job=name, job_id=str(job_id), attempt=tries)
    try:
        async with _leased(rt, job_id, tries):
            await func(*args, context=context)
    except LeaseLost:
        log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)
        return
    except asyncio.CancelledError:
        # The process is stopping: hand the job back at once; this try does not count.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(settings.job_shutdown_grace_s):
                async with transaction(rt.sessionmaker) as session:
                    await outbox.retry_later(session, job_id, tries, 0, None)
        raise
    except Exception as exc:
        if tries >= settings.job_max_tries:
            log.exception("job_failed", job=name, job_id=str(job_id), attempt=tries)
            await _give_up(rt, name, job_id, args, tries, tries, repr(exc))
            return
        delay = backoff_s(settings, tries)
        log.warning(
            "job_failed_will_retry",
            job=name,
            job_id=str(job_id),
            attempt=tries,
            retry_in_s=round(delay, 2),
            error=repr(exc),
            exc_info=True,
        )
        async with transaction(rt.sessionmaker) as session:
            held = await outbox.retry_later(session, job_id, tries, delay, repr(exc))
        if not held:
            log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)
        rt.queue.relay_soon()
        return
    async with transaction(rt.sessionmaker) as session:
        if not await outbox.finish(session, job_id, tries):
            # Done, but after another worker took it: its run decides what is recorded.
            log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)


async def _give_up(
    rt: Any,
    name: str,
    job_id: uuid.UUID,
    args: tuple[Any, ...],
    claimed: int,
    tries: int,
    why: str,
) -> None:
    """Tell the job's owner (a song ends ``failed``), then forget the job (if the try
    ``claimed`` still holds it)."""
    log.error("job_given_up", job=name, job_id=str(job_id), tries=tries, why=why)
    give_up = GIVE_UPS.get(name)
    if give_up is not None:
        try:
            await give_up(rt, tries, *args)
        except Exception:
            # The row stays (still running): the lease runs out and the next try comes
            # here again.
            log.exception("job_give_up_failed", job=name, job_id=str(job_id))
            return
    async with transaction(rt.sessionmaker) as session:
        await outbox.finish(session, job_id, claimed)


@contextlib.asynccontextmanager
async def _leased(rt: Any, job_id: uuid.UUID, tries: int) -> AsyncIterator[None]:
    """Renew the job's lease every third of it while the body runs: a live worker keeps
    its job however long it takes; a dead one stops renewing and loses it. A try that
    finds its lease lost (it could not renew in time, and the job was claimed again) stops
    its body: two runs of one job at once are what the lease is there to prevent."""
    lease_s = rt.settings.job_lease_s
    body = asyncio.current_task()
    assert body is not None
    lost = False

    async def renew() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                async with transaction(rt.sessionmaker) as session:
                    held = await outbox.renew(session, job_id, tries, lease_s)
            except Exception:
                log.warning("job_lease_not_renewed", job_id=str(job_id), exc_info=True)
                continue
            if not held:
                lost = True
                body.cancel()
                return

    renewing = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:
        if lost and body.uncancel() == 0:
            raise LeaseLost() from None
        raise
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
