"""A try is counted only once its job really starts, and a try that lost its lease says
nothing more of its job; the relay and the stream consumer survive what fails them (a row
that cannot be sent, a Redis that refuses commands) without stalling or flooding the log."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as redis
from sqlalchemy import delete, update
from taskiq.exceptions import SendTaskError

from bandstand.db import transaction
from bandstand.kit.time import utcnow
from bandstand.models import PendingJob, Song, SongStatus
from bandstand.worker import outbox
from bandstand.worker.relay import Relay
from tests.audio import tone
from tests.conftest import Harness
from tests.processes import RedisServer, free_port
from tests.songs.support import artist, uploaded
from tests.worker.jobs import RUNS, gate, pending


async def _wait_until(check: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_the_in_process_queue_runs_job_concurrency_jobs_at_once(make_harness: Any) -> None:
    """taskiq's in-process broker starts every message at once; the jobs beyond
    ``job_concurrency`` wait their turn unclaimed, and no try is counted for them."""
    harness: Harness = await make_harness(redis_url=None, job_concurrency=2)
    rt = harness.app.state.runtime
    gates = [gate(f"turn-{i}") for i in range(4)]
    for i in range(4):
        await rt.queue.enqueue("tests.gated", f"turn-{i}")

    async def two_started_four_held() -> bool:
        return sum(started.is_set() for started, _ in gates) >= 2 and len(rt.queue.held) == 4

    await _wait_until(two_started_four_held, 10, "two jobs started")
    await asyncio.sleep(0.3)  # had a third a slot, it would have started by now
    assert sum(started.is_set() for started, _ in gates) == 2
    rows = sorted((row.state, row.attempts) for row in await pending(rt))
    assert rows == [("queued", 0), ("queued", 0), ("running", 1), ("running", 1)]
    for _, release in gates:
        release.set()
    await harness.settle()
    assert [RUNS[f"turn-{i}"] for i in range(4)] == [1, 1, 1, 1]


async def test_uploads_waiting_for_ffmpeg_are_not_started(make_harness: Any) -> None:
    """While FFmpeg's one slot is busy, the uploads behind it are not claimed: a worker
    killed meanwhile (or a poison upload beside them) costs them no try."""
    harness: Harness = await make_harness(processing_concurrency=1)
    rt = harness.app.state.runtime
    who = await artist(harness)
    async with rt.processing_slots:  # another song is being processed
        songs = [await uploaded(who, tone("mp3", 0.5)) for _ in range(2)]

        async def both_held() -> bool:
            return len(rt.queue.held) == 2

        await _wait_until(both_held, 10, "both jobs taken by the worker")
        await asyncio.sleep(0.3)  # had either been claimed, it would be by now
        rows = [(row.state, row.attempts) for row in await pending(rt)]
        assert rows == [("queued", 0), ("queued", 0)]
    await harness.settle()
    async with rt.sessionmaker() as session:
        for song in songs:
            row = await session.get(Song, uuid.UUID(song["_id"]))
            assert row is not None and row.status == SongStatus.READY


async def test_a_try_that_lost_its_lease_does_not_touch_the_next_claim(
    harness: Harness,
) -> None:
    """The first try stalls past its lease; the relay hands the job over and a second try
    claims it. What the first then says (done, failed, still here) changes nothing."""
    rt = harness.app.state.runtime
    started, release = gate("fenced")
    async with transaction(rt.sessionmaker) as session:
        job_id = outbox.add(session, "tests.gated", ["fenced"], 300)
    async with transaction(rt.sessionmaker) as session:
        assert await outbox.claim(session, job_id, 30) == 1  # the first try
    async with transaction(rt.sessionmaker) as session:  # ... whose lease runs out
        await session.execute(
            update(PendingJob)
            .where(PendingJob.id == job_id)
            .values(run_after=utcnow() - timedelta(seconds=1))
        )
    rt.queue.relay_soon()
    await asyncio.wait_for(started.wait(), 10)  # the second try runs
    [row] = await pending(rt)
    assert (row.state, row.attempts) == ("running", 2)
    async with transaction(rt.sessionmaker) as session:
        assert not await outbox.renew(session, job_id, 1, 30)
        assert not await outbox.retry_later(session, job_id, 1, 60, "late failure")
        assert not await outbox.finish(session, job_id, 1)
    [after] = await pending(rt)
    assert (after.state, after.attempts, after.last_error) == ("running", 2, None)
    assert after.run_after == row.run_after
    release.set()
    await harness.settle()
    assert await pending(rt) == []
    assert RUNS["fenced"] == 1


async def test_a_run_that_loses_its_lease_is_stopped(make_harness: Any) -> None:
    harness: Harness = await make_harness(job_lease_s=1.5)
    rt = harness.app.state.runtime
    started, release = gate("cut")
    await rt.queue.enqueue("tests.gated", "cut")
    await asyncio.wait_for(started.wait(), 10)
    [row] = await pending(rt)
    async with transaction(rt.sessionmaker) as session:  # another worker claims it
        await session.execute(
            update(PendingJob)
            .where(PendingJob.id == row.id)
            .values(attempts=2, run_after=utcnow() + timedelta(hours=1))
        )

    async def let_go() -> bool:
        return row.id not in rt.queue.held

    await _wait_until(let_go, 10, "the run to stop")
    assert not release.is_set()
    [after] = await pending(rt)  # the other worker's claim, untouched
    assert (after.state, after.attempts) == ("running", 2)
    async with transaction(rt.sessionmaker) as session:
        assert await outbox.finish(session, row.id, 2)
    await harness.settle()
    assert RUNS["cut"] == 1


async def test_a_row_that_cannot_be_handed_over_does_not_stall_the_others(
    make_harness: Any,
) -> None:
    """A job no longer registered (renamed in an upgrade) is parked; the jobs due after
    it are handed over on the same pass."""
    harness: Harness = await make_harness(redis_url=None, job_relay_every_s=0.2)
    rt = harness.app.state.runtime
    now = utcnow()
    bad = uuid.uuid4()
    async with transaction(rt.sessionmaker) as session:
        for job_id, name, args, due in [
            (bad, "tests.renamed_long_ago", [], now - timedelta(seconds=2)),
            (uuid.uuid4(), "tests.record", ["behind-bad"], now - timedelta(seconds=1)),
        ]:
            session.add(
                PendingJob(
                    id=job_id, name=name, args=args, state="queued", run_after=due, attempts=0
                )
            )
    rt.queue.relay_soon()

    async def ran() -> bool:
        rows = await pending(rt)
        return RUNS["behind-bad"] == 1 and [row.id for row in rows] == [bad]

    await _wait_until(ran, 10, "the job behind the bad one")
    [parked] = await pending(rt)
    assert parked.run_after > utcnow() + timedelta(seconds=60)
    async with transaction(rt.sessionmaker) as session:
        await session.execute(delete(PendingJob).where(PendingJob.id == bad))
    await harness.settle()


async def test_a_redis_that_refuses_commands_is_waited_out_quietly(
    redis_server: RedisServer,
    make_harness: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis made a replica (read-only: every XREADGROUP is refused with READONLY): the
    worker says so once and backs off, instead of a traceback per retry; then it resumes."""
    harness: Harness = await make_harness(redis_url=redis_server.url)
    queue = harness.app.state.runtime.queue
    await queue.enqueue("tests.record", "before-readonly")
    await harness.settle()
    client = redis.Redis.from_url(redis_server.url)
    try:
        capfd.readouterr()
        caplog.clear()
        await client.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
        await asyncio.sleep(2.5)  # what the worker logs while Redis keeps refusing
        out = capfd.readouterr()
        records = [r for r in caplog.records if r.levelno >= logging.WARNING]
        await client.execute_command("REPLICAOF", "NO", "ONE")
    finally:
        await client.aclose()
    logs = out.out + out.err
    assert len(logs.splitlines()) + len(records) < 20, logs[-3000:]  # not per retry ...
    assert "Traceback" not in logs
    assert "read only replica" in logs  # ... but once
    await queue.enqueue("tests.record", "after-readonly")

    async def ran() -> bool:
        return RUNS["after-readonly"] == 1

    await _wait_until(ran, 20, "the job queued once Redis took writes again")
    await harness.settle()


async def test_rows_not_handed_over_for_want_of_redis_stay_due(
    redis_server: RedisServer, make_harness: Any
) -> None:
    """Unlike a bad row, a queue that is down fails every row alike: none is parked, all
    are handed over as soon as Redis is back."""
    harness: Harness = await make_harness(redis_url=redis_server.url, job_relay_every_s=0.2)
    rt = harness.app.state.runtime
    async with transaction(rt.sessionmaker) as session:
        session.add(
            PendingJob(
                name="tests.record",
                args=["while-down"],
                state="queued",
                run_after=utcnow() + timedelta(hours=1),
                attempts=0,
            )
        )
    redis_server.kill()
    async with transaction(rt.sessionmaker) as session:
        await session.execute(update(PendingJob).values(run_after=utcnow()))
    relay = Relay(rt.settings, rt.sessionmaker, rt.queue._kick, None)
    with pytest.raises(SendTaskError):
        await relay.pass_once()
    [row] = await pending(rt)
    assert row.run_after <= utcnow()
    redis_server.start()

    async def ran() -> bool:
        return RUNS["while-down"] == 1

    await _wait_until(ran, 20, "the job once Redis is back")
    await harness.settle()
