"""Listing, updating and deleting playlists, and what happens to their covers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Harness
from tests.images import png_bytes
from tests.playlists.support import (
    MINE,
    PUBLIC,
    cover_folder,
    create_with_cover,
    created,
    delete,
    fetch,
    ids,
    one,
    playlist_rows,
    songs,
    update,
)
from tests.songs.support import COVER_FILES, PAGE_FIELDS, Artist, assert_error, audit, error_fields


async def _update_json(who: Artist, playlist_id: str, body: Any) -> Any:
    return await who.client.post(update(playlist_id), json=body, headers=who.auth)


async def _update_form(
    who: Artist, playlist_id: str, cover: bytes | None = None, **fields: Any
) -> Any:
    files = {"thumbnail": ("new.png", cover if cover is not None else png_bytes(), "image/png")}
    return await who.client.post(update(playlist_id), data=fields, files=files, headers=who.auth)


# --- lists ---------------------------------------------------------------------------


async def test_my_playlists_newest_first_private_ones_included(
    jane: Artist, mallory: Artist
) -> None:
    made = [(await created(jane, f"List {n}", isPublic=n % 2 == 0))["_id"] for n in range(5)]
    await created(mallory, "Not jane's")
    page = await fetch(jane, MINE, limit=2)
    assert set(page) == PAGE_FIELDS
    assert ids(page) == made[::-1][:2]
    assert (page["totalDocs"], page["totalPages"], page["hasNextPage"]) == (5, 3, True)
    assert set(page["docs"][0]) == {
        "_id",
        "playlist_name",
        "description",
        "isPublic",
        "owner",
        "thumbnail",
        "thumbnails",
        "songs",
        "songCount",
        "hiddenReason",
        "createdAt",
        "updatedAt",
    }
    assert ids(await fetch(jane, MINE, limit=2, page=3)) == [made[0]]
    walked, cursor = [], None
    while True:
        page = await fetch(jane, MINE, limit=2, **({"cursor": cursor} if cursor else {}))
        walked += ids(page)
        if not (cursor := page["nextCursor"]):
            break
    assert walked == made[::-1]
    assert ids(await fetch(mallory, MINE)) != made
    assert (await fetch(jane, MINE, page=9))["docs"] == []


async def test_the_public_list_is_everyones_public_playlists(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    a = (await created(jane, "Jane public"))["_id"]
    await created(jane, "Jane private", isPublic=False)
    b = (await created(mallory, "Mallory public"))["_id"]
    await created(mallory, "Mallory private", isPublic=False)
    c = (await created(jane, "Jane public again"))["_id"]
    for who in (jane, mallory):
        page = await fetch(who, PUBLIC)
        assert ids(page) == [c, b, a] and page["totalDocs"] == 3
    first = await fetch(jane, PUBLIC, limit=2)
    assert ids(first) == [c, b] and first["nextCursor"]
    rest = await fetch(jane, PUBLIC, limit=2, cursor=first["nextCursor"])
    assert ids(rest) == [a] and rest["nextCursor"] is None and rest["hasPrevPage"] is True
    assert ids(await fetch(jane, PUBLIC, limit=2, page=2)) == [a]
    assert_error(await jane.client.get(PUBLIC, params={"cursor": "%%"}, headers=jane.auth), 400)
    assert_error(await harness.client().get(PUBLIC), 401)


# --- update --------------------------------------------------------------------------


async def test_update_by_json(harness: Harness, jane: Artist) -> None:
    [song] = await songs(harness, jane, 1)
    await harness.settle()  # processed, so the song reads the same every time below
    playlist = await created(jane, "Before", description="old", songs=[song])
    response = await _update_json(
        jane,
        playlist["_id"],
        {"playlist_name": " After ", "description": "new\nlines", "isPublic": False},
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Playlist updated successfully."
    data = response.json()["data"]
    assert (data["playlist_name"], data["description"], data["isPublic"]) == (
        "After",
        "new\nlines",
        False,
    )
    assert data["songCount"] == 1 and data["songs"][0]["_id"] == song
    assert data["createdAt"] == playlist["createdAt"]
    assert data["updatedAt"] >= playlist["updatedAt"]
    # One field at a time leaves the others; "true"/"false" are booleans here too.
    public = await _update_json(jane, playlist["_id"], {"isPublic": "true"})
    assert public.json()["data"]["isPublic"] is True
    assert public.json()["data"]["playlist_name"] == "After"
    renamed = await _update_json(jane, playlist["_id"], {"name": "By its other name"})
    assert renamed.json()["data"]["playlist_name"] == "By its other name"
    assert await fetch(jane, one(playlist["_id"])) == renamed.json()["data"]


async def test_update_by_multipart_replaces_the_cover(harness: Harness, jane: Artist) -> None:
    response = await create_with_cover(jane, playlist_name="Covered")
    playlist = response.json()["data"]
    old = cover_folder(harness, playlist)
    changed = await _update_form(
        jane, playlist["_id"], png_bytes(color=(1, 2, 3)), isPublic="false", description="d"
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert data["isPublic"] is False and data["description"] == "d"
    new = cover_folder(harness, data)
    await harness.settle()
    assert new != old and not old.exists()
    assert {p.name for p in new.iterdir()} == COVER_FILES
    # A playlist without a cover gets one; only the cover may change.
    bare = await created(jane, "Bare")
    covered = await _update_form(jane, bare["_id"])
    assert covered.status_code == 200, covered.text
    assert covered.json()["data"]["playlist_name"] == "Bare"
    assert set(covered.json()["data"]["thumbnails"]) == {"64", "300", "640"}


async def test_a_bad_cover_changes_nothing(harness: Harness, jane: Artist) -> None:
    playlist = (await create_with_cover(jane, playlist_name="Keep")).json()["data"]
    folder = cover_folder(harness, playlist)
    refused = await _update_form(jane, playlist["_id"], b"plain text\n", playlist_name="Changed")
    assert_error(refused, 415)
    assert await fetch(jane, one(playlist["_id"])) == playlist
    await harness.settle()
    assert {p.name for p in folder.iterdir()} == COVER_FILES


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"owner": "x"},
        {"owner_id": str(uuid.uuid4())},
        {"playlist_name": "ok", "owner": str(uuid.uuid4())},
        {"playlist_name": "ok", "_id": str(uuid.uuid4())},
        {"playlist_name": "ok", "createdAt": "2000-01-01T00:00:00Z"},
        {"playlist_name": "ok", "songs": []},
        {"thumbnail": "covers/0123456789abcdef0123456789abcdef/640.webp"},
        {"playlist_name": ""},
        {"playlist_name": "x" * 101},
        {"playlist_name": "a\x00"},
        {"playlist_name": 5},
        {"description": "x" * 5001},
        {"isPublic": "yes"},
        {"isPublic": 0},
    ],
)
async def test_update_refuses_anything_else(
    harness: Harness, jane: Artist, mallory: Artist, body: Any
) -> None:
    playlist = await created(jane, "Mine")
    before = await playlist_rows(harness)
    assert_error(await _update_json(jane, playlist["_id"], body), 400)
    assert await playlist_rows(harness) == before


async def test_update_cannot_change_the_owner(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    playlist = await created(jane, "Mine")
    before = await playlist_rows(harness)
    for fields in ({"owner": mallory.id}, {"owner_id": mallory.id}, {"ownerId": mallory.id}):
        assert_error(await _update_json(jane, playlist["_id"], fields), 400)
        assert_error(await _update_form(jane, playlist["_id"], **fields), 400)
    assert await playlist_rows(harness) == before
    assert (await fetch(jane, one(playlist["_id"])))["owner"]["_id"] == jane.id
    assert (await fetch(mallory, MINE))["docs"] == []
    assert error_fields(await _update_json(jane, playlist["_id"], {"owner": "x"})) == {"owner"}


async def test_update_takes_json_or_multipart_only(harness: Harness, jane: Artist) -> None:
    playlist = await created(jane, "Mine")
    form = await jane.client.post(
        update(playlist["_id"]), data={"playlist_name": "x"}, headers=jane.auth
    )
    assert_error(form, 415)
    assert_error(await _update_json(jane, "nope", {"playlist_name": "x"}), 400)
    assert_error(await _update_json(jane, str(uuid.uuid4()), {"playlist_name": "x"}), 404)
    anonymous = await harness.client().post(
        update(playlist["_id"]),
        data={"playlist_name": "x"},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert_error(anonymous, 401)
    assert (await fetch(jane, one(playlist["_id"])))["playlist_name"] == "Mine"


# --- delete --------------------------------------------------------------------------


async def test_delete_removes_the_row_and_the_cover(harness: Harness, jane: Artist) -> None:
    [song] = await songs(harness, jane, 1)
    keep = (await create_with_cover(jane, playlist_name="Keep", songIds=song)).json()["data"]
    gone = (await create_with_cover(jane, playlist_name="Gone", songIds=song)).json()["data"]
    kept_folder, gone_folder = cover_folder(harness, keep), cover_folder(harness, gone)
    await harness.settle()
    assert gone_folder.exists()
    response = await delete(jane, gone["_id"])
    assert response.status_code == 200, response.text
    assert response.json() == {
        "statusCode": 200,
        "data": None,
        "message": "Playlist deleted successfully.",
        "success": True,
        "errors": [],
    }
    await harness.settle()
    assert not gone_folder.exists() and kept_folder.exists()
    assert_error(await jane.client.get(one(gone["_id"]), headers=jane.auth), 404)
    assert ids(await fetch(jane, MINE)) == [keep["_id"]]
    # The song stays, and so does its place in the other playlist.
    assert (await fetch(jane, one(keep["_id"])))["songCount"] == 1
    assert_error(await delete(jane, gone["_id"]), 404)
    # With the last playlist gone, no stored file is left that nothing owns.
    assert (await delete(jane, keep["_id"])).status_code == 200
    assert await audit(harness) == []
    assert await playlist_rows(harness) == []


@pytest.mark.parametrize(
    "body", [None, {}, {"playlistId": "nope"}, {"playlistId": 1}, {"id": str(uuid.uuid4())}]
)
async def test_delete_needs_a_playlist_id(harness: Harness, jane: Artist, body: Any) -> None:
    playlist = await created(jane)
    response = await jane.client.request(
        "DELETE", "/api/v1/playlist/delete", json=body, headers=jane.auth
    )
    assert_error(response, 400)
    extra = await jane.client.request(
        "DELETE",
        "/api/v1/playlist/delete",
        json={"playlistId": playlist["_id"], "force": True},
        headers=jane.auth,
    )
    assert_error(extra, 400)
    as_form = await jane.client.request(
        "DELETE", "/api/v1/playlist/delete", data={"playlistId": playlist["_id"]}, headers=jane.auth
    )
    assert_error(as_form, 415)
    assert len(await playlist_rows(harness)) == 1
