"""Listening history: each song once at its latest play, newest first, 30 days, 500 songs."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Harness
from tests.engagement.support import HISTORY, SONGS, a_song, listeners
from tests.songs.support import Artist, artist, assert_error


async def _history(fan: Artist, query: str = "", method: str = "GET") -> dict[str, Any]:
    response = await fan.client.request(method, f"{HISTORY}{query}", headers=fan.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _titles(page: dict[str, Any]) -> list[str]:
    return [entry["song"]["title"] for entry in page["docs"]]


async def test_each_song_once_at_its_latest_play_newest_first(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fan, other = await listeners(harness, 2)
    one, two, three = [await a_song(harness, owner, t) for t in ("one", "two", "three")]
    for song in (one, two, three, one):
        await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)

    for method in ("GET", "POST"):
        page = await _history(fan, method=method)
        assert _titles(page) == ["one", "three", "two"]
        assert page["totalDocs"] == 3
    entry = page["docs"][0]
    assert set(entry) == {"song", "watchedAt"}
    assert entry["song"]["owner"]["username"] == "owner"
    assert "email" not in entry["song"]["owner"]
    assert (await _history(other))["docs"] == []  # nobody sees another's history


async def test_pages_by_number_and_by_cursor(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    titles = [f"song {n}" for n in range(5)]
    for title in titles:
        song = await a_song(harness, owner, title)
        await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    newest_first = titles[::-1]

    first = await _history(fan, "?limit=2")
    assert _titles(first) == newest_first[:2] and first["hasNextPage"] is True
    assert first["totalDocs"] == 5 and first["totalPages"] == 3
    assert _titles(await _history(fan, "?limit=2&page=3")) == newest_first[4:]
    walked: list[str] = []
    cursor = None
    while True:
        page = await _history(fan, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        walked += _titles(page)
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert walked == newest_first
    assert_error(await fan.client.get(f"{HISTORY}?cursor=nonsense!", headers=fan.auth), 400)


async def test_at_most_the_newest_n_songs_are_kept(make_harness: Any) -> None:
    harness = await make_harness(history_max=3)
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    for n in range(5):
        song = await a_song(harness, owner, f"song {n}")
        await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    page = await _history(fan)
    assert _titles(page) == ["song 4", "song 3", "song 2"]
    assert page["totalDocs"] == 3
    rows = await harness.sql("SELECT count(*) FROM watch_history")
    assert rows[0][0] == 3


async def test_plays_older_than_thirty_days_are_gone(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (fan,) = await listeners(harness, 1)
    old, recent = [await a_song(harness, owner, t) for t in ("old", "recent")]
    for song in (old, recent):
        await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    old_id = uuid.UUID(old["_id"])
    await harness.sql(
        "UPDATE watch_history SET watched_at = :at WHERE song_id = :id",
        at="2020-01-01 00:00:00" if harness.settings.is_embedded_database else _dt(),
        id=old_id.hex if harness.settings.is_embedded_database else old_id,
    )
    assert _titles(await _history(fan)) == ["recent"]

    from bandstand.engagement.service import prune_history

    rt = harness.app.state.runtime
    assert await prune_history(rt.sessionmaker, rt.settings.history_days) == 1
    assert (await harness.sql("SELECT count(*) FROM watch_history"))[0][0] == 1


def _dt() -> Any:
    from datetime import UTC, datetime

    return datetime(2020, 1, 1, tzinfo=UTC)


async def test_a_deleted_song_leaves_every_history(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 2)
    gone, kept = [await a_song(harness, owner, t) for t in ("gone", "kept")]
    for fan in fans:
        for song in (gone, kept):
            await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    deleted = await owner.client.request(
        "DELETE", f"{SONGS}/delete", json={"songId": gone["_id"]}, headers=owner.auth
    )
    assert deleted.status_code == 200, deleted.text
    for fan in fans:
        assert _titles(await _history(fan)) == ["kept"]


async def test_history_needs_a_login_and_sane_paging(harness: Harness) -> None:
    (fan,) = await listeners(harness, 1)
    assert_error(await fan.client.get(HISTORY), 401)
    assert_error(await fan.client.get(f"{HISTORY}?page=0", headers=fan.auth), 400)
    assert_error(await fan.client.get(f"{HISTORY}?limit=abc", headers=fan.auth), 400)
    page = await _history(fan, "?limit=500")
    assert page["limit"] == 100
