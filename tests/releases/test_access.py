"""Who may see a release and who may change it: anyone signed in reads one whose owner is
not banned and with a song they may see; only its owner changes it (403 to others who see
it, 404 to those who do not); what moderators hide stays hidden here too."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Harness
from tests.images import png_bytes
from tests.moderation.support import acted, staff
from tests.releases.support import (
    RELEASES,
    SONGS,
    created,
    ids,
    one,
    order_of,
    read,
    song_json,
    songs,
    songs_of,
)
from tests.songs.support import Artist, artist, assert_error


def _writes(release_id: str, song_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every owner-only route of the release, with a body it would take from its owner."""
    return [
        ("PATCH", one(release_id), {"json": {"title": "Mine now"}}),
        (
            "PATCH",
            f"{one(release_id)}/thumbnail",
            {"files": {"thumbnail": ("c.png", png_bytes(), "image/png")}},
        ),
        ("POST", songs_of(release_id), {"json": {"songIds": [song_id]}}),
        ("DELETE", f"{songs_of(release_id)}/{song_id}", {}),
        ("PUT", order_of(release_id), {"json": {"songIds": [song_id]}}),
        ("DELETE", one(release_id), {}),
    ]


async def _statuses(who: Artist, release_id: str, song_id: str) -> list[int]:
    found = []
    for method, path, kwargs in _writes(release_id, song_id):
        response = await who.client.request(method, path, headers=who.auth, **kwargs)
        assert_error(response, (403, 404))
        found.append(response.status_code)
    return found


async def test_only_the_owner_changes_a_release(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    (song,) = await songs(harness, jane, "One")
    release = await created(jane, "Jane's", songIds=[song])
    # Bob sees it, so each change is refused as not his (403) ...
    assert await _statuses(bob, release["_id"], song) == [403] * 6
    # ... and one he cannot see is not there for him at all (404), as a song is.
    empty = await created(jane, "Draft")
    assert_error(await read(bob, empty["_id"]), 404)
    assert await _statuses(bob, empty["_id"], song) == [404] * 6
    # Unchanged, songs and all.
    again = (await read(jane, release["_id"])).json()["data"]
    assert again["title"] == "Jane's" and ids(again) == [song]
    assert again["thumbnail"] == again["songs"][0]["thumbnail"]
    # Nobody signed in changes anything.
    anonymous = harness.client()
    for method, path, kwargs in _writes(release["_id"], song):
        assert_error(await anonymous.request(method, path, **kwargs), 401)
    assert_error(await anonymous.get(one(release["_id"])), 401)


async def test_a_banned_owners_releases_are_hidden_from_everyone_else(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    boss = await staff(harness, "bossy", "admin")
    (song,) = await songs(harness, jane, "One")
    release = await created(jane, "Jane's", songIds=[song])
    assert (await read(bob, release["_id"])).status_code == 200

    await acted(boss, f"/users/{jane.id}/ban", {"reason": "spam"})
    assert_error(await read(bob, release["_id"]), 404)
    listed = await bob.client.get(RELEASES, headers=bob.auth)
    assert listed.json()["data"]["docs"] == []
    by_owner = await bob.client.get(RELEASES, params={"owner": jane.id}, headers=bob.auth)
    assert by_owner.json()["data"]["totalDocs"] == 0
    assert await _statuses(bob, release["_id"], song) == [404] * 6

    await acted(boss, f"/users/{jane.id}/unban", {})
    assert (await read(bob, release["_id"])).status_code == 200


async def test_songs_taken_down_leave_the_release_and_then_hide_it(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    mod = await staff(harness, "modmolly", "moderator")
    first, second = await songs(harness, jane, "One", "Two")
    release = await created(jane, "Jane's", songIds=[first, second])

    await acted(mod, f"/songs/{first}/takedown", {"reason": "Not yours"})
    seen = (await read(bob, release["_id"])).json()["data"]
    assert ids(seen) == [second] and seen["songCount"] == 1
    # Its cover is its first song Bob may see: never the hidden one's.
    assert seen["thumbnail"] == seen["songs"][0]["thumbnail"]
    listed = (await bob.client.get(RELEASES, headers=bob.auth)).json()["data"]["docs"]
    assert [(r["_id"], r["songCount"]) for r in listed] == [(release["_id"], 1)]
    # Its owner sees it whole, with why.
    own = (await read(jane, release["_id"])).json()["data"]
    assert ids(own) == [first, second] and own["songs"][0]["status"] == "taken_down"

    await acted(mod, f"/songs/{second}/takedown", {"reason": "Not yours either"})
    assert_error(await read(bob, release["_id"]), 404)
    assert (await bob.client.get(RELEASES, headers=bob.auth)).json()["data"]["docs"] == []
    assert (await read(jane, release["_id"])).status_code == 200

    await acted(mod, f"/songs/{second}/restore", {})
    assert ids((await read(bob, release["_id"])).json()["data"]) == [second]


async def test_a_hidden_song_cannot_be_placed_by_anyone_else(harness: Harness) -> None:
    """Songs are placed by their owner only; a song the caller may not see is missing."""
    jane, bob = await artist(harness), await artist(harness, "bobby")
    mod = await staff(harness, "modmolly", "moderator")
    (bobs,) = await songs(harness, bob, "Bob's")
    await acted(mod, f"/songs/{bobs}/takedown", {"reason": "Gone"})
    release = await created(jane, "Jane's")
    response = await jane.client.post(
        songs_of(release["_id"]), json={"songIds": [bobs]}, headers=jane.auth
    )
    assert_error(response, 404)
    # Bob's own taken-down song is his to place: it stays hidden from others.
    his = await created(bob, "Bob's", songIds=[bobs])
    assert ids(his) == [bobs]
    assert_error(await read(jane, his["_id"]), 404)
    hidden = await jane.client.get(f"{SONGS}/{bobs}", headers=jane.auth)
    assert_error(hidden, 404)
    assert (await song_json(bob, bobs))["release"]["_id"] == his["_id"]


async def test_an_anonymous_cover_upload_is_refused_before_its_body(harness: Harness) -> None:
    client: httpx.AsyncClient = harness.client()
    response = await client.post(
        RELEASES,
        data={"title": "x", "kind": "album"},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert_error(response, 401)
