"""Creating a playlist: JSON or multipart with a cover, and everything it refuses."""

from __future__ import annotations

import io
import os
import uuid
from typing import Any

import pytest
from PIL import Image

from tests.conftest import Harness
from tests.images import png_bytes
from tests.playlists.support import (
    PLAYLIST,
    PLAYLIST_FIELDS,
    cover_folder,
    create,
    create_with_cover,
    created,
    fetch,
    one,
    playlist_rows,
    song_ids,
    songs,
)
from tests.songs.support import COVER_FILES, Artist, assert_error, audit, error_fields


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: about ``3 * side * side`` bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(out, format="PNG")
    return out.getvalue()


async def test_create_by_json(jane: Artist) -> None:
    response = await create(
        jane, playlist_name="  Road trip  ", description="Windows down.\nVolume up."
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Playlist created successfully." and body["success"] is True
    playlist = body["data"]
    assert set(playlist) == PLAYLIST_FIELDS | {"songsPage"}
    assert playlist["playlist_name"] == "Road trip"
    assert playlist["description"] == "Windows down.\nVolume up."
    assert playlist["isPublic"] is True
    assert playlist["thumbnail"] is None and playlist["thumbnails"] is None
    assert playlist["songs"] == [] and playlist["songCount"] == 0
    assert playlist["owner"] == {
        "_id": jane.id,
        "username": "janedoe",
        "fullname": "Jane Doe",
        "avatar": jane.user["avatar"],
    }
    assert "email" not in str(playlist) and "janedoe@example.com" not in response.text
    assert playlist["createdAt"].endswith("Z") and playlist["updatedAt"].endswith("Z")
    assert await fetch(jane, one(playlist["_id"])) == playlist


async def test_create_with_songs_keeps_their_order_once_each(
    harness: Harness, jane: Artist
) -> None:
    a, b, c = await songs(harness, jane, 3)
    playlist = await created(jane, songs=[c, a, c, b], isPublic=False)
    assert song_ids(playlist) == [c, a, b] and playlist["songCount"] == 3
    assert playlist["isPublic"] is False
    assert [s["title"] for s in playlist["songs"]] == ["Song 2", "Song 0", "Song 1"]
    assert playlist["songs"][0]["owner"]["username"] == "janedoe"
    also = await created(jane, "Also", songIds=[b])
    assert song_ids(also) == [b]


async def test_create_by_multipart_with_a_cover(harness: Harness, jane: Artist) -> None:
    [song] = await songs(harness, jane, 1)
    response = await create_with_cover(
        jane,
        playlist_name="Covered",
        description="With art",
        isPublic="false",
        songIds=song,
    )
    assert response.status_code == 201, response.text
    playlist = response.json()["data"]
    assert playlist["isPublic"] is False and song_ids(playlist) == [song]
    assert set(playlist["thumbnails"]) == {"64", "300", "640"}
    assert playlist["thumbnail"] == playlist["thumbnails"]["640"]
    folder = cover_folder(harness, playlist)
    assert {p.name for p in folder.iterdir()} == COVER_FILES
    for url in playlist["thumbnails"].values():
        image = await jane.client.get(url)
        assert image.status_code == 200 and image.content[8:12] == b"WEBP"
    # The storage audit counts a playlist's cover folder as owned.
    assert await audit(harness) == []


@pytest.mark.parametrize(
    ("value", "public"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
async def test_is_public_as_text_in_a_form(jane: Artist, value: str, public: bool) -> None:
    response = await create_with_cover(jane, playlist_name="Form", isPublic=value)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["isPublic"] is public


async def test_songs_in_a_form_repeated_listed_or_as_json(harness: Harness, jane: Artist) -> None:
    a, b = await songs(harness, jane, 2)
    files = {"thumbnail": ("c.png", png_bytes(), "image/png")}
    for data in (
        {"playlist_name": "Repeated", "songIds": [b, a]},
        {"playlist_name": "Listed", "songIds": f"{b}, {a}"},
        {"playlist_name": "JSON", "songs": f'["{b}", "{a}"]'},
    ):
        response = await jane.client.post(f"{PLAYLIST}/", data=data, files=files, headers=jane.auth)
        assert response.status_code == 201, response.text
        assert song_ids(response.json()["data"]) == [b, a]


async def test_an_empty_file_part_is_no_cover(jane: Artist) -> None:
    # What a browser sends for a file input left empty.
    body = (
        b"--b\r\n"
        b'Content-Disposition: form-data; name="playlist_name"\r\n\r\n'
        b"No art\r\n"
        b"--b\r\n"
        b'Content-Disposition: form-data; name="thumbnail"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\r\n"
        b"--b--\r\n"
    )
    response = await jane.client.post(
        f"{PLAYLIST}/",
        content=body,
        headers={**jane.auth, "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["thumbnail"] is None


async def test_the_path_without_its_slash_works_too(jane: Artist) -> None:
    response = await jane.client.post(
        PLAYLIST, json={"playlist_name": "Slashless"}, headers=jane.auth
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"playlist_name": ""},
        {"playlist_name": "   "},
        {"playlist_name": "x" * 101},
        {"playlist_name": 123},
        {"playlist_name": ["a"]},
        {"playlist_name": None},
        {"playlist_name": "a\x00b"},
        {"playlist_name": "two\nlines"},
        {"playlist_name": "ok", "description": "x" * 5001},
        {"playlist_name": "ok", "description": "bell\x07"},
        {"playlist_name": "ok", "description": 5},
        {"playlist_name": "ok", "isPublic": "yes"},
        {"playlist_name": "ok", "isPublic": 1},
        {"playlist_name": "ok", "isPublic": "1"},
        {"playlist_name": "ok", "isPublic": ""},
        {"playlist_name": "ok", "isPublic": None},
        {"playlist_name": "ok", "songs": ["not-an-id"]},
        {"playlist_name": "ok", "songs": []},
        {"playlist_name": "ok", "songs": [1]},
        {"playlist_name": "ok", "songs": [str(uuid.uuid4())], "songIds": [str(uuid.uuid4())]},
        {"playlist_name": "ok", "owner": str(uuid.uuid4())},
        {"playlist_name": "ok", "thumbnail": "https://evil.example/x.png"},
    ],
)
async def test_invalid_bodies_are_400(harness: Harness, jane: Artist, body: Any) -> None:
    response = await create(jane, **body)
    assert_error(response, 400)
    assert await playlist_rows(harness) == []


async def test_the_name_is_at_most_100_characters(jane: Artist) -> None:
    playlist = await created(jane, "n" * 100)
    assert playlist["playlist_name"] == "n" * 100
    assert error_fields(await create(jane, playlist_name="n" * 101)) == {"playlist_name"}


async def test_bad_form_values_are_400(harness: Harness, jane: Artist) -> None:
    for fields in (
        {"playlist_name": "ok", "isPublic": "maybe"},
        {"playlist_name": ""},
        {"playlist_name": "a\x00b"},
        {"playlist_name": "ok", "songIds": "not-an-id"},
        {"playlist_name": "ok", "songs": "[not json"},
        {"playlist_name": "ok", "owner_id": str(uuid.uuid4())},
    ):
        assert_error(await create_with_cover(jane, **fields), 400)
    two_files = await jane.client.post(
        f"{PLAYLIST}/",
        data={"playlist_name": "ok"},
        files=[
            ("thumbnail", ("a.png", png_bytes(), "image/png")),
            ("thumbnail", ("b.png", png_bytes(), "image/png")),
        ],
        headers=jane.auth,
    )
    assert_error(two_files, 400)
    other_file = await jane.client.post(
        f"{PLAYLIST}/",
        data={"playlist_name": "ok"},
        files={"songFile": ("a.png", png_bytes(), "image/png")},
        headers=jane.auth,
    )
    assert_error(other_file, 400)
    assert await playlist_rows(harness) == []
    assert await audit(harness) == []


async def test_an_unknown_song_creates_nothing(harness: Harness, jane: Artist) -> None:
    [song] = await songs(harness, jane, 1)
    response = await create_with_cover(jane, playlist_name="Nope", songIds=f"{song},{uuid.uuid4()}")
    body = assert_error(response, 404)
    assert body["errors"][0]["field"] == "songIds"
    assert await playlist_rows(harness) == []
    # The cover stored for it went with the failed request.
    assert await audit(harness) == []


async def test_a_cover_that_is_not_an_image_is_415(harness: Harness, jane: Artist) -> None:
    for data in (b"just some text, honest\n", b"#!/bin/sh\nrm -rf /\n", b"GIF89a" + b"\0" * 20):
        response = await create_with_cover(jane, data, "cover.png", playlist_name="Text")
        assert_error(response, 415)
    assert_error(await create_with_cover(jane, b"x", "c.txt", playlist_name="Tiny"), 415)
    assert await playlist_rows(harness) == []
    assert await audit(harness) == []


async def test_an_oversized_cover_is_413(make_harness: Any) -> None:
    from tests.songs.support import artist

    harness = await make_harness(image_max_bytes=20_000)
    jane = await artist(harness)
    big = _noise_png(200)
    assert len(big) > 20_000
    response = await create_with_cover(jane, big, playlist_name="Big")
    assert_error(response, 413)
    # Past the route's limit, refused before the body is read.
    huge = await create_with_cover(jane, b"\0" * (2 * 1024 * 1024), playlist_name="Huge")
    assert_error(huge, 413)
    assert await playlist_rows(harness) == []
    assert await audit(harness) == []


async def test_a_json_body_gets_no_more_room_than_any_json(jane: Artist) -> None:
    padding = "x" * (100 * 1024)
    response = await create(jane, playlist_name="Big JSON", description=padding)
    assert_error(response, 413)


async def test_other_body_types_are_415(harness: Harness, jane: Artist) -> None:
    urlencoded = await jane.client.post(
        f"{PLAYLIST}/", data={"playlist_name": "Form"}, headers=jane.auth
    )
    assert_error(urlencoded, 415)
    for content_type, content in (("text/plain", b"playlist_name=x"), ("application/xml", b"<a/>")):
        response = await jane.client.post(
            f"{PLAYLIST}/", content=content, headers={**jane.auth, "content-type": content_type}
        )
        assert_error(response, 415)
    malformed = await jane.client.post(
        f"{PLAYLIST}/",
        content=b'{"playlist_name": ',
        headers={**jane.auth, "content-type": "application/json"},
    )
    assert_error(malformed, 400)
    not_an_object = await jane.client.post(f"{PLAYLIST}/", json=["a"], headers=jane.auth)
    assert_error(not_an_object, 400)
    assert await playlist_rows(harness) == []


async def test_creating_needs_a_login(harness: Harness, jane: Artist) -> None:
    client = harness.client()
    assert_error(await client.post(f"{PLAYLIST}/", json={"playlist_name": "x"}), 401)
    # A cover sent without a login is refused before its body is read.
    response = await client.post(
        f"{PLAYLIST}/",
        data={"playlist_name": "x"},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert_error(response, 401)
    assert response.headers.get("connection") == "close"
    assert await playlist_rows(harness) == []
