"""A play: a view once per listener per song per window, never the owner's own."""

from __future__ import annotations

import asyncio
import uuid

from bandstand.engagement.counters.flush import rebuild_counters
from tests.conftest import Harness
from tests.engagement.support import (
    SONGS,
    _db_id,
    a_song,
    flush,
    listeners,
    runtime,
    shown,
    song_row,
)
from tests.engagement.test_rebuild import _lose_the_store
from tests.songs.support import artist, assert_error


async def test_a_view_counts_once_per_window_and_never_for_the_owner(
    make_harness: Harness,
) -> None:
    harness = await make_harness(view_window_s=1)  # type: ignore[operator]
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    play = f"{SONGS}/{song['_id']}"

    first = await fan.client.post(play, headers=fan.auth)
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Fetched song and view was counted."
    assert first.json()["data"]["viewCounted"] is True
    assert first.json()["data"]["views"] == 1

    again = await fan.client.post(play, headers=fan.auth)
    assert again.json()["data"]["viewCounted"] is False
    assert again.json()["data"]["views"] == 1
    assert "not counted" in again.json()["message"]

    mine = await owner.client.post(play, headers=owner.auth)
    assert mine.json()["data"]["viewCounted"] is False
    assert mine.json()["message"] == "Fetched song; view was not counted (it is your own song)."

    await asyncio.sleep(1.1)  # the window, measured from the last counted view, is over
    later = await fan.client.post(play, headers=fan.auth)
    assert later.json()["data"]["viewCounted"] is True
    assert (await shown(fan.client, fan.auth, song["_id"]))["views"] == 2

    await flush(harness)
    assert (await song_row(harness, song["_id"]))["views"] == 2
    assert (await shown(fan.client, fan.auth, song["_id"]))["views"] == 2


async def test_fifty_simultaneous_plays_count_once(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    answers = await asyncio.gather(
        *(fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth) for _ in range(50))
    )
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json()["data"]["viewCounted"] for a in answers) == 1
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["views"] == 1


async def test_views_of_many_listeners_add_up(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 6)
    song = await a_song(harness, owner)
    await asyncio.gather(
        *(f.client.post(f"{SONGS}/{song['_id']}", headers=f.auth) for f in fans for _ in range(3))
    )
    assert (await shown(owner.client, owner.auth, song["_id"]))["views"] == 6
    await flush(harness)
    assert (await song_row(harness, song["_id"]))["views"] == 6
    assert (await shown(owner.client, owner.auth, song["_id"]))["views"] == 6


async def test_a_play_needs_a_login_and_a_real_song(harness: Harness) -> None:
    (fan,) = await listeners(harness, 1)
    assert_error(await fan.client.post(f"{SONGS}/{uuid.uuid4()}", headers=fan.auth), 404)
    assert_error(await fan.client.post(f"{SONGS}/not-an-id", headers=fan.auth), 400)
    assert_error(await fan.client.post(f"{SONGS}/{uuid.uuid4()}"), 401)


async def test_upload_is_still_an_upload_not_a_play(harness: Harness) -> None:
    (fan,) = await listeners(harness, 1)
    # The play route sits beside the upload route: a JSON post to /upload is refused as an
    # upload (415), never read as a play of a song called "upload".
    response = await fan.client.post(f"{SONGS}/upload", json={}, headers=fan.auth)
    assert_error(response, 415)


async def test_every_play_is_a_row_and_views_are_rebuilt_from_them(harness: Harness) -> None:
    """The plays are the truth of views, as likes are of likeCount: a counter store lost
    before its flush (a killed embedded server, an emptied Redis) costs no view."""
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 3)
    song = await a_song(harness, owner)
    play = f"{SONGS}/{song['_id']}"
    for fan in fans:
        assert (await fan.client.post(play, headers=fan.auth)).json()["data"]["viewCounted"]
    await flush(harness)
    assert (await fans[0].client.post(play, headers=fans[0].auth)).status_code == 200  # not counted
    await owner.client.post(play, headers=owner.auth)  # not counted: their own
    for fan in fans[1:]:
        await fan.client.post(play, headers=fan.auth)  # pending, not counted (window)
    rows = await harness.sql(
        "SELECT counted, count(*) FROM plays WHERE song_id = :id GROUP BY counted ORDER BY counted",
        id=_db_id(harness, song["_id"]),
    )
    assert [(bool(c), n) for c, n in rows] == [(False, 4), (True, 3)]

    await _lose_the_store(harness)
    await harness.sql("UPDATE song_stats SET views = 0")
    await harness.sql("UPDATE song_daily SET plays = 0")
    await rebuild_counters(runtime(harness))
    assert (await song_row(harness, song["_id"]))["views"] == 3
    assert (await shown(owner.client, owner.auth, song["_id"]))["views"] == 3
    daily = await harness.sql(
        "SELECT sum(plays) FROM song_daily WHERE song_id = :id", id=_db_id(harness, song["_id"])
    )
    assert daily[0][0] == 3
