"""The job queue: retries with back-off, periodic jobs once per period across processes,
and a worker killed mid-job whose job another worker finishes (within a lease that a live
worker renews)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import redis.asyncio as redis
from taskiq import Context, TaskiqDepends

from bandstand.resources import JobQueue, JobSettings
from bandstand.worker.jobs import job
from bandstand.worker.periodic import Periodic, keep_time
from bandstand.worker.queue import Queue
from tests import services
from tests.conftest import Harness
from tests.worker import jobs  # noqa: F401  (registers the test jobs)

TRIES: Counter[str] = Counter()


@job("tests.flaky")
async def flaky(name: str, fail_times: int, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Fails its first ``fail_times`` tries (a stand-in for a store or mail server that is
    briefly down), then succeeds."""
    TRIES[name] += 1
    if TRIES[name] <= fail_times:
        raise ConnectionError(f"try {TRIES[name]} of {name} failed")


GIVEN: dict[str, tuple[object, object, str]] = {}


@job("tests.parts")
async def parts(
    name: str,
    settings: JobSettings,
    queue: JobQueue,
    context: Annotated[Context, TaskiqDepends()],
) -> None:
    """Declares the parts it uses, as a domain's job does, and its context besides."""
    GIVEN[name] = (settings, queue, context.message.task_name)


async def test_a_job_is_given_the_parts_it_declares(harness: Harness) -> None:
    runtime = harness.app.state.runtime
    await runtime.queue.enqueue("tests.parts", "given")
    await harness.settle()
    assert GIVEN["given"] == (runtime.settings, runtime.queue, "tests.parts")


async def test_a_job_that_fails_once_succeeds_on_retry(harness: Harness) -> None:
    started = time.monotonic()
    await harness.app.state.runtime.queue.enqueue("tests.flaky", "once", 1)
    await harness.settle()
    assert TRIES["once"] == 2
    # The retry waited its back-off (0.05 s × 1 in tests, plus up to 1 s of jitter).
    assert time.monotonic() - started >= 0.05


async def test_a_job_is_tried_at_most_job_max_tries_times(make_harness: Any) -> None:
    harness: Harness = await make_harness(job_max_tries=3)
    await harness.app.state.runtime.queue.enqueue("tests.flaky", "always", 100)
    await harness.settle()  # the job is forgotten after its last try
    assert TRIES["always"] == 3
    assert await harness.sql("SELECT id FROM pending_jobs") == []


@pytest.fixture
async def redis_url() -> str:
    url = services.REDIS_DEFAULT
    client = redis.Redis.from_url(url)
    try:
        await client.ping()
    except (redis.ConnectionError, OSError) as exc:
        services.missing("Redis", f"{url}: {exc}")
    finally:
        await client.aclose()
    return url


async def test_a_periodic_job_runs_once_per_period_across_processes(
    make_settings: Any, redis_url: str
) -> None:
    """Three processes keep time (three clocks, three Redis connections): each period's
    job is enqueued by exactly one of them."""
    settings = make_settings(redis_url=redis_url)
    queues = [Queue(settings) for _ in range(3)]
    enqueued: list[float] = []

    async def record(name: str, *args: Any) -> None:
        enqueued.append(time.time())

    for queue in queues:
        queue.kick = record  # type: ignore[method-assign]
    every = 0.2
    clocks = [
        asyncio.create_task(keep_time(q, [Periodic("tests.flaky", every)], 0.01)) for q in queues
    ]
    await asyncio.sleep(1.5)
    for clock in clocks:
        clock.cancel()
    await asyncio.gather(*clocks, return_exceptions=True)
    periods = Counter(int(moment // every) for moment in enqueued)
    assert len(periods) >= 5
    assert set(periods.values()) == {1}


# --- a worker killed mid-job -------------------------------------------------------------


# `bandstand worker`, with the test jobs registered too (tests/worker/jobs.py).
WORKER = "import tests.worker.jobs; from bandstand.cli import app; app(['worker'])"


@contextlib.contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_for(check: Any, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            tail = (await asyncio.to_thread(log.read_text))[-3000:]
            pytest.fail(f"timed out waiting for {what}; worker log:\n{tail}")
        await asyncio.sleep(0.05)


async def test_a_killed_workers_job_goes_to_another_within_the_lease_and_a_live_ones_never(
    make_harness: Any, redis_url: str, tmp_path: Path
) -> None:
    """Two `bandstand worker` processes with a one-second lease. One runs a 3.5-second job
    for three leases while the other looks on: it is not taken. Then the one running it is
    SIGKILLed: the other starts the job within a lease (it used to wait out
    BANDSTAND_JOB_RECLAIM_AFTER_S, 900 s), and finishes it."""
    lease = 1.0
    # The API only enqueues: `bandstand worker` processes run the jobs.
    harness: Harness = await make_harness(
        redis_url=redis_url, run_jobs_in_api=False, job_lease_s=lease
    )
    s = harness.settings
    env = os.environ | {
        "BANDSTAND_DATABASE_URL": s.effective_database_url,
        "BANDSTAND_REDIS_URL": redis_url,
        "BANDSTAND_REDIS_NAMESPACE": s.redis_namespace,
        "BANDSTAND_DATA_DIR": str(s.data_dir),
        "BANDSTAND_SECRET_KEY": s.secret_key.get_secret_value() if s.secret_key else "",
        "BANDSTAND_JOB_LEASE_S": str(lease),
        "BANDSTAND_JOB_RELAY_EVERY_S": "0.2",
        "BANDSTAND_ENV": "test",
    }
    logs = [tmp_path / "first.log", tmp_path / "second.log"]

    async def started_in(log: Path) -> int:
        return (await asyncio.to_thread(log.read_text)).count("test_sleep_started")

    async def starts() -> int:
        return sum([await started_in(log) for log in logs])

    with _worker(env, logs[0]) as first, _worker(env, logs[1]) as second:

        async def both_up() -> bool:
            texts = [await asyncio.to_thread(log.read_text) for log in logs]
            return all("worker_started" in text for text in texts)

        await _wait_for(both_up, 30, "both workers", logs[0])
        await harness.app.state.runtime.queue.enqueue("tests.sleep", "killed-worker", 3.5)

        async def one_started() -> bool:
            return await starts() == 1

        await _wait_for(one_started, 10, "a worker to start the job", logs[0])
        running_since = time.monotonic()
        runner, other, other_log = (
            (first, second, logs[1]) if await started_in(logs[0]) else (second, first, logs[0])
        )

        async def three_leases_passed() -> bool:
            return time.monotonic() - running_since > 3 * lease

        await _wait_for(three_leases_passed, 10, "three leases", other_log)
        assert await starts() == 1  # the live worker keeps its job
        runner.send_signal(signal.SIGKILL)  # no goodbye: it never finishes the job
        runner.wait(10)
        killed_at = time.monotonic()

        async def other_started() -> bool:
            return await started_in(other_log) == 1

        await _wait_for(other_started, 10, "the other worker to take the job", other_log)
        assert time.monotonic() - killed_at < lease + 2  # a lease, plus a relay pass

        async def done() -> bool:
            return await harness.sql("SELECT id FROM pending_jobs") == []

        await _wait_for(done, 20, "the other worker to finish the job", other_log)
        assert other.poll() is None
    assert await starts() == 2
