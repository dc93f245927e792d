"""The job queue: taskiq's in-process broker on the embedded default, a Redis stream in
production (``bandstand worker`` runs the jobs).

A job is kept in the database until it is done (``pending_jobs``, see ``outbox.py``): it
is written in the transaction of the change that asks for it, and the queue only carries
its id, as a wake-up. What the queue loses (an emptied Redis, a killed process) the relay
hands it again; a worker that dies loses its lease, and its job goes to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from bandstand.config import Settings
from bandstand.db import after_commit, transaction
from bandstand.kit.redisclient import client_options, connect
from bandstand.kit.time import utcnow
from bandstand.logging import configure_logging
from bandstand.observability import metrics
from bandstand.worker import cores, fair, outbox
from bandstand.worker.jobs import JOB_MODULES, JOBS
from bandstand.worker.relay import Relay
from bandstand.worker.scratch import Scratch, sweep
from bandstand.worker.tries import REQUEST_LABEL, ROW_LABEL, tried

log = structlog.get_logger(__name__)


class StreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, with these changes:

    - one message is taken at a time, when the receiver has room for it;
    - a message is deleted from the stream once acknowledged (on receipt: the job's row,
      not the message, is what keeps it), so the stream does not grow forever;
    - a message read by a worker that died before acknowledging it is claimed by another
      after a lease (the job's row would be relayed anyway; this keeps Redis clean);
    - the consumer group starts at the stream's beginning, and is made again at once if
      Redis lost it (emptied, restarted without its data): every message added since is
      read, and the worker says so once instead of failing on every read;
    - while Redis is unreachable, or refuses commands (read-only, out of disk, a missing
      permission), it says so once and waits, longer each time up to 5 s, instead of
      spinning (taskiq restarts a failed listener at once, with a traceback each time)."""

    _pause = 0.0  # the wait after Redis last failed us; 0 once it answers again

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        regroup = False
        while True:
            try:
                if regroup:
                    await self._declare_consumer_group()
                    regroup = False
                async for message in self._read():
                    yield message
            except ResponseError as exc:
                if not str(exc).startswith(("NOGROUP", "UNBLOCKED")):
                    # Redis refuses (READONLY, MISCONF, NOPERM ...): an operator's to fix;
                    # wait it out as an outage, not a traceback per retry.
                    await self._wait_out(exc)
                    continue
                # NOGROUP: the group is gone; UNBLOCKED: the stream went while we waited.
                log.warning("job_queue_group_lost", queue=self.queue_name, error=str(exc))
                regroup = True
                await asyncio.sleep(0.1)  # not a spin, should making it again fail
            except (RedisConnectionError, RedisTimeoutError) as exc:
                await self._wait_out(exc)

    async def _wait_out(self, exc: Exception) -> None:
        """Say once that Redis fails us, then wait longer each time, up to 5 s."""
        if self._pause == 0.0:
            log.warning("job_queue_unreachable", error=str(exc))
        self._pause = min(max(self._pause * 2, 0.5), 5.0)
        await asyncio.sleep(self._pause)

    async def _read(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                # redis-py types these replies loosely: a list of [stream, [(id, fields)]].
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    noack=False,
                    count=1,
                )
                if self._pause:
                    log.info("job_queue_reachable_again")
                    self._pause = 0.0
                for stream, messages in fetched or []:
                    for message_id, fields in messages:
                        yield self._ackable(stream, message_id, fields)
                reply: Any = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=1,
                )
                for message_id, fields in reply[1]:
                    if fields is None:
                        continue  # deleted meanwhile
                    yield self._ackable(self.queue_name, message_id, fields)

    def _ackable(self, stream: Any, message_id: Any, fields: dict[bytes, bytes]) -> AckableMessage:
        async def ack() -> None:
            async with Redis(connection_pool=self.connection_pool) as redis:
                pipe = redis.pipeline(transaction=True)
                pipe.xack(stream, self.consumer_group_name, message_id)
                pipe.xdel(stream, message_id)
                await pipe.execute()

        return AckableMessage(data=fields[b"data"], ack=ack)


def build_broker(settings: Settings) -> AsyncBroker:
    """The broker, with no job on it yet (``Queue`` registers them)."""
    broker: AsyncBroker
    if settings.redis_url:
        namespace = settings.redis_namespace
        broker = StreamBroker(
            settings.redis_url,
            queue_name=f"{namespace}:jobs",
            consumer_group_name=f"{namespace}:workers",
            consumer_id="0",  # from the stream's first message, not its end
            idle_timeout=int(settings.job_lease_s * 1000),
            xread_block=1000,
            # The pool heals after a Redis restart (kit/redisclient.py).
            **client_options(),
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.job_concurrency)
    return broker


class Queue:
    """Enqueue jobs by name; in this process, run them too if asked.

    The queue knows the settings and, once started, a sessionmaker; what jobs use besides
    (storage, the mailer ...) it is handed at ``start`` without looking inside."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = build_broker(settings)
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._relay: Relay | None = None
        self._relaying: asyncio.Task[None] | None = None
        self._redis: Redis | None = None
        self._scratch = Scratch(settings.scratch_dir)
        self._scratch_made = asyncio.Lock()
        # taskiq's receiver runs job_concurrency jobs at once; the in-process broker has no
        # receiver and starts a job per message at once, so the tries take turns here.
        self.job_slots = asyncio.Semaphore(settings.job_concurrency) if self.in_process else None
        # The jobs (rows) this process has taken a message for and not yet let go.
        self.held: set[uuid.UUID] = set()
        # Whose job of each kind that takes turns (a song's processing) this process
        # started last (fair.py).
        self.turns = fair.Turns()
        for module in JOB_MODULES:
            importlib.import_module(module)
        for name, func in JOBS.items():
            self.broker.register_task(tried(self, name, func), task_name=name)

    @property
    def in_process(self) -> bool:
        """Whether jobs run in whatever process enqueues them (the embedded default)."""
        return isinstance(self.broker, InMemoryBroker)

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Where jobs are kept (``pending_jobs``); given at ``start``."""
        if self._sessionmaker is None:
            raise RuntimeError("the queue is not started")
        return self._sessionmaker

    async def scratch_dir(self) -> Path:
        """Where this process's jobs keep their working files: a folder of its own, made
        when the first job needs it."""
        async with self._scratch_made:
            return await asyncio.to_thread(self._scratch.open)

    async def start(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, state: object, consume: bool
    ) -> None:
        """Connect; with ``consume``, also take jobs off a Redis stream in this process
        (``bandstand worker``, or a test). The in-process broker always runs its jobs, and
        resumes those a killed server left pending.

        ``sessionmaker`` keeps the jobs; ``state`` is what each job finds as
        ``context.state.runtime`` (and its ``give_up`` and ``slot`` are given): the
        process's long-lived parts, which the queue hands on without looking inside."""
        self._sessionmaker = sessionmaker
        self.broker.state.runtime = state
        runs_jobs = consume or self.in_process
        if consume and not self.in_process:
            self.broker.is_worker_process = True
            # A process that runs jobs only (``bandstand worker``) has no app to set up its
            # logs and metrics (``app.py``): it does so here, before its first job.
            configure_logging(self.settings.log_json)
            if self.settings.metrics_enabled:
                metrics.enable(self.settings.metrics_folder)
        await self.broker.startup()
        if not runs_jobs:
            return
        await asyncio.to_thread(
            sweep, self.settings.scratch_dir, everything_unlocked=self.in_process
        )
        if self.settings.redis_url:
            self._redis = connect(self.settings.redis_url)
        self._relay = Relay(self.settings, sessionmaker, self._kick, self._redis)
        if self.in_process:
            await self._relay.requeue_orphans()
        else:
            # Before any job of ours is queued: a job queued meanwhile is not sent twice.
            try:
                await self._relay.notice_a_lost_queue()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("job_queue_unreachable", error=str(exc))  # the relay retries
            self._receiver = asyncio.create_task(
                run_receiver_task(
                    self.broker,
                    max_async_tasks=self.settings.job_concurrency,
                    # The job's row keeps it until done: the message is only its wake-up.
                    ack_time=AcknowledgeType.WHEN_RECEIVED,
                )
            )
        self._relaying = asyncio.create_task(self._relay.run())

    async def stop(self) -> None:
        if self._relaying is not None:
            self._relaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relaying
        if self._receiver is not None:
            self._receiver.cancel()
            # taskiq's receiver does not always finish once cancelled; do not let it hold
            # up the shutdown (an unfinished job's lease runs out, for another). Not
            # wait_for: on its timeout it waits, without limit, for the cancel to finish.
            await asyncio.wait({self._receiver}, timeout=self.settings.job_shutdown_grace_s)
        if isinstance(self.broker, InMemoryBroker):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._running_done(), self.settings.job_shutdown_grace_s)
        if self._relay is not None:
            # This process ran jobs: FFmpeg still at work in its children is stopped, not
            # waited for (the jobs go back to the queue, as a stopped worker's do).
            cores.stop_running()
        await self.broker.shutdown()
        if self._redis is not None:
            await self._redis.aclose()
        await asyncio.to_thread(self._scratch.close)
        if self._relay is not None:
            metrics.mark_dead()

    async def enqueue(self, name: str, *args: Any) -> None:
        """Keep the job in the database, then hand it to the queue."""
        async with transaction(self.sessionmaker) as session:
            self.enqueue_after_commit(session, name, *args)

    def enqueue_after_commit(self, session: AsyncSession, name: str, *args: Any) -> None:
        """Keep the job in the session's transaction, and hand it to the queue once that
        commits: a job exists if and only if the change that asks for it does."""
        if name not in JOBS:
            raise KeyError(f"no job is called {name!r}")
        job_id = outbox.add(session, name, list(args), self.settings.job_redeliver_after_s)
        after_commit(session, partial(self.hand_over, job_id, name, args))

    async def kick(self, name: str) -> None:
        """Send a job with no row: a periodic one, which the next period runs again if
        this one is lost."""
        await AsyncKicker(task_name=name, broker=self.broker, labels={}).kiq()

    async def _kick(self, job_id: uuid.UUID, name: str, args: Sequence[Any]) -> None:
        labels = {ROW_LABEL: str(job_id)}
        # Handed over after the commit of a request (or of a job a request asked for), in
        # its context: its id goes with the job, into every line the job logs. The relay's
        # copies have none.
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            labels[REQUEST_LABEL] = str(request_id)
        await AsyncKicker(task_name=name, broker=self.broker, labels=labels).kiq(*args)

    async def hand_over(self, job_id: uuid.UUID, name: str, args: Sequence[Any]) -> None:
        """After the commit: a queue that is down does not fail the change that was
        committed; the job is due at once, for the relay to hand over later. An in-process
        queue that was not started (a command that runs no jobs, like ``bandstand import``
        without ``--wait``) hands over nothing: the job waits in the database for the next
        process that runs jobs, which resumes every pending one as it starts."""
        if self.in_process and self._sessionmaker is None:
            return
        try:
            await self._kick(job_id, name, args)
        except Exception as exc:
            log.warning("job_not_handed_over", job=name, job_id=str(job_id), error=repr(exc))
            with contextlib.suppress(Exception):
                async with transaction(self.sessionmaker) as session:
                    await outbox.due_now(session, [job_id], utcnow())

    def relay_soon(self) -> None:
        if self._relay is not None:
            self._relay.soon()

    async def settle(self, timeout_s: float = 60) -> None:
        """Wait until no job is pending, queued or running (tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self._idle():
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("jobs still running")

    async def _running_done(self) -> None:
        assert isinstance(self.broker, InMemoryBroker)
        while running := set(self.broker._running_tasks):
            await asyncio.wait(running)

    async def _idle(self) -> bool:
        if not await self._broker_idle():
            return False
        if self._sessionmaker is None:
            return True
        async with self._sessionmaker() as session:
            return await outbox.count(session) == 0

    async def _broker_idle(self) -> bool:
        if isinstance(self.broker, InMemoryBroker):
            return not self.broker._running_tasks
        assert isinstance(self.broker, RedisStreamBroker)
        async with Redis(connection_pool=self.broker.connection_pool) as redis:
            try:
                stream = await redis.xinfo_stream(self.broker.queue_name)
                groups = await redis.xinfo_groups(self.broker.queue_name)
            except ResponseError:
                return True  # no stream (Redis was emptied): nothing is queued
            except (RedisConnectionError, RedisTimeoutError):
                return False  # down: what it holds is unknown
        group = next(
            (g for g in groups if g["name"].decode() == self.broker.consumer_group_name), None
        )
        # Everything added was handed out, and everything handed out was acknowledged.
        return (
            group is not None
            and group["pending"] == 0
            and group["last-delivered-id"] == stream["last-generated-id"]
        )
