"""Only the owner changes a playlist, and a private one is invisible to everyone else,
everywhere: by id, in the public list, in search, on the owner's profile and content.

Another user asking to change a playlist they can see (a public one) is refused with 403;
one they cannot see (private, or missing) is 404, as if it did not exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Harness
from tests.images import png_bytes
from tests.playlists.support import (
    MINE,
    PUBLIC,
    add_songs,
    create_with_cover,
    created,
    delete,
    fetch,
    ids,
    one,
    remove_song,
    song_ids,
    songs,
    update,
)
from tests.songs.support import Artist, assert_error, stored_folders

SECRET = "Zebra secret mixtape"


async def _attempts(mallory: Artist, playlist_id: str, song_id: str) -> list[httpx.Response]:
    """Every owner-only route, tried by someone else."""
    client, auth = mallory.client, mallory.auth
    return [
        await client.post(add_songs(playlist_id), json={"songId": song_id}, headers=auth),
        await client.delete(remove_song(playlist_id, song_id), headers=auth),
        await client.post(update(playlist_id), json={"playlist_name": "Mine now"}, headers=auth),
        await client.post(
            update(playlist_id),
            data={"playlist_name": "Mine now"},
            files={"thumbnail": ("c.png", png_bytes(), "image/png")},
            headers=auth,
        ),
        await delete(mallory, playlist_id),
    ]


async def _state(harness: Harness) -> tuple[Any, ...]:
    return (
        await harness.sql("SELECT * FROM playlists ORDER BY id"),
        await harness.sql("SELECT * FROM playlist_songs ORDER BY playlist_id, position"),
        await stored_folders(harness),
    )


async def test_another_user_cannot_change_a_public_playlist(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    a, b = await songs(harness, jane, 2)
    playlist = (await create_with_cover(jane, playlist_name="Open", songIds=a)).json()["data"]
    before = await _state(harness)
    # Mallory can see it, so she is told she may not change it.
    assert (await fetch(mallory, one(playlist["_id"])))["playlist_name"] == "Open"
    for response in await _attempts(mallory, playlist["_id"], b):
        body = assert_error(response, 403)
        assert body["message"] == "Only the playlist's owner can do this."
    for response in await _attempts(mallory, playlist["_id"], a):
        assert_error(response, 403)
    assert await _state(harness) == before


async def test_another_user_gets_404_for_a_private_playlist(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    [a] = await songs(harness, jane, 1)
    playlist = await created(jane, SECRET, isPublic=False, songs=[a])
    before = await _state(harness)
    for response in await _attempts(mallory, playlist["_id"], a):
        body = assert_error(response, 404)
        assert body["message"] == "Playlist not found."
    assert await _state(harness) == before


async def test_a_private_playlist_leaks_nowhere(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    [song] = await songs(harness, jane, 1)
    secret = await created(jane, SECRET, isPublic=False, songs=[song])
    shown = await created(jane, "Zebra open mixtape", songs=[song])

    # By id: the same answer as a playlist that does not exist.
    hidden = await mallory.client.get(one(secret["_id"]), headers=mallory.auth)
    missing = await mallory.client.get(one(str(uuid.uuid4())), headers=mallory.auth)
    assert_error(hidden, 404)
    assert hidden.json() == missing.json()

    texts: list[str] = []
    # In the public list, for everyone (its owner included: the list is of public ones).
    for who in (mallory, jane):
        public = await fetch(who, PUBLIC)
        assert ids(public) == [shown["_id"]] and public["totalDocs"] == 1
        texts.append(str(public))
    # In search, for everyone: search finds what others share.
    for who in (mallory, jane):
        found = await fetch(who, "/api/v1/songs/search", q="zebra mixtape")
        assert ids(found["playlists"]) == [shown["_id"]]
        assert found["playlists"]["totalDocs"] == 1
        texts.append(str(found))
    # On the owner's profile and content, to anyone else.
    profile = await fetch(mallory, f"/api/v1/users/get/{jane.id}")
    content = await fetch(mallory, f"/api/v1/users/{jane.id}/content")
    for data in (profile, content):
        assert [p["_id"] for p in data["playlists"]] == [shown["_id"]]
        assert [s["_id"] for s in data["songs"]] == [song]
        texts.append(str(data))
    # In the other user's own list.
    texts.append(str(await fetch(mallory, MINE)))
    for text in texts:
        assert secret["_id"] not in text and SECRET not in text

    # The owner sees it by id, in their own list, and on their own profile and content.
    assert (await fetch(jane, one(secret["_id"])))["playlist_name"] == SECRET
    assert ids(await fetch(jane, MINE)) == [shown["_id"], secret["_id"]]
    for path in (f"/api/v1/users/get/{jane.id}", f"/api/v1/users/{jane.id}/content"):
        mine = await fetch(jane, path)
        assert [p["_id"] for p in mine["playlists"]] == [shown["_id"], secret["_id"]]


async def test_making_a_playlist_private_hides_it_at_once(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    playlist = await created(jane, "Zebra soon private")
    assert (await fetch(mallory, one(playlist["_id"])))["isPublic"] is True
    assert ids(await fetch(mallory, PUBLIC)) == [playlist["_id"]]
    found = await fetch(mallory, "/api/v1/songs/search", q="zebra soon")
    assert ids(found["playlists"]) == [playlist["_id"]]
    changed = await jane.client.post(
        update(playlist["_id"]), json={"isPublic": False}, headers=jane.auth
    )
    assert changed.status_code == 200, changed.text
    assert_error(await mallory.client.get(one(playlist["_id"]), headers=mallory.auth), 404)
    assert (await fetch(mallory, PUBLIC))["docs"] == []
    found = await fetch(mallory, "/api/v1/songs/search", q="zebra soon")
    assert found["playlists"]["docs"] == []
    assert (await fetch(mallory, f"/api/v1/users/get/{jane.id}"))["playlists"] == []
    # And public again, it is back.
    await jane.client.post(update(playlist["_id"]), json={"isPublic": "true"}, headers=jane.auth)
    assert song_ids(await fetch(mallory, one(playlist["_id"]))) == []
