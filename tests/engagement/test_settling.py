"""What a flush recounts costs what failed, not what changed: a change's delta takes its
mark away as it arrives, so only counters whose change was lost (or never committed) are
recounted from their rows — on the store of each backend (memory on SQLite, Redis on the
PostgreSQL run)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bandstand.engagement.counters import LIKES, SONG, VIEWS, Counters, Delta
from bandstand.engagement.counters.flush import flush_counters
from tests.conftest import Harness
from tests.engagement.support import SONGS, a_song, listeners, runtime, song_row
from tests.songs.support import artist

LATER = 10**10  # a ``before`` past every mark: every outstanding one


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


async def _outstanding(counters: Counters) -> set[uuid.UUID]:
    """The counters a flush would recount, were their changes old enough."""
    marks = await counters.marked(1000, LATER)
    return {item for (_, item), mark in marks.items() if mark.outstanding}


async def test_a_delta_takes_its_mark_away(harness: Harness) -> None:
    counters = runtime(harness).counters
    one, two = _ids(2)
    await counters.mark(SONG, [one, two])
    assert await _outstanding(counters) >= {one, two}
    # Two deltas of one counter settle its one change: marks count changes, not deltas.
    await counters.add([Delta(SONG, one, LIKES, 1), Delta(SONG, one, VIEWS, 1)])
    left = await _outstanding(counters)
    assert one not in left and two in left
    # A change that needed no delta (a like already there) settles without one.
    await counters.settle(SONG, [two])
    assert not await _outstanding(counters) & {one, two}


async def test_two_changes_on_their_way_need_two_deltas(harness: Harness) -> None:
    counters = runtime(harness).counters
    (song,) = _ids(1)
    await counters.mark(SONG, [song])
    await counters.mark(SONG, [song])
    await counters.add([Delta(SONG, song, LIKES, 1)])
    assert song in await _outstanding(counters)  # the other one's delta may be lost
    await counters.add_and_read([Delta(SONG, song, LIKES, 1)], SONG, [song])
    assert song not in await _outstanding(counters)


async def test_a_delta_recorded_before_its_commit_keeps_the_mark_until_settled(
    harness: Harness,
) -> None:
    counters = runtime(harness).counters
    (song,) = _ids(1)
    await counters.add_marked([Delta(SONG, song, VIEWS, 1)])
    assert song in await _outstanding(counters)  # the commit may still fail
    await counters.settle(SONG, [song])
    assert song not in await _outstanding(counters)


async def test_a_settle_without_a_mark_does_not_hide_a_later_loss(harness: Harness) -> None:
    """A delta or settle whose mark the store no longer has (recounted meanwhile) must
    not leave credit that hides the next change's lost delta."""
    counters = runtime(harness).counters
    (song,) = _ids(1)
    await counters.settle(SONG, [song])
    await counters.add([Delta(SONG, song, LIKES, 1)])
    await counters.mark(SONG, [song])  # its delta never comes
    assert song in await _outstanding(counters)


async def test_only_marks_older_than_the_cut_off_are_recounted(harness: Harness) -> None:
    counters = runtime(harness).counters
    old, young = _ids(2)
    await counters.mark(SONG, [old])
    cut_off = time.time()
    await asyncio.sleep(0.01)
    await counters.mark(SONG, [young])
    found = {item for _, item in await counters.marked(1000, cut_off)}
    assert old in found and young not in found


async def test_a_mark_renewed_during_a_recount_is_recounted_again(harness: Harness) -> None:
    """The recount may have counted the renewing change's row, and its delta will count it
    again: the counter stays outstanding after that delta, for one more recount."""
    counters = runtime(harness).counters
    (song,) = _ids(1)
    await counters.mark(SONG, [song])  # a change whose delta was lost
    cut_off = time.time()
    await asyncio.sleep(0.01)
    assert song in {item for _, item in await counters.marked(1000, cut_off)}
    await counters.mark(SONG, [song])  # a new change, while the counter is recounted
    await counters.unmark([(SONG, song)], cut_off)
    await counters.add([Delta(SONG, song, LIKES, 1)])  # the new change arrives
    assert song in await _outstanding(counters)
    # Recounted again once settled: then it is forgotten.
    await counters.unmark([(SONG, song)], LATER)
    assert song not in await _outstanding(counters)


async def test_after_a_rebuild_what_changed_around_it_is_recounted(harness: Harness) -> None:
    """A change in flight while a rebuild counts may be counted twice or not at all; so
    every counter changed since shortly before the rebuild is recounted once settled."""
    counters = runtime(harness).counters
    before, around = _ids(2)
    await counters.add([Delta(SONG, before, LIKES, 1)])
    await asyncio.sleep(0.01)
    since = time.time()
    await counters.add([Delta(SONG, around, LIKES, 1)])  # arrived: nothing outstanding
    assert not await _outstanding(counters) & {before, around}
    assert await counters.heal(since) >= 1
    left = await _outstanding(counters)
    assert around in left and before not in left


async def test_a_flush_after_changes_that_all_arrived_recounts_nothing(make_harness: Any) -> None:
    # However recent the changes: every one of them arrived, so nothing is taken as lost.
    harness: Harness = await make_harness(counter_settle_s=0.0)
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 4)
    song = await a_song(harness, owner)
    for fan in fans:
        liked = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
        assert liked.status_code == 200, liked.text
    # Likes of a song already liked change nothing, and need no recount either.
    again = await fans[0].client.post(f"{SONGS}/{song['_id']}/like", headers=fans[0].auth)
    assert again.status_code == 200, again.text
    played = await fans[1].client.post(f"{SONGS}/{song['_id']}", headers=fans[1].auth)
    assert played.status_code == 200, played.text
    report = await flush_counters(runtime(harness))
    assert report.recounted == 0
    assert (await song_row(harness, song["_id"]))["likeCount"] == 4
    assert (await song_row(harness, song["_id"]))["views"] == 1
