"""Jobs kept in the database until done: written with the change that asks for them,
leased while they run, given up after their tries, resumed when the embedded server
starts again; and the scratch a dead process left behind is removed."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bandstand.db import transaction
from bandstand.kit.time import utcnow
from bandstand.models import PendingJob, Song, SongStatus
from bandstand.songs import renditions
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import artist, uploaded
from tests.worker.jobs import RUNS, gate, pending


async def _wait_until(check: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_job_is_kept_until_done_and_gone_after(harness: Harness) -> None:
    rt = harness.app.state.runtime
    started, release = gate("kept")
    await rt.queue.enqueue("tests.gated", "kept")
    await asyncio.wait_for(started.wait(), 10)
    [row] = await pending(rt)
    assert (row.name, row.args, row.state, row.attempts) == ("tests.gated", ["kept"], "running", 1)
    release.set()
    await harness.settle()
    assert await pending(rt) == []
    assert RUNS["kept"] == 1


async def test_a_change_that_rolls_back_leaves_no_job(harness: Harness) -> None:
    rt = harness.app.state.runtime
    with pytest.raises(RuntimeError):
        async with transaction(rt.sessionmaker) as session:
            rt.queue.enqueue_after_commit(session, "tests.record", "rolled-back")
            raise RuntimeError("the change failed")
    await harness.settle()
    assert await pending(rt) == []
    assert RUNS["rolled-back"] == 0


async def test_a_live_workers_long_job_is_never_taken_from_it(make_harness: Any) -> None:
    """The job runs for six leases; the relay looks every 50 ms. Had the lease not been
    renewed, the job would have been handed out and run again."""
    harness: Harness = await make_harness(job_lease_s=0.3, job_relay_every_s=0.05)
    await harness.app.state.runtime.queue.enqueue("tests.sleep", "long", 1.8)
    await harness.settle()
    assert RUNS["long"] == 1


async def _stalled_song(harness: Harness) -> str:
    """A song that went back to processing, stalled since long ago."""
    who = await artist(harness)
    song = await uploaded(who, tone("mp3", 0.5))
    await harness.settle()
    async with transaction(harness.app.state.runtime.sessionmaker) as session:
        await session.execute(
            update(Song)
            .where(Song.id == uuid.UUID(song["_id"]))
            .values(status=SongStatus.PROCESSING, created_at=utcnow() - timedelta(hours=2))
        )
    return str(song["_id"])


async def _song_row(harness: Harness, song_id: str) -> Song:
    async with harness.app.state.runtime.sessionmaker() as session:
        song = await session.get(Song, uuid.UUID(song_id))
        assert song is not None
        return song


async def test_a_job_whose_worker_dies_on_every_try_ends_the_song_failed(
    make_harness: Any,
) -> None:
    """A song whose processing kills its worker each time: requeue_stalled leaves it to
    its job, whose tries are counted; after the last, the song is failed with a reason and
    the job is gone (it used to be queued again at every clean-up, for ever)."""
    harness: Harness = await make_harness(job_max_tries=3, processing_stall_s=60)
    rt = harness.app.state.runtime
    song_id = await _stalled_song(harness)
    async with transaction(rt.sessionmaker) as session:
        session.add(
            PendingJob(
                name="songs.process",
                args=[song_id],
                state="running",
                attempts=3,
                run_after=utcnow() + timedelta(hours=1),  # its worker is still at it
            )
        )
    assert (
        await renditions.requeue_stalled(rt.sessionmaker, rt.queue, rt.settings.processing_stall_s)
        == 0
    )  # it has a job: left to it
    async with transaction(rt.sessionmaker) as session:  # it died: its lease runs out
        await session.execute(update(PendingJob).values(run_after=utcnow()))
    rt.queue.relay_soon()
    await harness.settle()
    assert await pending(rt) == []
    song = await _song_row(harness, song_id)
    assert song.status == SongStatus.FAILED
    assert song.failure_reason is not None and "failed 3 times" in song.failure_reason


async def test_a_stalled_song_with_no_job_is_queued_again(make_harness: Any) -> None:
    harness: Harness = await make_harness(processing_stall_s=60)
    rt = harness.app.state.runtime
    song_id = await _stalled_song(harness)
    assert (
        await renditions.requeue_stalled(rt.sessionmaker, rt.queue, rt.settings.processing_stall_s)
        == 1
    )
    await harness.settle()
    assert (await _song_row(harness, song_id)).status == SongStatus.READY


# --- the embedded server starting again after a SIGKILL ---------------------------------


def _orphaned_scratch(root: Path) -> tuple[Path, Path]:
    """What a killed server leaves: its locked folder, unlocked now, with a job's files;
    and a folder an older version left loose."""
    dead = root / f"jobs-{uuid.uuid4().hex}"
    (dead / "bandstand-job-x" / "out").mkdir(parents=True)
    (dead / "bandstand-job-x" / "out" / "segment.m4s").write_bytes(b"\0" * 100_000)
    legacy = root / "bandstand-job-abc123"
    (legacy / "out").mkdir(parents=True)
    return dead, legacy


def _live_scratch(root: Path) -> tuple[Path, int]:
    """A folder a live worker holds (this test holds its lock)."""
    live = root / f"jobs-{uuid.uuid4().hex}"
    live.mkdir(parents=True)
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return live, fd


async def test_pending_jobs_and_scratch_of_a_killed_embedded_server_are_recovered(
    make_settings: Any, make_harness: Any, database_url: str
) -> None:
    settings = make_settings()
    if settings.redis_url:
        pytest.skip("the embedded default (jobs in memory) only")
    # What a server SIGKILLed mid-job leaves: a job it was running (its lease still
    # current: it had just renewed it), one it had queued in memory, and its scratch.
    engine = create_async_engine(database_url)
    try:
        async with transaction(async_sessionmaker(engine)) as session:
            session.add_all(
                [
                    PendingJob(
                        name="tests.record",
                        args=["was-running"],
                        state="running",
                        attempts=1,
                        run_after=utcnow() + timedelta(seconds=25),
                    ),
                    PendingJob(
                        name="tests.record",
                        args=["was-queued"],
                        state="queued",
                        attempts=0,
                        run_after=utcnow() + timedelta(minutes=5),
                    ),
                ]
            )
    finally:
        await engine.dispose()
    dead, legacy = _orphaned_scratch(settings.scratch_dir)
    live, fd = _live_scratch(settings.scratch_dir)
    try:
        started = time.monotonic()
        harness: Harness = await make_harness()
        await harness.settle()
        assert time.monotonic() - started < 10
        assert (RUNS["was-running"], RUNS["was-queued"]) == (1, 1)
        assert not dead.exists() and not legacy.exists()
        assert live.exists()  # a live process's folder is never touched
        own = await harness.app.state.runtime.queue.scratch_dir()
        assert own.exists() and own != live
    finally:
        os.close(fd)
