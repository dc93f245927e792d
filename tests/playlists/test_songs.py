"""A playlist's songs: added in order once each, all or nothing, removed idempotently,
gone with the song, and paged through on the playlist's own page."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from bandstand.playlists import service
from tests.conftest import Harness
from tests.playlists.support import (
    add_songs,
    created,
    fetch,
    one,
    remove_song,
    song_ids,
    songs,
)
from tests.songs.support import SONGS, Artist, assert_error, error_fields


async def _add(who: Artist, playlist_id: str, body: Any) -> Any:
    return await who.client.post(add_songs(playlist_id), json=body, headers=who.auth)


async def _stored(harness: Harness, playlist_id: str) -> list[str]:
    """The playlist's songs as the database holds them, in order."""
    rows = await harness.sql(
        "SELECT song_id FROM playlist_songs WHERE playlist_id = :p ORDER BY position",
        p=_db_id(harness, playlist_id),
    )
    return [str(uuid.UUID(str(row[0]))) for row in rows]


def _db_id(harness: Harness, ident: str) -> Any:
    # SQLite stores UUIDs as 32 hex characters; PostgreSQL as uuid.
    return uuid.UUID(ident).hex if harness.settings.is_embedded_database else uuid.UUID(ident)


async def test_add_one_or_many_in_order_once_each(harness: Harness, jane: Artist) -> None:
    a, b, c, d = await songs(harness, jane, 4)
    playlist = await created(jane)
    pid = playlist["_id"]
    first = await _add(jane, pid, {"songId": b})
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Songs added to playlist."
    assert song_ids(first.json()["data"]) == [b]
    # Repeats in the request and songs already there are skipped; the rest keep their order.
    more = await _add(jane, pid, {"songIds": [d, b, a, d]})
    assert song_ids(more.json()["data"]) == [b, d, a]
    as_list = await _add(jane, pid, {"songId": [a, c]})
    data = as_list.json()["data"]
    assert song_ids(data) == [b, d, a, c] and data["songCount"] == 4
    again = await _add(jane, pid, {"songId": c})
    assert again.status_code == 200 and song_ids(again.json()["data"]) == [b, d, a, c]
    assert await _stored(harness, pid) == [b, d, a, c]
    assert data["updatedAt"] >= playlist["updatedAt"]
    [listed] = (await fetch(jane, "/api/v1/playlist/get"))["docs"]
    assert listed["songs"] == [b, d, a, c] and listed["songCount"] == 4


async def test_an_unknown_song_adds_nothing(harness: Harness, jane: Artist) -> None:
    a, b = await songs(harness, jane, 2)
    pid = (await created(jane, songs=[a]))["_id"]
    unknown = str(uuid.uuid4())
    response = await _add(jane, pid, {"songIds": [b, unknown]})
    body = assert_error(response, 404)
    assert body["errors"] == [{"field": "songIds", "message": f"No song {unknown}."}]
    assert await _stored(harness, pid) == [a]
    assert song_ids(await fetch(jane, one(pid))) == [a]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"songId": "not-an-id"},
        {"songIds": ["not-an-id"]},
        {"songIds": []},
        {"songIds": "[broken"},
        {"songId": 12},
        {"songId": None},
        {"songId": str(uuid.uuid4()), "songIds": [str(uuid.uuid4())]},
        {"songId": str(uuid.uuid4()), "position": 0},
        {"songIds": [str(uuid.uuid4())] * 501},
    ],
)
async def test_malformed_requests_are_400(harness: Harness, jane: Artist, body: Any) -> None:
    [a] = await songs(harness, jane, 1)
    pid = (await created(jane, songs=[a]))["_id"]
    assert_error(await _add(jane, pid, body), 400)
    assert await _stored(harness, pid) == [a]


async def test_add_takes_json_only(harness: Harness, jane: Artist) -> None:
    [a] = await songs(harness, jane, 1)
    pid = (await created(jane))["_id"]
    form = await jane.client.post(add_songs(pid), data={"songId": a}, headers=jane.auth)
    assert_error(form, 415)
    assert_error(await _add(jane, "not-an-id", {"songId": a}), 400)
    assert_error(await _add(jane, str(uuid.uuid4()), {"songId": a}), 404)
    assert await _stored(harness, pid) == []


async def test_a_playlist_holds_at_most_max_songs(
    harness: Harness, jane: Artist, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real bound is 500; three make the same point without uploading 500 songs.
    monkeypatch.setattr(service, "MAX_SONGS", 3)
    a, b, c, d = await songs(harness, jane, 4)
    pid = (await created(jane, songs=[a, b]))["_id"]
    body = assert_error(await _add(jane, pid, {"songIds": [c, d]}), 409)
    assert "at most 3" in body["message"]
    assert await _stored(harness, pid) == [a, b]
    # Songs already there do not count twice.
    assert (await _add(jane, pid, {"songIds": [a, c]})).status_code == 200
    assert await _stored(harness, pid) == [a, b, c]
    assert_error(await created_response(jane, [a, b, c, d]), 409)


async def created_response(who: Artist, ids: list[str]) -> Any:
    return await who.client.post(
        "/api/v1/playlist/", json={"playlist_name": "Full", "songs": ids}, headers=who.auth
    )


async def test_concurrent_adds_each_land_once(harness: Harness, jane: Artist) -> None:
    ids = await songs(harness, jane, 6)
    pid = (await created(jane))["_id"]
    responses = await asyncio.gather(*(_add(jane, pid, {"songIds": [i, ids[0]]}) for i in ids))
    assert [r.status_code for r in responses] == [200] * 6
    stored = await _stored(harness, pid)
    assert sorted(stored) == sorted(ids)
    positions = await harness.sql(
        "SELECT count(DISTINCT position) FROM playlist_songs WHERE playlist_id = :p",
        p=_db_id(harness, pid),
    )
    assert positions == [(6,)]


async def test_remove_is_idempotent(harness: Harness, jane: Artist) -> None:
    a, b, c = await songs(harness, jane, 3)
    pid = (await created(jane, songs=[a, b, c]))["_id"]
    response = await jane.client.delete(remove_song(pid, b), headers=jane.auth)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Song removed from playlist."
    assert song_ids(response.json()["data"]) == [a, c]
    for song in (b, str(uuid.uuid4())):
        again = await jane.client.delete(remove_song(pid, song), headers=jane.auth)
        assert again.status_code == 200 and song_ids(again.json()["data"]) == [a, c]
    assert_error(await jane.client.delete(remove_song(pid, "nope"), headers=jane.auth), 400)
    assert_error(await jane.client.delete(remove_song("nope", a), headers=jane.auth), 400)
    unknown = remove_song(str(uuid.uuid4()), a)
    assert_error(await jane.client.delete(unknown, headers=jane.auth), 404)
    # Added again, a removed song goes to the end.
    readded = await _add(jane, pid, {"songId": b})
    assert song_ids(readded.json()["data"]) == [a, c, b]


async def test_a_deleted_song_leaves_every_playlist(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    keep, gone = await songs(harness, jane, 2)
    mine = (await created(jane, songs=[gone, keep]))["_id"]
    theirs = (await created(mallory, songs=[keep, gone], isPublic=False))["_id"]
    deleted = await jane.client.request(
        "DELETE", f"{SONGS}/delete", json={"songId": gone}, headers=jane.auth
    )
    assert deleted.status_code == 200, deleted.text
    for who, pid in ((jane, mine), (mallory, theirs)):
        playlist = await fetch(who, one(pid))
        assert song_ids(playlist) == [keep] and playlist["songCount"] == 1
        assert await _stored(harness, pid) == [keep]
    [listed] = (await fetch(mallory, "/api/v1/playlist/get"))["docs"]
    assert listed["songs"] == [keep] and listed["songCount"] == 1


async def test_a_playlist_page_walks_its_songs(harness: Harness, jane: Artist) -> None:
    ids = await songs(harness, jane, 5)
    pid = (await created(jane, songs=ids))["_id"]
    whole = await fetch(jane, one(pid))
    assert song_ids(whole) == ids and whole["songsPage"] == {
        "page": 1,
        "limit": 100,
        "totalDocs": 5,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPrevPage": False,
        "nextCursor": None,
    }
    # Each song as the catalogue shows it.
    alone = await fetch(jane, f"{SONGS}/{ids[0]}")
    assert whole["songs"][0].keys() == alone.keys()
    assert {k: whole["songs"][0][k] for k in ("title", "owner", "duration", "thumbnail")} == {
        k: alone[k] for k in ("title", "owner", "duration", "thumbnail")
    }
    first = await fetch(jane, one(pid), limit=2)
    assert song_ids(first) == ids[:2] and first["songsPage"]["hasNextPage"] is True
    second = await fetch(jane, one(pid), limit=2, page=2)
    assert song_ids(second) == ids[2:4] and second["songsPage"]["hasPrevPage"] is True
    walked: list[str] = []
    cursor = None
    while True:
        page = await fetch(jane, one(pid), limit=2, **({"cursor": cursor} if cursor else {}))
        walked += song_ids(page)
        cursor = page["songsPage"]["nextCursor"]
        if cursor is None:
            break
    assert walked == ids
    beyond = await fetch(jane, one(pid), limit=2, page=9)
    assert beyond["songs"] == [] and beyond["songCount"] == 5
    clamped = await fetch(jane, one(pid), limit=1000)
    assert clamped["songsPage"]["limit"] == 100
    for params in ({"cursor": "!!"}, {"cursor": "AAAA"}, {"page": 0}, {"limit": 0}):
        response = await jane.client.get(one(pid), params=params, headers=jane.auth)
        assert_error(response, 400)
        assert error_fields(response) <= {"cursor", "page", "limit"}
