"""A play: a view once per listener per song per window, never the owner's own."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Harness
from tests.engagement.support import SONGS, a_song, flush, listeners, shown, song_row
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
