"""The upload page's many files: one request each, brought in as the import brings a file
in (tags, covers, releases), over HTTP and once in a browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import select

from bandstand.imports.covers import encoded, generated
from bandstand.models import Release, Song
from bandstand.songs.service import cover_folder
from tests.conftest import Harness
from tests.imports.support import jpeg, mp3
from tests.songs.support import Artist, artist
from tests.web.conftest import sign_in
from tests.web.support import TOKEN
from tests.web.support import browser as client_of

MANY = "/studio/upload/files"


def _mp3(folder: Path, name: str, **tags: Any) -> bytes:
    return mp3(folder / name, **tags).read_bytes()


async def _send(
    client: httpx.AsyncClient, name: str, audio: bytes, cover: bytes | None = None
) -> httpx.Response:
    files: dict[str, Any] = {"songFile": (name, audio, "audio/mpeg")}
    if cover is not None:
        files["folderCover"] = ("cover.jpg", cover, "image/jpeg")
    headers = {"accept": "application/json", "x-csrf-token": TOKEN}
    return await client.post(MANY, files=files, headers=headers)


async def _cover(harness: Harness, key: str) -> dict[int, bytes]:
    storage = harness.app.state.runtime.storage
    return {
        int(k.rsplit("/", 1)[1][:-5]): await storage.get(k)
        for k in await storage.keys(cover_folder(key))
    }


async def _rows(harness: Harness) -> tuple[list[Release], list[Song]]:
    async with harness.app.state.runtime.sessionmaker() as session:
        releases = list((await session.execute(select(Release))).scalars())
        songs = list((await session.execute(select(Song).order_by(Song.track))).scalars())
    return releases, songs


async def test_files_sent_one_by_one_make_one_release(harness: Harness, tmp_path: Path) -> None:
    jane = await artist(harness)
    client = await client_of(harness, jane)
    art = jpeg((10, 160, 90))
    first = await _send(
        client,
        "music/Night/01 a.mp3",
        _mp3(
            tmp_path, "1.mp3", title="Opening", album="Night", track="1/3", date="2020", picture=art
        ),
    )
    assert first.status_code == 201, first.text
    data = first.json()["data"]
    assert data["song"]["title"] == "Opening" and data["releaseCreated"] is True
    assert data["release"]["title"] == "Night" and data["release"]["kind"] == "single"
    assert data["page"] == f"/studio/songs/{data['song']['_id']}"
    # No tags of its own: named by its file, its cover the folder's picture.
    folder_art = jpeg((200, 200, 0))
    second = await _send(
        client, "music/Night/02_the_middle.mp3", _mp3(tmp_path, "2.mp3", album="Night"), folder_art
    )
    assert second.status_code == 201, second.text
    assert second.json()["data"]["release"] == {**data["release"], "kind": "ep"}
    third = await _send(client, "03.mp3", _mp3(tmp_path, "3.mp3", title="Closing", album="night"))
    assert third.status_code == 201 and third.json()["data"]["releaseCreated"] is False

    (release,), songs = await _rows(harness)
    assert (release.kind, release.year) == ("ep", 2020)
    assert [(s.title, s.track) for s in songs] == [
        ("Opening", 1),
        ("02 the middle", 2),
        ("Closing", 3),
    ]
    assert await _cover(harness, songs[0].thumbnail_key) == encoded(art)
    assert await _cover(harness, songs[1].thumbnail_key) == encoded(folder_art)
    # The third has neither: it shows its release's cover.
    assert await _cover(harness, songs[2].thumbnail_key) == await _cover(
        harness, release.thumbnail_key or ""
    )

    # The same file again is refused; another artist's album of that name is theirs.
    again = await _send(
        client, "again.mp3", _mp3(tmp_path, "3.mp3", title="Closing", album="night")
    )
    assert again.status_code == 409 and "already have this file" in again.json()["message"]
    bob = await client_of(harness, await artist(harness, "bobby"))
    theirs = await _send(bob, "b.mp3", _mp3(tmp_path, "b.mp3", title="Bob's", album="Night"))
    assert theirs.json()["data"]["releaseCreated"] is True
    loose = await _send(bob, "loose.mp3", _mp3(tmp_path, "loose.mp3", title="Loose"))
    assert loose.json()["data"]["release"] is None
    (*_, loose_song) = [s for s in (await _rows(harness))[1] if s.title == "Loose"]
    assert await _cover(harness, loose_song.thumbnail_key) == generated("Loose")


async def test_bad_files_and_bad_requests_are_refused_clearly(harness: Harness) -> None:
    jane = await artist(harness)
    client = await client_of(harness, jane)
    text = await _send(client, "notes.txt", b"hello, not a song")
    assert text.status_code == 415 and "not MP3" in text.json()["message"]
    empty = await _send(client, "empty.mp3", b"")
    assert empty.status_code == 400
    missing = await client.post(
        MANY,
        files={"other": ("x", b"x")},
        headers={"accept": "application/json", "x-csrf-token": TOKEN},
    )
    assert missing.status_code == 400
    json_body = await client.post(MANY, json={}, headers={"x-csrf-token": TOKEN})
    assert json_body.status_code == 415
    forged = await client.post(
        MANY, files={"songFile": ("a.mp3", b"ID3")}, headers={"accept": "application/json"}
    )
    assert forged.status_code == 403
    stranger = await client_of(harness)
    anonymous = await _send(stranger, "a.mp3", b"ID3")
    assert anonymous.status_code in (303, 401)
    assert (await _rows(harness)) == ([], [])


async def test_the_page_uploads_many_files_with_a_line_each(
    harness: Harness, page: Page, tmp_path: Path
) -> None:
    jane: Artist = await artist(harness)
    await sign_in(harness, page, jane)
    await page.goto("/upload")
    files = [
        {
            "name": "2 second.mp3",
            "mimeType": "audio/mpeg",
            "buffer": _mp3(tmp_path, "b.mp3", title="Second", album="Pair", track="2"),
        },
        {
            "name": "1 first.mp3",
            "mimeType": "audio/mpeg",
            "buffer": _mp3(tmp_path, "a.mp3", title="First", album="Pair", track="1"),
        },
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a song"},
    ]
    await page.get_by_label("Several songs").set_input_files(files)
    await page.get_by_role("button", name="Upload them all").click()
    await expect(page.get_by_role("status").filter(has_text="2 uploaded, 1 not")).to_be_visible()
    rows = page.get_by_role("list", name="Songs being uploaded").get_by_role("listitem")
    await expect(rows).to_have_count(3)
    # In the order of their names; each with what became of it.
    await expect(rows.nth(0)).to_contain_text("1 first.mp3")
    await expect(rows.nth(0)).to_contain_text("Uploaded: First, on Pair")
    await expect(rows.nth(1)).to_contain_text("Uploaded: Second, on Pair")
    await expect(rows.nth(2)).to_contain_text("Not uploaded. The file is not MP3")
    await expect(rows.nth(0).get_by_role("link", name="First")).to_have_attribute(
        "href", re.compile(r"^/studio/songs/")
    )
    (release,), songs = await _rows(harness)
    assert release.kind == "ep" and [s.title for s in songs] == ["First", "Second"]
