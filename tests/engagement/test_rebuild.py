"""After the counter store is lost (Redis emptied, the embedded server killed), `bandstand
counters rebuild` recomputes every counter from the truth tables: no like is lost."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from bandstand.engagement.counters.flush import CLEAN_STOP_MARK, rebuild_counters
from bandstand.engagement.counters.memory import MemoryCounters
from bandstand.engagement.likes import build_likes
from bandstand.runtime import Runtime
from tests.conftest import Harness
from tests.engagement.support import (
    SONGS,
    a_song,
    flush,
    likes_in_table,
    likes_then_stop,
    listeners,
    runtime,
    shown,
    song_row,
    stored_likes,
)
from tests.songs.support import Artist, artist

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))


async def _lose_the_store(harness: Harness) -> None:
    """What a Redis restart without persistence does, or a killed embedded server."""
    rt = runtime(harness)
    if harness.settings.redis_url is None:
        rt.counters = MemoryCounters()
        rt.likes = build_likes(rt.driver_pool, rt.sessionmaker, rt.counters)
        return
    redis = Redis.from_url(harness.settings.redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{harness.settings.redis_namespace}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def _toggle(fans: list[Artist], song_id: str, verb: str) -> None:
    answers = await asyncio.gather(
        *(f.client.post(f"{SONGS}/{song_id}/{verb}", headers=f.auth) for f in fans)
    )
    assert all(a.status_code == 200 for a in answers)


async def test_no_like_is_lost_when_the_store_is_emptied_mid_run(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 10)
    song = await a_song(harness, owner)
    await _toggle(fans[:6], song["_id"], "like")
    await flush(harness)  # six in the row
    await _toggle(fans[6:], song["_id"], "like")  # four pending...
    await _lose_the_store(harness)  # ...and gone
    await _toggle(fans[:2], song["_id"], "unlike")  # after the restart: -2 pending
    truth = await likes_in_table(harness, song["_id"])
    assert truth == 8
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == 4  # drifted

    await rebuild_counters(runtime(harness))
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == truth
    assert (await song_row(harness, song["_id"]))["likeCount"] == truth
    # Likes after the rebuild count as ever.
    await _toggle(fans[:1], song["_id"], "like")
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == truth + 1


async def test_a_rebuild_keeps_what_is_still_pending(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 4)
    song = await a_song(harness, owner)
    await _toggle(fans, song["_id"], "like")
    # Nothing lost: the rebuild flushes, recounts, and counts nothing twice.
    await rebuild_counters(runtime(harness))
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 4
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == 4


async def test_the_commands_rebuild_and_flush(make_settings: Any, make_harness: Any) -> None:
    settings, _ = await likes_then_stop(make_settings)
    rt = Runtime.build(settings)
    try:
        async with rt.sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE song_stats SET like_count = 99"))  # drift
    finally:
        await rt.close()

    def run(*args: str) -> Any:
        return subprocess.run(
            [BANDSTAND, "counters", *args],
            env=_cli_env(settings),
            capture_output=True,
            text=True,
            timeout=120,
        )

    rebuilt = await asyncio.to_thread(run, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Counters rebuilt" in rebuilt.stdout
    assert await stored_likes(settings) == 3
    flushed = await asyncio.to_thread(run, "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "Flushed 0 counters" in flushed.stdout
    assert await stored_likes(settings) == 3


async def test_an_embedded_server_rebuilds_at_start_after_a_crash(
    make_settings: Any, make_harness: Any
) -> None:
    settings, _ = await likes_then_stop(make_settings)
    if settings.redis_url:
        return  # with Redis the deltas outlive a crash; nothing to rebuild at start
    assert await stored_likes(settings) == 3  # written when it stopped
    # A crash: the deltas in memory are lost and no clean stop is recorded.
    (settings.data_dir / CLEAN_STOP_MARK).unlink()
    rt = Runtime.build(settings)
    try:
        async with rt.sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE song_stats SET like_count = 1"))
    finally:
        await rt.close()
    harness = await make_harness(data_dir=settings.data_dir)
    assert harness.settings.data_dir == settings.data_dir
    assert await stored_likes(settings) == 3


def _cli_env(settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    env["BANDSTAND_DATA_DIR"] = str(settings.data_dir)
    env["BANDSTAND_DATABASE_URL"] = settings.effective_database_url
    env["BANDSTAND_REDIS_NAMESPACE"] = settings.redis_namespace
    if settings.redis_url:
        env["BANDSTAND_REDIS_URL"] = settings.redis_url
    return env


async def test_a_rebuild_waits_for_a_flush_in_progress(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 2)
    song = await a_song(harness, owner)
    await _toggle(fans, song["_id"], "like")
    rt = runtime(harness)
    token = await rt.counters.flush_lock(60)  # another process is flushing
    assert token is not None
    rebuilding = asyncio.create_task(rebuild_counters(rt))
    await asyncio.sleep(0.5)
    assert not rebuilding.done()
    await rt.counters.release(token)
    await asyncio.wait_for(rebuilding, 10)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 2
