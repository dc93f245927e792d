"""The job queue: taskiq's in-process broker on the embedded default, a Redis stream with
acknowledged delivery in production (``bandstand worker`` runs the jobs)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import AsyncGenerator
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from bandstand.config import Settings
from bandstand.db import after_commit
from bandstand.worker.jobs import JOB_MODULES, JOBS
from bandstand.worker.retry import retry_middlewares

if TYPE_CHECKING:
    from bandstand.runtime import Runtime

log = structlog.get_logger(__name__)


class StreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, with three changes:

    - what a dead worker left behind is claimed even while no new job arrives (its own
      listen() looks only after a read that returned some, so on a quiet queue such a job
      waited for the next upload);
    - one message is taken at a time, when the receiver has room for it: a message counts
      as idle from the moment it is read, and one that sat in a batch behind long jobs
      would be claimed again by another worker while this one still meant to run it;
    - a job is deleted from the stream once acknowledged: nothing it carried (an email's
      code) stays in Redis, and the stream does not grow forever.

    While Redis is unreachable it waits, longer each time, instead of spinning."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        pause = 0.0
        while True:
            try:
                async for message in self._read():
                    pause = 0.0
                    yield message
            except (RedisConnectionError, RedisTimeoutError) as exc:
                pause = min(max(pause * 2, 1.0), 30.0)
                log.warning("job_queue_unreachable", error=str(exc), retry_in_s=pause)
                await asyncio.sleep(pause)

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
                    log.info("job_reclaimed", message=message_id.decode())
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
    broker: AsyncBroker
    if settings.redis_url:
        namespace = settings.redis_namespace
        broker = StreamBroker(
            settings.redis_url,
            queue_name=f"{namespace}:jobs",
            consumer_group_name=f"{namespace}:workers",
            # A message a worker took and never acknowledged (it died) goes to another
            # worker after this long.
            idle_timeout=int(settings.job_reclaim_after_s * 1000),
            xread_block=1000,
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.job_concurrency)
    broker.add_middlewares(*retry_middlewares(settings))
    for module in JOB_MODULES:
        importlib.import_module(module)
    for name, func in JOBS.items():
        broker.register_task(func, task_name=name)
    return broker


class Queue:
    """Enqueue jobs by name; in this process, run them too if asked."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = build_broker(settings)
        self._receiver: asyncio.Task[None] | None = None

    @property
    def in_process(self) -> bool:
        """Whether jobs run in whatever process enqueues them (the embedded default)."""
        return isinstance(self.broker, InMemoryBroker)

    async def start(self, runtime: Runtime, *, consume: bool) -> None:
        """Connect; with ``consume``, also take jobs off a Redis stream in this process
        (``bandstand worker``, or a test). The in-process broker always runs its jobs."""
        self.broker.state.runtime = runtime
        if consume and not self.in_process:
            self.broker.is_worker_process = True
        await self.broker.startup()
        if consume and not self.in_process:
            self._receiver = asyncio.create_task(
                run_receiver_task(
                    self.broker,
                    max_async_tasks=self.settings.job_concurrency,
                    # Acknowledged once the job has run: a worker killed mid-job leaves
                    # the message for another.
                    ack_time=AcknowledgeType.WHEN_EXECUTED,
                )
            )

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            # taskiq's receiver does not always finish promptly once cancelled; do not let
            # it hold up the shutdown (an unfinished job stays unacknowledged, for later).
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._receiver, self.settings.job_shutdown_grace_s)
        if isinstance(self.broker, InMemoryBroker):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settle(), self.settings.job_shutdown_grace_s)
        await self.broker.shutdown()

    async def enqueue(self, name: str, *args: Any) -> None:
        if name not in JOBS:
            raise KeyError(f"no job is called {name!r}")
        await AsyncKicker(task_name=name, broker=self.broker, labels={}).kiq(*args)

    def enqueue_after_commit(self, session: AsyncSession, name: str, *args: Any) -> None:
        """Enqueue once the transaction commits, never for one that rolls back."""
        after_commit(session, partial(self.enqueue, name, *args))

    async def settle(self, timeout_s: float = 60) -> None:
        """Wait until no job is queued or running (tests, and a clean shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self._idle():
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("jobs still running")

    async def _idle(self) -> bool:
        if isinstance(self.broker, InMemoryBroker):
            return not self.broker._running_tasks
        assert isinstance(self.broker, RedisStreamBroker)
        async with Redis(connection_pool=self.broker.connection_pool) as redis:
            try:
                stream = await redis.xinfo_stream(self.broker.queue_name)
                groups = await redis.xinfo_groups(self.broker.queue_name)
            except ResponseError:
                return True  # no stream (Redis was emptied): nothing is queued
        group = next(
            (g for g in groups if g["name"].decode() == self.broker.consumer_group_name), None
        )
        # Everything added was handed out, and everything handed out was acknowledged.
        return (
            group is not None
            and group["pending"] == 0
            and group["last-delivered-id"] == stream["last-generated-id"]
        )
