"""The counter flush: batches applied exactly once, even across crashes and replicas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bandstand.engagement.counters import flush as flushing
from bandstand.runtime import Runtime
from tests import services
from tests.conftest import Harness
from tests.engagement.support import (
    SONGS,
    a_song,
    flush,
    likes_then_stop,
    listeners,
    runtime,
    song_row,
    stored_likes,
)
from tests.songs.support import Artist, artist


async def _spread_likes(harness: Harness, count: int) -> tuple[list[dict[str, Any]], list[Artist]]:
    """``count`` songs, each liked and played by one more fan than the one before."""
    owner = await artist(harness, "owner")
    fans = await listeners(harness, count)
    songs = [await a_song(harness, owner, f"song {n}") for n in range(count)]
    for n, song in enumerate(songs):
        for fan in fans[: n + 1]:
            await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
            await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    return songs, fans


async def _rows(harness: Harness, songs: list[dict[str, Any]]) -> list[tuple[int, int]]:
    found = []
    for song in songs:
        row = await song_row(harness, song["_id"])
        found.append((row["likeCount"], row["views"]))
    return found


async def _daily(harness: Harness) -> int:
    rows = await harness.sql(
        "SELECT coalesce(sum(plays), 0), coalesce(sum(likes), 0) FROM song_daily"
    )
    return int(rows[0][0]) + int(rows[0][1])


async def test_a_flush_stopped_half_way_is_finished_by_the_next(make_harness: Any) -> None:
    harness = await make_harness(counter_flush_batch=2)
    songs, _ = await _spread_likes(harness, 5)
    rt = runtime(harness)

    # A flush takes every pending counter in batches and dies after one batch
    # committed but before it could drop that batch from the store; the others it never
    # reached.
    taken = await rt.counters.take(2)
    assert len(taken) >= 2
    await flushing._write(rt, await rt.counters.batch(taken[0]))
    assert sorted(await rt.counters.unfinished()) == sorted(taken)
    # Meanwhile a like arrives.
    late = await artist(harness, "late")
    await late.client.post(f"{SONGS}/{songs[0]['_id']}/like", headers=late.auth)

    report = await flushing.flush_counters(rt)
    assert report.batches == len(taken) + 1  # those left over, then the new one
    assert await rt.counters.unfinished() == []
    expected = [(n + (n == 1), n) for n in range(1, 6)]
    assert await _rows(harness, songs) == expected
    assert await _daily(harness) == 2 * sum(range(1, 6)) + 1
    # Nothing is left to add: a second flush changes nothing.
    assert (await flushing.flush_counters(rt)).counters == 0
    assert await _rows(harness, songs) == expected


async def test_reads_add_batches_in_flight(harness: Harness) -> None:
    songs, fans = await _spread_likes(harness, 2)
    rt = runtime(harness)
    taken = await rt.counters.take(10)
    assert taken
    # Taken from the store but not yet in the rows: still counted by reads.
    shown = await fans[0].client.get(f"{SONGS}/{songs[1]['_id']}", headers=fans[0].auth)
    assert shown.json()["data"]["likeCount"] == 2
    # A like arriving mid-flush goes to a fresh counter: neither lost nor counted twice.
    late = await artist(harness, "late")
    await late.client.post(f"{SONGS}/{songs[1]['_id']}/like", headers=late.auth)
    await flush(harness)
    assert await _rows(harness, songs) == [(1, 1), (3, 2)]


async def test_the_daily_rows_follow_the_flush(harness: Harness) -> None:
    await _spread_likes(harness, 3)
    await flush(harness)
    today = datetime.now(UTC).date().isoformat()
    rows = await harness.sql("SELECT day, plays, likes FROM song_daily ORDER BY plays")
    assert [(str(r[0])[:10], r[1], r[2]) for r in rows] == [(today, n, n) for n in (1, 2, 3)]


async def test_one_flush_at_a_time_however_many_replicas(
    harness: Harness, make_settings: Any
) -> None:
    songs, _ = await _spread_likes(harness, 4)
    replicas = [runtime(harness)]
    if services.REDIS_URL:
        # Two more processes sharing the store, as `bandstand worker` replicas would.
        replicas += [Runtime.build(make_settings(**_same(harness))) for _ in range(2)]
    try:
        reports = await asyncio.gather(*(flushing.flush_counters(rt) for rt in replicas * 2))
    finally:
        for rt in replicas[1:]:
            await rt.close()
    assert sum(r.counters for r in reports) == 4
    assert any(r.skipped for r in reports)
    assert await _rows(harness, songs) == [(n, n) for n in range(1, 5)]


def _same(harness: Harness) -> dict[str, Any]:
    return {"redis_namespace": harness.settings.redis_namespace}


async def test_counts_of_a_song_deleted_before_the_flush_land_nowhere(harness: Harness) -> None:
    songs, _ = await _spread_likes(harness, 2)
    await harness.sql("DELETE FROM songs WHERE title = 'song 0'")
    await flush(harness)
    assert await _rows(harness, songs[1:]) == [(2, 2)]
    assert (await harness.sql("SELECT count(*) FROM song_daily"))[0][0] == 1
    assert await runtime(harness).counters.unfinished() == []


async def test_the_embedded_server_writes_pending_counts_when_it_stops(
    make_settings: Any,
    make_harness: Any,  # empties the tables afterwards
) -> None:
    settings, _ = await likes_then_stop(make_settings)
    # With Redis the counts wait there for the workers' flush instead.
    assert await stored_likes(settings) == (0 if settings.redis_url else 3)
