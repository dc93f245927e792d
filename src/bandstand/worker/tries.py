"""One try of a job, as a worker runs it: claim the job's row, hold its lease while the
job runs, and record the outcome (done, back off, or give up after the last try).

The row is claimed only once the job has room to run, so a job waiting its turn is not
charged a try if its worker dies. The claim's try number (``attempts``) fences the try: once
its lease is lost and the job claimed again, nothing it writes touches the new claim.
A message without a row (a periodic job) just runs. A job of a kind with owners (a song's
processing) is claimed by turns (``fair.py``): the message is a wake-up, and the job that
runs is the one whose turn it is; while it runs, it lends its slot to another owner's job
now and then (``turn_sharer``).

A try knows the queue it runs on (``Runner``) and nothing else of the process: what the
job's body, its ``slot`` and its ``give_up`` use, they find in taskiq's state
(``context.state.runtime``), which this module hands on without looking inside.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import Context, TaskiqDepends, TaskiqState
from taskiq_dependencies import DependencyGraph

from bandstand.config import Settings
from bandstand.db import transaction
from bandstand.observability import metrics
from bandstand.worker import fair, outbox
from bandstand.worker.jobs import GIVE_UPS, OWNERS, SLOTS, Job, Owners
from bandstand.worker.retry import backoff_s

log = structlog.get_logger(__name__)

# The label that carries a message's ``pending_jobs`` row.
ROW_LABEL = "pending_job"
# The label that carries the id of the request that asked for the job (when a request
# did, and the message is the one sent after its commit, not a relay's copy): bound to
# every line the job logs, so one id follows an upload from its request to its end.
REQUEST_LABEL = "request_id"


class Runner(Protocol):
    """What a try uses of the queue that runs it (``queue.Queue``, which imports this
    module: hence a protocol, not an import)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...

    # The jobs this process has taken a message for and not yet let go.
    @property
    def held(self) -> set[uuid.UUID]: ...

    # Whose jobs this process started last, for the kinds that take turns.
    @property
    def turns(self) -> fair.Turns: ...

    # The in-process broker's turns (``job_concurrency``); None where taskiq's receiver
    # keeps the count.
    @property
    def job_slots(self) -> asyncio.Semaphore | None: ...

    def relay_soon(self) -> None: ...


class LeaseLost(Exception):
    """The try's lease ran out and the job was claimed again: its body is stopped, and
    what it would say of the job is the new try's to say."""


def tried(runner: Runner, name: str, func: Job) -> Job:
    """``func`` as ``runner`` runs it: once per claim of its row, claimed only once the
    job has room to run (its slot, and on the in-process broker one of ``job_concurrency``),
    so that only a try that really started is counted."""
    slot = SLOTS.get(name)
    owners = OWNERS.get(name)
    body = _with_dependencies(func)

    async def run(*args: Any, context: Annotated[Context, TaskiqDepends()]) -> None:
        request_id = context.message.labels.get(REQUEST_LABEL)
        if request_id is None:
            await _held_and_run(args, context)
            return
        with structlog.contextvars.bound_contextvars(request_id=str(request_id)):
            await _held_and_run(args, context)

    async def _held_and_run(args: tuple[Any, ...], context: Context) -> None:
        row = context.message.labels.get(ROW_LABEL)
        job_id = None if row is None else uuid.UUID(str(row))
        held = runner.held
        if job_id is not None:
            if job_id in held:
                # A second message for a job this process already has a message for (which
                # may run another job of its kind, whose own message then runs this one).
                return
            held.add(job_id)
        try:
            async with contextlib.AsyncExitStack() as room:
                if slot is not None:
                    await room.enter_async_context(slot(context.state.runtime))
                if runner.job_slots is not None:
                    await room.enter_async_context(runner.job_slots)
                if job_id is None:
                    await body(args, context)
                elif owners is not None:
                    await _take_turns(runner, name, body, owners, context, job_id)
                else:
                    await _try(runner, name, body, job_id, args, context)
        finally:
            if job_id is not None:
                held.discard(job_id)

    # Not functools.wraps: taskiq reads this signature (and its annotations) to inject
    # the context, and must not see the wrapped one's (``body`` resolves those).
    run.__name__, run.__qualname__, run.__doc__ = func.__name__, func.__qualname__, func.__doc__
    return run


Body = Callable[[tuple[Any, ...], Context], Awaitable[None]]


@functools.cache
def _graph(func: Job) -> DependencyGraph:
    """What ``func`` declares, worked out once a process: building the graph reads every
    signature and type hint (a few milliseconds a job, paid at each queue's start)."""
    return DependencyGraph(func)


def _with_dependencies(func: Job) -> Body:
    """``func`` called with what it declares (``JobStorage``, its ``Context`` ...),
    resolved as taskiq's receiver would have, from the message's context and state."""
    graph = _graph(func)

    async def body(args: tuple[Any, ...], context: Context) -> None:
        async with graph.async_ctx({Context: context, TaskiqState: context.state}) as given:
            await func(*args, **await given.resolve_kwargs())

    return body


async def _try(
    runner: Runner,
    name: str,
    body: Body,
    job_id: uuid.UUID,
    args: tuple[Any, ...],
    context: Context,
) -> None:
    async with transaction(runner.sessionmaker) as session:
        tries = await outbox.claim(session, job_id, runner.settings.job_lease_s)
    if tries is None:
        return  # done, another worker's, or backing off: this message is a stale copy
    await _run(runner, name, body, job_id, args, tries, context)


async def _take_turns(
    runner: Runner,
    name: str,
    body: Body,
    owners: Owners,
    context: Context,
    own: uuid.UUID,
) -> None:
    """Claim and run the job of this kind whose turn it is (``fair.py``), until the one
    this message is for has been claimed. A message that ran another's job goes on:
    the message for that job may have come while this one's was not yet committed and
    found nothing to claim, leaving this job no message but this one."""
    while True:
        async with transaction(runner.sessionmaker) as session:
            claimed = await fair.claim_next(
                session, name, runner.settings.job_lease_s, owners, runner.turns
            )
        if claimed is None:
            return  # every job of this kind is running or done: a spare wake-up
        lender = _Lender(runner, name, body, owners, context)
        token = _LENDER.set(lender)
        try:
            await _run(
                runner, name, body, claimed.job_id, tuple(claimed.args), claimed.tries, context
            )
        finally:
            _LENDER.reset(token)
        if claimed.job_id == own:
            return


# How often a thread waiting for a lent turn looks whether the loop still runs.
_LOOP_CHECK_S = 1.0
# The try running in this task, if it may lend its turn (``turn_sharer``).
_LENDER: ContextVar[_Lender | None] = ContextVar("bandstand_job_lender", default=None)


@dataclass
class _Lender:
    runner: Runner
    name: str
    body: Body
    owners: Owners
    context: Context

    async def lend(self) -> None:
        """Run, in this try's slot, a queued job of an owner who has none running."""
        settings = self.runner.settings
        token = _LENDER.set(None)  # the job run here does not lend its turn again
        try:
            async with transaction(self.runner.sessionmaker) as session:
                claimed = await fair.claim_next(
                    session,
                    self.name,
                    settings.job_lease_s,
                    self.owners,
                    self.runner.turns,
                    idle_owners_only=True,
                )
            if claimed is None:
                return
            log.info("job_turn_lent", job=self.name, job_id=str(claimed.job_id))
            await _run(
                self.runner,
                self.name,
                self.body,
                claimed.job_id,
                tuple(claimed.args),
                claimed.tries,
                self.context,
            )
        except Exception:
            # The lending try goes on; the job it could not run keeps its row.
            log.warning("job_turn_not_lent", job=self.name, exc_info=True)
        finally:
            _LENDER.reset(token)


def turn_sharer() -> Callable[[], None] | None:
    """For the blocking part of a job that takes turns (FFmpeg, in a thread): a function
    to call now and then from that thread, which runs another owner's waiting job to its
    end, if there is one, before it returns. One owner's long job then delays another's
    by the time between two calls, not by its whole length. None outside such a job's
    try (and inside a job run on a lent turn: it does not lend again)."""
    lender = _LENDER.get()
    if lender is None:
        return None
    loop = asyncio.get_running_loop()

    def share() -> None:
        # Not once the loop has stopped (the process is stopping): a coroutine handed to
        # it would never run, and this thread, waiting for it, would keep the process from
        # exiting. The job itself goes on, and is handed back as the process stops.
        if loop.is_closed() or not loop.is_running():
            return
        lent = asyncio.run_coroutine_threadsafe(lender.lend(), loop)
        while True:
            try:
                lent.result(timeout=_LOOP_CHECK_S)
                return
            except concurrent.futures.TimeoutError:
                if not loop.is_running():
                    lent.cancel()
                    return

    return share


async def _run(
    runner: Runner,
    name: str,
    body: Body,
    job_id: uuid.UUID,
    args: tuple[Any, ...],
    tries: int,
    context: Context,
) -> None:
    """Run a claimed try and record its outcome."""
    settings = runner.settings
    sessionmaker = runner.sessionmaker
    if tries > settings.job_max_tries:
        # Each earlier try ended with its worker (killed, out of memory): do not let this
        # one take another worker down too.
        why = "its worker died on each try"
        await _give_up(runner, context, name, job_id, args, tries, tries - 1, why)
        return
    log.info("job_started", job=name, job_id=str(job_id), attempt=tries)
    started = time.perf_counter()
    try:
        async with _leased(runner, job_id, tries):
            await body(args, context)
    except LeaseLost:
        log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)
        return
    except asyncio.CancelledError:
        # The process is stopping: hand the job back at once; this try does not count.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(settings.job_shutdown_grace_s):
                async with transaction(sessionmaker) as session:
                    await outbox.retry_later(session, job_id, tries, 0, None)
        raise
    except Exception as exc:
        last = tries >= settings.job_max_tries
        metrics.JOB_DURATION.labels(name, "failed" if last else "retry").observe(
            time.perf_counter() - started
        )
        if last:
            log.exception("job_failed", job=name, job_id=str(job_id), attempt=tries)
            await _give_up(runner, context, name, job_id, args, tries, tries, repr(exc))
            return
        delay = backoff_s(settings, tries)
        metrics.JOB_RETRIES.labels(name).inc()
        log.warning(
            "job_failed_will_retry",
            job=name,
            job_id=str(job_id),
            attempt=tries,
            retry_in_s=round(delay, 2),
            error=repr(exc),
            exc_info=True,
        )
        async with transaction(sessionmaker) as session:
            held = await outbox.retry_later(session, job_id, tries, delay, repr(exc))
        if not held:
            log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)
        runner.relay_soon()
        return
    metrics.JOB_DURATION.labels(name, "done").observe(time.perf_counter() - started)
    async with transaction(sessionmaker) as session:
        if not await outbox.finish(session, job_id, tries):
            # Done, but after another worker took it: its run decides what is recorded.
            log.warning("job_lease_lost", job=name, job_id=str(job_id), attempt=tries)


async def _give_up(
    runner: Runner,
    context: Context,
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
    metrics.JOB_FAILURES.labels(name).inc()
    give_up = GIVE_UPS.get(name)
    if give_up is not None:
        try:
            await give_up(context.state.runtime, tries, *args)
        except Exception:
            # The row stays (still running): the lease runs out and the next try comes
            # here again.
            log.exception("job_give_up_failed", job=name, job_id=str(job_id))
            return
    async with transaction(runner.sessionmaker) as session:
        await outbox.finish(session, job_id, claimed)


@contextlib.asynccontextmanager
async def _leased(runner: Runner, job_id: uuid.UUID, tries: int) -> AsyncIterator[None]:
    """Renew the job's lease every third of it while the body runs: a live worker keeps
    its job however long it takes; a dead one stops renewing and loses it. A try that
    finds its lease lost (it could not renew in time, and the job was claimed again) stops
    its body: two runs of one job at once are what the lease is there to prevent."""
    lease_s = runner.settings.job_lease_s
    body = asyncio.current_task()
    assert body is not None
    lost = False
    done = asyncio.Event()

    async def renew() -> None:
        nonlocal lost
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), lease_s / 3)
                return
            try:
                async with transaction(runner.sessionmaker) as session:
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
        # Told to stop, not cancelled: a renewal under way finishes its transaction
        # (one cut off half-way could leave SQLite's write lock held by its connection).
        done.set()
        await renewing
