"""Song likes: idempotent, durable before the answer, and counters that never drift."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from bandstand.engagement.likes import Change, Likes, LikeTable, Writes, build_table
from tests.conftest import Harness
from tests.engagement.support import (
    SONGS,
    a_song,
    flush,
    likes_in_table,
    listeners,
    runtime,
    shown,
    song_row,
)
from tests.songs.support import Artist, artist, assert_error

LIKED = f"{SONGS}/likedSongs"


async def _like(fan: Artist, song_id: str, verb: str = "like") -> dict[str, Any]:
    response = await fan.client.post(f"{SONGS}/{song_id}/{verb}", headers=fan.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_like_twice_is_once_and_unlike_of_nothing_is_nothing(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)

    assert await _like(fan, song["_id"], "unlike") == {
        "songId": song["_id"],
        "liked": False,
        "likeCount": 0,
    }
    first = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
    assert first.json()["message"] == "Song liked successfully."
    assert first.json()["data"]["likeCount"] == 1
    assert (await _like(fan, song["_id"]))["likeCount"] == 1
    # The listener sees their like at once, before any flush.
    assert (await shown(fan.client, fan.auth, song["_id"]))["likeCount"] == 1
    assert (await song_row(harness, song["_id"]))["likeCount"] == 0
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 1
    assert (await _like(fan, song["_id"], "unlike"))["likeCount"] == 0
    assert (await _like(fan, song["_id"], "unlike"))["likeCount"] == 0
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 0


async def test_a_like_storm_ends_with_counters_equal_to_the_truth(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 8)
    songs = [await a_song(harness, owner, f"song {n}") for n in range(2)]
    rng = random.Random(5)
    requests = [
        (fan, song["_id"], rng.choice(("like", "unlike")))
        for _ in range(12)
        for fan in fans
        for song in songs
    ]
    rng.shuffle(requests)

    async def storm(part: list[tuple[Artist, str, str]]) -> None:
        answers = await asyncio.gather(
            *(f.client.post(f"{SONGS}/{s}/{verb}", headers=f.auth) for f, s, verb in part)
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]

    half = len(requests) // 2
    flushing = asyncio.create_task(flush(harness))  # a flush in the middle of the storm
    await asyncio.gather(storm(requests[:half]), flushing)
    await storm(requests[half:])
    # One listener, fifty likes at once: one like.
    await asyncio.gather(*(_like(fans[0], songs[0]["_id"]) for _ in range(50)))

    for song in songs:
        truth = await likes_in_table(harness, song["_id"])
        assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == truth
        await flush(harness)
        assert (await song_row(harness, song["_id"]))["likeCount"] == truth
        assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == truth


async def test_liked_songs_newest_like_first_with_owners(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fan, other = await listeners(harness, 2)
    songs = [await a_song(harness, owner, f"song {n}") for n in range(3)]
    for song in (songs[1], songs[0], songs[2]):
        await _like(fan, song["_id"])
    await _like(other, songs[0]["_id"])

    response = await fan.client.get(LIKED, headers=fan.auth)
    assert response.status_code == 200, response.text
    page = response.json()["data"]
    assert [d["title"] for d in page["docs"]] == ["song 2", "song 0", "song 1"]
    assert page["totalDocs"] == 3
    doc = page["docs"][0]
    assert doc["owner"] == {
        "_id": owner.id,
        "username": "owner",
        "fullname": owner.user["fullname"],
        "avatar": owner.user["avatar"],
    }
    assert doc["likeCount"] == 1 and "likedAt" in doc

    first = (await fan.client.get(f"{LIKED}?limit=2", headers=fan.auth)).json()["data"]
    assert [d["title"] for d in first["docs"]] == ["song 2", "song 0"]
    rest = await fan.client.get(f"{LIKED}?limit=2&cursor={first['nextCursor']}", headers=fan.auth)
    assert [d["title"] for d in rest.json()["data"]["docs"]] == ["song 1"]
    assert rest.json()["data"]["nextCursor"] is None
    assert (await fan.client.get(f"{LIKED}?limit=2&page=2", headers=fan.auth)).json()["data"][
        "docs"
    ][0]["title"] == "song 1"

    await _like(fan, songs[0]["_id"], "unlike")
    titles = [
        d["title"] for d in (await fan.client.get(LIKED, headers=fan.auth)).json()["data"]["docs"]
    ]
    assert titles == ["song 2", "song 1"]


async def test_likes_of_a_deleted_song_go_with_it(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    await _like(fan, song["_id"])
    deleted = await owner.client.request(
        "DELETE", f"{SONGS}/delete", json={"songId": song["_id"]}, headers=owner.auth
    )
    assert deleted.status_code == 200
    assert (await fan.client.get(LIKED, headers=fan.auth)).json()["data"]["docs"] == []
    await flush(harness)  # its pending delta lands nowhere, harmlessly
    assert_error(await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth), 404)


async def test_likes_refuse_bad_requests(harness: Harness) -> None:
    (fan,) = await listeners(harness, 1)
    for verb in ("like", "unlike"):
        assert_error(await fan.client.post(f"{SONGS}/{uuid.uuid4()}/{verb}", headers=fan.auth), 404)
        assert_error(await fan.client.post(f"{SONGS}/nope/{verb}", headers=fan.auth), 400)
        assert_error(await fan.client.post(f"{SONGS}/{uuid.uuid4()}/{verb}"), 401)
    assert_error(await fan.client.get(LIKED), 401)
    assert_error(await fan.client.get(f"{LIKED}?cursor=AAAA", headers=fan.auth), 400)


async def test_a_batch_applies_a_listeners_changes_in_order(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 2)
    song = await a_song(harness, owner)
    song_id, nowhere = uuid.UUID(song["_id"]), uuid.uuid4()
    first, second = (uuid.UUID(fan.id) for fan in fans)
    batch = [
        Change(song_id, first, liking=True),
        Change(song_id, second, liking=True),
        Change(nowhere, first, liking=True),
        Change(song_id, first, liking=False),
        Change(song_id, first, liking=True),
        Change(song_id, second, liking=True),  # again: nothing
        Change(song_id, first, liking=False),
    ]
    # Each answer is the count once the whole batch is in (the other listener's too).
    assert await runtime(harness).likes.apply(batch) == [1, 1, None, 1, 1, 1, 1]
    assert await likes_in_table(harness, song["_id"]) == 1
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 1


class SecondTurnFails:
    """The real table, with a fault injected: the batch's second turn fails (as after
    repeated deadlocks), once the first has committed."""

    def __init__(self, table: LikeTable) -> None:
        self._table = table
        self.turns = 0

    async def write(self, changes: Sequence[Change], now: datetime) -> Writes:
        self.turns += 1
        if self.turns == 2:
            raise RuntimeError("deadlocked too often")
        return await self._table.write(changes, now)


async def test_a_failed_turn_still_counts_the_turns_committed_before_it(
    harness: Harness,
) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    rt = runtime(harness)
    song_id, fan_id = uuid.UUID(song["_id"]), uuid.UUID(fan.id)
    table = SecondTurnFails(build_table(rt.driver_pool, rt.sessionmaker))
    failing = Likes(table, rt.counters)
    batch = [Change(song_id, fan_id, liking=True), Change(song_id, fan_id, liking=False)]
    with pytest.raises(RuntimeError):
        await failing.apply(batch)
    # The like of the first turn is in the table, and its delta in the store.
    assert await likes_in_table(harness, song["_id"]) == 1
    assert (await shown(owner.client, owner.auth, song["_id"]))["likeCount"] == 1
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["likeCount"] == 1
