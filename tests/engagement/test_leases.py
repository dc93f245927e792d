"""The leases that keep one flush and one rebuild at a time: a rebuild that fails is
tried again by a later flush, and a flush whose lock expired stops."""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

import pytest
from redis.asyncio import Redis

from bandstand.engagement.counters import flush as flushing
from bandstand.engagement.counters.flush import LeaseLost, flush_counters, heal_counters
from bandstand.runtime import Runtime
from tests.conftest import Harness
from tests.engagement.support import SONGS, a_song, listeners, runtime, song_row
from tests.processes import RedisServer
from tests.songs.support import artist


class _RebuildFailed(Exception):
    """A rebuild that fails (the database gone for a moment, say)."""


async def _fail(_: Runtime) -> NoReturn:
    raise _RebuildFailed


async def test_a_rebuild_that_failed_is_tried_again_by_the_next_flush_simulated(
    redis_server: RedisServer,  # first: it must outlive the server using it
    make_harness: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated: the first rebuild raises (no real fault can be placed inside it)."""
    harness: Harness = await make_harness(redis_url=redis_server.url)
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    rt = runtime(harness)
    assert await rt.counters.intact()  # stamped before the app started, its tables empty
    liked = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
    assert liked.status_code == 200, liked.text
    redis_server.flush()  # the pending like is gone

    with monkeypatch.context() as patch:
        patch.setattr(flushing, "rebuild_counters", _fail)
        with pytest.raises(_RebuildFailed):
            await heal_counters(rt)
    assert not await rt.counters.intact()  # no stamp claims a rebuild that did not happen
    assert await heal_counters(rt)
    assert await song_row(harness, song["_id"]) == {"views": 0, "likeCount": 1, "commentCount": 0}
    assert not await heal_counters(rt)  # stamped for good now


async def test_a_killed_rebuilds_stamp_expires(
    redis_server: RedisServer, make_harness: Any
) -> None:
    """A process killed mid-rebuild renews nothing: its claim lapses, and the next flush
    finds the store not intact."""
    harness: Harness = await make_harness(redis_url=redis_server.url)
    counters = runtime(harness).counters
    redis_server.flush()
    assert not await counters.intact()
    assert await counters.stamp(0.3) is not None
    assert await counters.intact()
    assert await counters.stamp(0.3) is None  # claimed: nobody else rebuilds meanwhile
    for _ in range(100):
        if not await counters.intact():
            break
        await asyncio.sleep(0.05)
    assert not await counters.intact()


async def test_a_flush_that_lost_its_lock_stops(
    redis_server: RedisServer, make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may take an expired lock and flush: this one must not go on."""
    harness: Harness = await make_harness(redis_url=redis_server.url)
    rt = runtime(harness)
    started = asyncio.Event()

    async def slow_recount(_: Runtime) -> int:  # simulated: a flush that takes long
        started.set()
        await asyncio.sleep(60)
        return 0

    monkeypatch.setattr(flushing, "LOCK_TTL_S", 0.6)
    monkeypatch.setattr(flushing, "_recount_marked", slow_recount)
    flushing_now = asyncio.create_task(flush_counters(rt))
    await asyncio.wait_for(started.wait(), 10)
    redis = Redis.from_url(redis_server.url)
    try:
        await redis.delete(f"{harness.settings.redis_namespace}:ctr-flush")  # expired
    finally:
        await redis.aclose()
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(flushing_now, 10)
    assert not await rt.counters.renew("any", 1)  # released: the next flush may run
