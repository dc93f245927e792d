"""Redis emptied or killed is an ordinary event for the queue: the worker makes its
consumer group again and says so once, jobs queued meanwhile are not skipped, what Redis
lost is handed over again from the database, and a change committed while Redis was down
still gets its job (a sign-up's email, a delete's file clean-up) once Redis is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.audio import tone
from tests.conftest import Harness
from tests.processes import RedisServer
from tests.songs.support import SONGS, artist, song_files, uploaded
from tests.worker.jobs import RUNS, gate


async def _wait_until(check: Any, within_s: float, what: str) -> float:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _ran(name: str) -> bool:
    return RUNS[name] > 0


async def test_after_redis_is_emptied_the_worker_recovers_and_runs_the_next_job(
    redis_server: RedisServer, make_harness: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    harness: Harness = await make_harness(redis_url=redis_server.url)
    queue = harness.app.state.runtime.queue
    await queue.enqueue("tests.record", "before")
    await harness.settle()
    redis_server.flush()
    await queue.enqueue("tests.record", "after")
    # Promptly: not after a sweep, not never (the group used to be made again at the
    # stream's end, past this job, or not at all).
    assert await _wait_until(lambda: _ran("after"), 10, "the job queued after") < 5
    await harness.settle()
    out = capfd.readouterr()
    logs = out.out + out.err
    assert logs.count("job_queue_group_lost") == 1
    assert "Traceback" not in logs
    assert RUNS["after"] == 1


async def test_jobs_redis_lost_are_handed_over_again_at_once(
    redis_server: RedisServer, make_harness: Any
) -> None:
    """A job waits in the stream behind a long one; Redis is emptied; it still runs, as
    soon as the worker has room (not after ``job_redeliver_after_s``)."""
    harness: Harness = await make_harness(
        redis_url=redis_server.url, job_concurrency=1, job_relay_every_s=0.1
    )
    queue = harness.app.state.runtime.queue
    started, release = gate("long")
    await queue.enqueue("tests.gated", "long")
    await asyncio.wait_for(started.wait(), 10)
    await queue.enqueue("tests.record", "lost")
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert await client.xlen(f"{harness.settings.redis_namespace}:jobs") == 1  # unread
    finally:
        await client.aclose()
    redis_server.flush()
    release.set()
    await _wait_until(lambda: _ran("lost"), 10, "the job Redis lost")
    await harness.settle()
    assert RUNS["lost"] == 1


@contextlib.contextmanager
def _redis_dies_at_commit(server: RedisServer) -> Iterator[None]:
    """Kill Redis the moment the next transaction with a job in it commits: after every
    check that needed Redis, before the job is handed to it."""
    killed: list[bool] = []

    def kill(session: Session) -> None:
        if not killed and session.info.get("after_commit"):
            killed.append(True)
            server.kill()

    event.listen(Session, "after_commit", kill)
    try:
        yield
    finally:
        event.remove(Session, "after_commit", kill)
    assert killed, "no job was committed"


async def test_a_sign_up_committed_while_redis_dies_still_gets_its_email(
    redis_server: RedisServer, make_harness: Any
) -> None:
    harness: Harness = await make_harness(redis_url=redis_server.url, job_relay_every_s=0.2)
    client = harness.client()
    with _redis_dies_at_commit(redis_server):
        response = await harness.register(client, email_address="late@example.com")
    assert response.status_code == 200, response.text
    redis_server.start()  # back, and empty

    async def emailed() -> bool:
        return harness.outbox.exists() and any(harness.outbox.glob("*.eml"))

    await _wait_until(emailed, 15, "the sign-up email")
    await harness.settle()
    assert len(list(harness.outbox.glob("*.eml"))) == 1


async def test_a_delete_committed_while_redis_dies_still_removes_the_files(
    redis_server: RedisServer, make_harness: Any
) -> None:
    harness: Harness = await make_harness(redis_url=redis_server.url, job_relay_every_s=0.2)
    who = await artist(harness)
    song = await uploaded(who, tone("mp3", 0.5))
    await harness.settle()
    assert await song_files(harness)
    with _redis_dies_at_commit(redis_server):
        deleted = await who.client.request(
            "DELETE", f"{SONGS}/delete", json={"songId": song["_id"]}, headers=who.auth
        )
    assert deleted.status_code == 200, deleted.text
    redis_server.start()
    await harness.settle()
    assert await song_files(harness) == []
