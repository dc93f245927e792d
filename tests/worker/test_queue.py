"""The job queue: retries with back-off, periodic jobs once per period across processes,
and a worker killed mid-job whose job another worker finishes."""

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

from bandstand.worker.jobs import job
from bandstand.worker.periodic import Periodic, keep_time
from bandstand.worker.queue import Queue
from tests import services
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import SONGS, artist, uploaded

TRIES: Counter[str] = Counter()


@job("tests.flaky")
async def flaky(name: str, fail_times: int, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Fails its first ``fail_times`` tries (a stand-in for a store or mail server that is
    briefly down), then succeeds."""
    TRIES[name] += 1
    if TRIES[name] <= fail_times:
        raise ConnectionError(f"try {TRIES[name]} of {name} failed")


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
    await harness.settle()
    assert TRIES["always"] == 3


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
        queue.enqueue = record  # type: ignore[method-assign]
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


@contextlib.contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [str(Path(sys.executable).parent / "bandstand"), "worker"]
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
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


async def test_a_worker_killed_mid_job_leaves_it_to_another(
    make_harness: Any, redis_url: str, tmp_path: Path
) -> None:
    # The API only enqueues: `bandstand worker` processes run the jobs.
    harness: Harness = await make_harness(
        redis_url=redis_url, run_jobs_in_api=False, job_reclaim_after_s=1
    )
    s = harness.settings
    env = os.environ | {
        "BANDSTAND_DATABASE_URL": s.effective_database_url,
        "BANDSTAND_REDIS_URL": redis_url,
        "BANDSTAND_REDIS_NAMESPACE": s.redis_namespace,
        "BANDSTAND_DATA_DIR": str(s.data_dir),
        "BANDSTAND_SECRET_KEY": s.secret_key.get_secret_value() if s.secret_key else "",
        "BANDSTAND_JOB_RECLAIM_AFTER_S": "1",
        "BANDSTAND_ENV": "test",
    }
    log = tmp_path / "workers.log"
    scratch = s.scratch_dir

    async def job_started() -> bool:
        return scratch.exists() and any(scratch.glob("bandstand-job-*/out"))

    with _worker(env, log) as first:
        who = await artist(harness)  # its email job goes through the first worker too
        song = await uploaded(who, tone("wav", 240.0))

        async def status() -> str:
            response = await who.client.get(f"{SONGS}/{song['_id']}", headers=who.auth)
            return str(response.json()["data"]["status"])

        await _wait_for(job_started, 60, "the first worker to start the job", log)
        first.send_signal(signal.SIGKILL)  # no goodbye: the message stays unacknowledged
        first.wait(10)
    assert await status() == "processing"

    with _worker(env, log):

        async def ready() -> bool:
            return await status() == "ready"

        await _wait_for(ready, 120, "the second worker to finish the song", log)
    assert "song_ready" in await asyncio.to_thread(log.read_text)
