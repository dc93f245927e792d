"""The catalogue: newest first by page or cursor, one artist's songs, one song; and what
only a song's owner may change or delete."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import pytest

from tests.audio import tone
from tests.conftest import Harness
from tests.images import jpeg_with_exif, png_bytes
from tests.songs.support import (
    COVER_FILES,
    COVER_SIZES,
    PAGE_FIELDS,
    SONGS,
    Artist,
    artist,
    assert_error,
    assert_processed,
    audit,
    error_fields,
    folders_of,
    song_count,
    song_files,
    stored_folders,
    uploaded,
)

HOME = f"{SONGS}/home"
MINE = f"{SONGS}/userSongs"
UPDATE = f"{SONGS}/updateSong"
DELETE = f"{SONGS}/delete"
AUDIO = tone("mp3", 0.3)


async def _upload_many(who: Artist, count: int, prefix: str = "Song") -> list[dict[str, Any]]:
    return [await uploaded(who, AUDIO, title=f"{prefix} {n}") for n in range(count)]


async def _get(who: Artist, path: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(path, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _delete(who: Artist, song_id: str) -> Any:
    return await who.client.request("DELETE", DELETE, json={"songId": song_id}, headers=who.auth)


async def _replace_cover(who: Artist, song_id: str, cover: bytes) -> Any:
    return await who.client.patch(
        f"{SONGS}/{song_id}/thumbnail",
        files={"thumbnail": ("cover.jpg", cover, "image/jpeg")},
        headers=who.auth,
    )


def _titles(page: dict[str, Any]) -> list[str]:
    return [doc["title"] for doc in page["docs"]]


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


@pytest.fixture
async def mallory(harness: Harness) -> Artist:
    return await artist(harness, "mallory")


# --- reading -----------------------------------------------------------------------


async def test_home_is_newest_first_by_page(jane: Artist) -> None:
    await _upload_many(jane, 7)
    first = await _get(jane, HOME, limit=3)
    assert set(first) == PAGE_FIELDS
    assert _titles(first) == ["Song 6", "Song 5", "Song 4"]
    assert (first["page"], first["limit"], first["totalDocs"], first["totalPages"]) == (1, 3, 7, 3)
    assert first["hasNextPage"] is True and first["hasPrevPage"] is False
    assert first["nextCursor"]
    second = await _get(jane, HOME, limit=3, page=2)
    assert _titles(second) == ["Song 3", "Song 2", "Song 1"]
    assert second["hasNextPage"] is True and second["hasPrevPage"] is True
    last = await _get(jane, HOME, limit=3, page=3)
    assert _titles(last) == ["Song 0"]
    assert last["hasNextPage"] is False and last["hasPrevPage"] is True
    assert last["nextCursor"] is None
    beyond = await _get(jane, HOME, limit=3, page=4)
    assert beyond["docs"] == [] and beyond["totalDocs"] == 7 and beyond["hasNextPage"] is False
    far = await _get(jane, HOME, limit=100, page=100_000)
    assert far["docs"] == []
    default = await _get(jane, HOME)
    assert default["page"] == 1 and default["limit"] == 10 and len(default["docs"]) == 7
    assert default["hasNextPage"] is False and default["nextCursor"] is None


async def test_a_list_shows_each_song_as_its_own_page_does(jane: Artist) -> None:
    await uploaded(jane, AUDIO, title="Listed", description="Both ways")
    [card] = (await _get(jane, HOME))["docs"]
    alone = await _get(jane, f"{SONGS}/{card['_id']}")
    assert card == alone


async def test_home_shows_every_change_at_once(jane: Artist) -> None:
    """The newest pages are kept for a moment, and forgotten by a change made here."""
    first = await uploaded(jane, AUDIO, title="First")
    assert _titles(await _get(jane, HOME)) == ["First"]
    second = await uploaded(jane, AUDIO, title="Second")
    assert _titles(await _get(jane, HOME)) == ["Second", "First"]
    renamed = await jane.client.patch(
        f"{UPDATE}/{first['_id']}", json={"title": "Renamed"}, headers=jane.auth
    )
    assert renamed.status_code == 200
    assert _titles(await _get(jane, HOME)) == ["Second", "Renamed"]
    assert (await _replace_cover(jane, second["_id"], png_bytes())).status_code == 200
    [newest, _] = (await _get(jane, HOME))["docs"]
    assert newest["thumbnail"] != second["thumbnail"]
    assert (await _delete(jane, second["_id"])).status_code == 200
    assert _titles(await _get(jane, HOME)) == ["Renamed"]


async def test_the_limit_is_clamped_to_100(jane: Artist) -> None:
    await _upload_many(jane, 2)
    page = await _get(jane, HOME, limit=1000)
    assert page["limit"] == 100 and page["totalPages"] == 1 and len(page["docs"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page": -1},
        {"page": 100_001},
        {"page": 10**20},
        {"limit": 0},
        {"limit": "ten"},
        {"page": "1.5"},
    ],
    ids=[
        "page 0",
        "negative page",
        "page too deep",
        "page huge",
        "limit 0",
        "limit text",
        "page fraction",
    ],
)
async def test_bad_page_or_limit_is_400(jane: Artist, params: dict[str, Any]) -> None:
    response = await jane.client.get(HOME, params=params, headers=jane.auth)
    assert_error(response, 400)
    assert error_fields(response) == set(params)


async def test_a_cursor_walks_every_song_once(harness: Harness, jane: Artist) -> None:
    mallory = await artist(harness, "mallory")
    await _upload_many(jane, 4, "Jane")
    await _upload_many(mallory, 3, "Mallory")
    await _upload_many(jane, 2, "Late")
    everything = _titles(await _get(jane, HOME, limit=100))
    assert len(everything) == 9
    seen: list[str] = []
    page = await _get(jane, HOME, limit=2)
    pages = 1
    while page["nextCursor"]:
        assert page["hasNextPage"] is True
        seen += _titles(page)
        page = await _get(jane, HOME, limit=2, cursor=page["nextCursor"])
        pages += 1
        assert page["hasPrevPage"] is True
        assert page["totalDocs"] == 9
    seen += _titles(page)
    assert page["hasNextPage"] is False
    assert pages == 5
    assert seen == everything  # in order, no duplicates, no gaps


async def test_a_cursor_at_an_exact_multiple_ends_cleanly(jane: Artist) -> None:
    await _upload_many(jane, 4)
    first = await _get(jane, HOME, limit=2)
    second = await _get(jane, HOME, limit=2, cursor=first["nextCursor"])
    assert _titles(second) == ["Song 1", "Song 0"]
    assert second["nextCursor"] is None and second["hasNextPage"] is False


async def test_a_cursor_survives_new_uploads(jane: Artist) -> None:
    await _upload_many(jane, 4)
    first = await _get(jane, HOME, limit=2)
    await _upload_many(jane, 3, "Newer")
    second = await _get(jane, HOME, limit=2, cursor=first["nextCursor"])
    assert _titles(second) == ["Song 1", "Song 0"]  # a page offset would have shifted


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "abc", "é", "a" * 200, base64.urlsafe_b64encode(b"short").decode(), "%00"],
    ids=["punctuation", "too short", "non-ascii", "too long", "five bytes", "nul"],
)
async def test_a_bad_cursor_is_400(jane: Artist, cursor: str) -> None:
    response = await jane.client.get(HOME, params={"cursor": cursor}, headers=jane.auth)
    assert_error(response, 400)
    assert error_fields(response) == {"cursor"}


async def test_the_catalogue_needs_a_login(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    anonymous = harness.client()
    for path in (HOME, MINE, f"{SONGS}/{song['_id']}"):
        assert_error(await anonymous.get(path), 401)


async def test_user_songs_are_only_the_callers(jane: Artist, mallory: Artist) -> None:
    await _upload_many(jane, 3, "Jane")
    await _upload_many(mallory, 2, "Mallory")
    mine = await _get(jane, MINE, limit=2)
    assert _titles(mine) == ["Jane 2", "Jane 1"]
    assert mine["totalDocs"] == 3 and mine["totalPages"] == 2 and mine["hasNextPage"] is True
    rest = await _get(jane, MINE, limit=2, cursor=mine["nextCursor"])
    assert _titles(rest) == ["Jane 0"] and rest["nextCursor"] is None
    theirs = await _get(mallory, MINE)
    assert _titles(theirs) == ["Mallory 1", "Mallory 0"]
    assert {doc["owner"]["username"] for doc in theirs["docs"]} == {"mallory"}
    home = await _get(jane, HOME)
    assert home["totalDocs"] == 5


async def test_one_song(jane: Artist, mallory: Artist) -> None:
    song = await uploaded(jane, AUDIO, title="Solo", description="Just me.", Genre="Folk")
    response = await mallory.client.get(f"{SONGS}/{song['_id']}", headers=mallory.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Song fetched."
    fetched = body["data"]
    assert (fetched["_id"], fetched["title"], fetched["description"], fetched["genre"]) == (
        song["_id"],
        "Solo",
        "Just me.",
        "Folk",
    )
    assert fetched["owner"]["username"] == "janedoe" and "email" not in fetched["owner"]
    assert "jane@example.com" not in response.text
    streamed = await mallory.client.get(fetched["songFile"])
    assert streamed.status_code == 200 and streamed.content == AUDIO
    missing = await jane.client.get(f"{SONGS}/{uuid.uuid4()}", headers=jane.auth)
    assert_error(missing, 404)
    malformed = await jane.client.get(f"{SONGS}/not-a-uuid", headers=jane.auth)
    assert_error(malformed, 400)


# --- changing ----------------------------------------------------------------------


async def test_update_changes_title_description_genre(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO, title="Draft", description="old", Genre="Rock")
    path = f"{UPDATE}/{song['_id']}"
    titled = await jane.client.patch(path, json={"title": "  Final  "}, headers=jane.auth)
    assert titled.status_code == 200, titled.text
    assert titled.json()["message"] == "Song updated successfully."
    data = titled.json()["data"]
    assert (data["title"], data["description"], data["genre"]) == ("Final", "old", "Rock")
    assert data["updatedAt"] >= song["updatedAt"] and data["createdAt"] == song["createdAt"]
    everything = await jane.client.patch(
        path, json={"description": "new\nwords", "genre": "Blues"}, headers=jane.auth
    )
    data = everything.json()["data"]
    assert (data["title"], data["description"], data["genre"]) == ("Final", "new\nwords", "Blues")
    cleared = await jane.client.patch(
        path, json={"genre": "", "description": ""}, headers=jane.auth
    )
    assert cleared.json()["data"]["genre"] is None
    assert cleared.json()["data"]["description"] == ""
    rows = await harness.sql("SELECT title, description, genre FROM songs")
    assert rows == [("Final", "", None)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": None},
        {"title": ""},
        {"title": "   "},
        {"title": "t" * 201},
        {"description": "d" * 5001},
        {"genre": "g" * 101},
        {"title": "a\x00b"},
        {"title": "two\nlines"},
        {"description": "nul\x00"},
        {"genre": "esc\x1b"},
        {"owner": str(uuid.uuid4())},
        {"views": 1_000_000},
        {"likeCount": 5},
        {"commentCount": 5},
        {"songFile": "http://evil.example/x.mp3"},
        {"thumbnail": "http://evil.example/x.png"},
        {"_id": str(uuid.uuid4())},
        {"id": str(uuid.uuid4())},
        {"status": "failed"},
        {"duration": 1},
        {"createdAt": "2000-01-01T00:00:00Z"},
        {"title": "Sneaky", "owner": str(uuid.uuid4())},
        {"title": "Sneaky", "views": 9},
        {"title": "Sneaky", "audio_key": "songs/x.mp3"},
        {"title": 5},
        [],
        "title",
    ],
)
async def test_update_refuses_anything_else(harness: Harness, jane: Artist, body: Any) -> None:
    song = await uploaded(jane, AUDIO, title="Untouched")
    before = await harness.sql("SELECT * FROM songs")
    response = await jane.client.patch(f"{UPDATE}/{song['_id']}", json=body, headers=jane.auth)
    assert_error(response, 400)
    assert await harness.sql("SELECT * FROM songs") == before


async def test_update_needs_json(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO, title="Untouched")
    form = await jane.client.patch(
        f"{UPDATE}/{song['_id']}", data={"title": "Form"}, headers=jane.auth
    )
    assert_error(form, 415)
    broken = await jane.client.patch(
        f"{UPDATE}/{song['_id']}",
        content=b'{"title": ',
        headers={**jane.auth, "Content-Type": "application/json"},
    )
    assert_error(broken, 400)
    assert await harness.sql("SELECT title FROM songs") == [("Untouched",)]


async def test_replacing_the_cover_removes_the_old_file(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    before = await stored_folders(harness)
    song_folder, old_folder = folders_of(song)
    assert set(before) == {song_folder, old_folder} and before[old_folder] == COVER_FILES
    response = await _replace_cover(jane, song["_id"], jpeg_with_exif())
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Thumbnail updated successfully."
    data = response.json()["data"]
    assert data["thumbnail"] != song["thumbnail"]
    _, new_folder = folders_of(data)
    # The old cover's whole folder is gone, every size and the folder itself; the song's
    # own files are untouched.
    after = await stored_folders(harness)
    assert after == {song_folder: before[song_folder], new_folder: COVER_FILES}
    assert new_folder != old_folder
    assert not (harness.settings.media_dir / old_folder).exists()
    urls = {str(size): f"http://testserver/media/{new_folder}/{size}.webp" for size in COVER_SIZES}
    assert data["thumbnails"] == urls and data["thumbnail"] == urls["640"]
    for url in urls.values():
        served = await jane.client.get(url)
        assert served.status_code == 200 and b"SpyCam" not in served.content
    for url in song["thumbnails"].values():
        assert (await jane.client.get(url)).status_code == 404
    fetched = await _get(jane, f"{SONGS}/{song['_id']}")
    assert (fetched["thumbnail"], fetched["thumbnails"]) == (data["thumbnail"], urls)
    assert await audit(harness) == []


async def test_a_bad_replacement_cover_changes_nothing(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    files_before = await song_files(harness)
    for cover in (b"", b"not an image at all", tone("mp3", 0.2)):
        response = await _replace_cover(jane, song["_id"], cover)
        assert_error(response, (400, 415))
    missing = await jane.client.patch(
        f"{SONGS}/{song['_id']}/thumbnail",
        files={"cover": ("c.png", png_bytes(), "image/png")},
        headers=jane.auth,
    )
    assert_error(missing, 400)
    as_json = await jane.client.patch(
        f"{SONGS}/{song['_id']}/thumbnail", json={"thumbnail": "x"}, headers=jane.auth
    )
    assert_error(as_json, 415)
    assert await song_files(harness) == files_before
    assert (await _get(jane, f"{SONGS}/{song['_id']}"))["thumbnail"] == song["thumbnail"]


async def test_delete_removes_the_row_and_every_file(harness: Harness, jane: Artist) -> None:
    avatars = [p for p in harness.media_files() if p not in await song_files(harness)]
    keep = await uploaded(jane, AUDIO, title="Keep")
    gone = await uploaded(jane, tone("flac", 0.3), fmt="flac", title="Gone")
    before = await stored_folders(harness)
    keep_song, keep_cover = folders_of(keep)
    gone_song, gone_cover = folders_of(gone)
    assert set(before) == {keep_song, keep_cover, gone_song, gone_cover}
    assert_processed(before[keep_song], "original.mp3")
    assert_processed(before[gone_song], "original.flac")
    assert before[keep_cover] == before[gone_cover] == COVER_FILES
    assert (await _get(jane, HOME))["totalDocs"] == 2
    # The processed song: every link it gives, renditions and HLS included, dies with it.
    ready = await _get(jane, f"{SONGS}/{gone['_id']}")
    assert ready["status"] == "ready" and ready["hls"]
    links = [ready["hls"], *(r["url"] for r in ready["renditions"])]
    for link in [ready["songFile"], *links]:
        assert (await jane.client.get(link)).status_code == 200

    response = await _delete(jane, gone["_id"])
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Song deleted successfully."
    assert response.json()["data"] is None
    assert await harness.sql("SELECT title FROM songs") == [("Keep",)]
    home = await _get(jane, HOME)
    assert home["totalDocs"] == 1 and _titles(home) == ["Keep"]
    assert (await _get(jane, MINE))["totalDocs"] == 1
    assert_error(await jane.client.get(f"{SONGS}/{gone['_id']}", headers=jane.auth), 404)
    # Every file of the deleted song is gone, and its folders; the other song's are untouched.
    assert await stored_folders(harness) == {k: before[k] for k in (keep_song, keep_cover)}
    root = harness.settings.media_dir
    assert not (root / gone_song).exists() and not (root / gone_cover).exists()
    for link in [gone["songFile"], *links, *gone["thumbnails"].values()]:
        assert_error(await jane.client.get(link), 404)
    assert_error(await _delete(jane, gone["_id"]), 404)  # twice: already gone

    assert (await _delete(jane, keep["_id"])).status_code == 200
    assert await song_files(harness) == []
    assert harness.media_files() == avatars
    for family in ("songs", "covers"):
        assert not any((root / family).glob("*"))  # no empty folders
    assert await song_count(harness) == 0
    assert (await _get(jane, HOME))["totalDocs"] == 0
    assert await audit(harness) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"songId": "not-a-uuid"}, {"songId": 5}, {"songId": None}, [], {"id": str(uuid.uuid4())}],
)
async def test_delete_needs_a_song_id(harness: Harness, jane: Artist, body: Any) -> None:
    song = await uploaded(jane, AUDIO)
    response = await jane.client.request("DELETE", DELETE, json=body, headers=jane.auth)
    assert_error(response, 400)
    extra = await jane.client.request(
        "DELETE", DELETE, json={"songId": song["_id"], "force": True}, headers=jane.auth
    )
    assert_error(extra, 400)
    as_form = await jane.client.request(
        "DELETE", DELETE, data={"songId": song["_id"]}, headers=jane.auth
    )
    assert_error(as_form, 415)
    assert await song_count(harness) == 1


# --- only the owner ------------------------------------------------------------------


async def test_another_user_is_refused_everywhere_and_changes_nothing(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    song = await uploaded(jane, AUDIO, title="Jane's", description="mine", Genre="Folk")
    # Processing done first, so that nothing but mallory could change the row or the files.
    files_before = await stored_folders(harness)
    assert await harness.sql("SELECT status FROM songs") == [("ready",)]
    rows_before = await harness.sql("SELECT * FROM songs")
    attempts = [
        await mallory.client.patch(
            f"{UPDATE}/{song['_id']}", json={"title": "Stolen"}, headers=mallory.auth
        ),
        await mallory.client.patch(
            f"{UPDATE}/{song['_id']}", json={"owner": mallory.id}, headers=mallory.auth
        ),
        await _replace_cover(mallory, song["_id"], png_bytes()),
        await _delete(mallory, song["_id"]),
    ]
    for response in attempts:
        assert_error(response, 403)
    assert await stored_folders(harness) == files_before
    assert await harness.sql("SELECT * FROM songs") == rows_before
    assert (await _get(jane, f"{SONGS}/{song['_id']}"))["title"] == "Jane's"
    assert (await _get(jane, HOME))["totalDocs"] == 1


async def test_unknown_songs_are_404_for_every_owner_route(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    before = await stored_folders(harness)
    assert set(before) == set(folders_of(song))
    unknown = str(uuid.uuid4())
    attempts = [
        await jane.client.patch(f"{UPDATE}/{unknown}", json={"title": "x"}, headers=jane.auth),
        await _replace_cover(jane, unknown, png_bytes()),
        await _delete(jane, unknown),
    ]
    for response in attempts:
        assert_error(response, 404)
    malformed = [
        await jane.client.patch(f"{UPDATE}/nope", json={"title": "x"}, headers=jane.auth),
        await _replace_cover(jane, "nope", png_bytes()),
        await _delete(jane, "nope"),
    ]
    for response in malformed:
        assert_error(response, 400)
    # No cover stored for a song that is not there, nothing deleted of the one that is.
    assert await stored_folders(harness) == before
    assert await audit(harness) == []


async def test_owner_routes_need_a_login(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    anonymous = harness.client()
    attempts = [
        await anonymous.patch(f"{UPDATE}/{song['_id']}", json={"title": "x"}),
        await anonymous.patch(
            f"{SONGS}/{song['_id']}/thumbnail",
            files={"thumbnail": ("c.png", png_bytes(), "image/png")},
        ),
        await anonymous.request("DELETE", DELETE, json={"songId": song["_id"]}),
    ]
    for response in attempts:
        assert_error(response, 401)
    assert await song_count(harness) == 1


# --- at the same time ----------------------------------------------------------------


async def test_parallel_uploads_are_each_counted(jane: Artist) -> None:
    songs = await asyncio.gather(*(uploaded(jane, AUDIO, title=f"Song {n}") for n in range(4)))
    assert len({song["_id"] for song in songs}) == 4
    assert (await _get(jane, HOME))["totalDocs"] == 4


async def test_deleting_twice_at_once_counts_once(harness: Harness, jane: Artist) -> None:
    stays = await uploaded(jane, AUDIO, title="Stays")
    song = await uploaded(jane, AUDIO, title="Goes")
    before = await stored_folders(harness)
    responses = await asyncio.gather(_delete(jane, song["_id"]), _delete(jane, song["_id"]))
    assert sorted(r.status_code for r in responses) == [200, 404]
    assert await harness.sql("SELECT title FROM songs") == [("Stays",)]
    assert (await _get(jane, HOME))["totalDocs"] == 1
    assert await stored_folders(harness) == {k: before[k] for k in folders_of(stays)}
    assert await audit(harness) == []


async def test_racing_cover_changes_orphan_no_file(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, AUDIO)
    responses = await asyncio.gather(
        *(_replace_cover(jane, song["_id"], png_bytes(color=(n, n, n))) for n in range(3))
    )
    assert {r.status_code for r in responses} <= {200, 409}
    assert 200 in {r.status_code for r in responses}
    current = await _get(jane, f"{SONGS}/{song['_id']}")
    song_folder, cover_folder = folders_of(current)
    # One cover folder, every size of it, and it is the one the song points at.
    stored = await stored_folders(harness)
    assert set(stored) == {song_folder, cover_folder} and stored[cover_folder] == COVER_FILES
    for url in current["thumbnails"].values():
        assert (await jane.client.get(url)).status_code == 200
    assert await audit(harness) == []


async def test_a_cover_change_racing_a_delete_leaves_no_file(
    harness: Harness, jane: Artist
) -> None:
    song = await uploaded(jane, AUDIO)
    replaced, deleted = await asyncio.gather(
        _replace_cover(jane, song["_id"], png_bytes()), _delete(jane, song["_id"])
    )
    assert deleted.status_code in (200, 404) and replaced.status_code in (200, 404, 409)
    if deleted.status_code == 200:
        assert await song_files(harness) == []
        assert await song_count(harness) == 0
    assert await audit(harness) == []
