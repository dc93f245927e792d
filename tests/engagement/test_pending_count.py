"""What waits for the flush, as ``/metrics`` reports it (``bandstand_counters_pending``):
counted in the store that holds it (in memory embedded, in Redis in production)."""

from __future__ import annotations

from tests.conftest import Harness
from tests.engagement.support import SONGS, a_song, flush, listeners, runtime
from tests.songs.support import artist


async def test_the_counters_waiting_for_the_flush_are_counted(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 2)
    first, second = await a_song(harness, owner), await a_song(harness, owner, "Another")
    counters = runtime(harness).counters
    await flush(harness)
    assert await counters.pending_count() == 0
    for fan in fans:
        for song in (first, second):
            liked = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
            assert liked.status_code == 200, liked.text
    # Two songs' like counts (of today): the likes of one song add up in one counter.
    assert await counters.pending_count() == 2
    await flush(harness)
    assert await counters.pending_count() == 0
