"""``search2`` and ``search3`` through the real client: a query finds what Bandstand's
search finds (songs, artists, releases by title), and nothing the REST API hides; an
empty query lists the whole library, a page at a time, each thing exactly once, as apps
sync it. Every answer's XML is valid against the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Harness
from tests.songs.support import SONGS
from tests.subsonic.support import (
    NS,
    Listener,
    a_release,
    a_song,
    connected,
    error_of,
    json,
    listener,
    set_column,
    xml,
)


@dataclass
class Scene:
    harness: Harness
    ava: Listener
    cal: Listener
    bea: Listener  # banned
    fan: Listener  # no songs: a listener, not an artist
    songs: dict[str, str]  # title -> id, what may be heard
    albums: dict[str, str]  # name -> album id, what may be heard
    hidden_songs: set[str]
    hidden_albums: set[str]


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    cal = await listener(harness, "cal", "Cal Zed")
    bea = await listener(harness, "bea", "Bea Nightly")
    fan = await listener(harness, "avalon", "Avalon Fan")
    songs: dict[str, str] = {}
    albums: dict[str, str] = {}

    async def song(owner: Listener, title: str, **fields: Any) -> str:
        songs[title] = await a_song(harness, owner.id, title, **fields)
        return songs[title]

    async def release(owner: Listener, title: str) -> str:
        ident = await a_release(harness, owner.id, title)
        albums[title] = f"al-{ident}"
        return ident

    night = await release(ava, "Night Drive")
    await song(ava, "First light", release=night, track=1, genre="Synthwave")
    await song(ava, "Second wind", release=night, track=2, genre="Synthwave")
    await song(ava, "Night shift", genre="Ambient")
    albums["Night shift"] = f"sg-{songs['Night shift']}"
    city = await release(cal, "Drive Time")
    await song(cal, "Road song", release=city, track=1, genre="Rock")
    await song(cal, "Kept", genre="Jazz")
    albums["Kept"] = f"sg-{songs['Kept']}"
    # Hidden: a banned artist's single and release, a taken-down single, a release whose
    # only song is taken down, a release with no song.
    banned_lp = await a_release(harness, bea.id, "Night Banned LP")
    banned_lp_song = await a_song(harness, bea.id, "Night banned track", release=banned_lp)
    banned_single = await a_song(harness, bea.id, "Night banned")
    taken = await a_song(harness, ava.id, "Night taken")
    pulled = await a_release(harness, ava.id, "Night Pulled")
    pulled_song = await a_song(harness, ava.id, "Pulled night", release=pulled, track=1)
    empty = await a_release(harness, cal.id, "Night Empty")
    for ident in (taken, pulled_song):
        await set_column(harness, "songs", "taken_down_at", ident, True)
    await set_column(harness, "users", "banned_at", bea.id, True)
    return Scene(
        harness,
        ava,
        cal,
        bea,
        fan,
        songs,
        albums,
        hidden_songs={banned_lp_song, banned_single, taken, pulled_song},
        hidden_albums={
            f"al-{banned_lp}",
            f"sg-{banned_single}",
            f"sg-{taken}",
            f"al-{pulled}",
            f"al-{empty}",
        },
    )


async def _search3(scene: Scene, who: Listener | None = None, **query: Any) -> dict[str, Any]:
    who = who or scene.fan
    answer = await json(scene.harness.client(), "search3", **query, **who.auth)
    assert answer["status"] == "ok", answer
    found: dict[str, Any] = answer["searchResult3"]
    for song in found.get("song", []):
        assert song["id"] not in scene.hidden_songs, song
    for album in found.get("album", []):
        assert album["id"] not in scene.hidden_albums, album
    for artist in found.get("artist", []):
        assert artist["id"] != f"ar-{scene.bea.id}", artist
    return found


async def test_a_query_finds_what_search_finds(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        night = await app.search3("night")
        ava = await app.search3("ava lux")
        drive = await app.search2("drive")
    titles = {s.title for s in night.song or []}
    # Every song heard with "night" in its title; none of those hidden.
    assert {"Night shift"} <= titles
    assert not {s.id for s in night.song or []} & scene.hidden_songs
    # Albums are releases, by title: not the banned artist's, not one with nothing left.
    assert [a.id for a in night.album or []] == [scene.albums["Night Drive"]]
    night_drive = (night.album or [])[0]
    assert night_drive.song_count == 2 and night_drive.artist == "Ava Lux"
    # Bea Nightly is banned: no artist, even by her name.
    assert not night.artist
    # Artists are people with a song to hear: not the listener "Avalon Fan".
    assert [a.name for a in ava.artist or []] == ["Ava Lux"]
    ava_lux = (ava.artist or [])[0]
    assert ava_lux.id == f"ar-{scene.ava.id}" and ava_lux.album_count == 2
    # An uploader's name finds their songs, as on the REST API.
    assert {s.title for s in ava.song or []} == {"First light", "Second wind", "Night shift"}
    # search2: albums as folders.
    assert {a.id for a in drive.album or []} == {
        scene.albums["Night Drive"],
        scene.albums["Drive Time"],
    }
    assert all(a.is_dir for a in drive.album or [])


async def test_the_same_songs_as_the_rest_search(scene: Scene) -> None:
    fan = scene.fan
    for query in ("night", "song", "synthwave", "Ni", "cal zed"):
        rest = await fan.who.client.get(
            f"{SONGS}/search", params={"q": query, "limit": 100}, headers=fan.who.auth
        )
        assert rest.status_code == 200, rest.text
        expected = [doc["_id"] for doc in rest.json()["data"]["songs"]["docs"]]
        found = await _search3(scene, query=query, songCount=100)
        assert [s["id"] for s in found.get("song", [])] == expected, query


async def test_paging_a_query(scene: Scene) -> None:
    whole = await _search3(scene, query="ava lux", songCount=10)
    ids = [s["id"] for s in whole["song"]]
    assert len(ids) == 3
    paged = [
        s["id"]
        for start in (0, 2, 4)
        for s in (await _search3(scene, query="ava lux", songCount=2, songOffset=start)).get(
            "song", []
        )
    ]
    assert paged == ids
    found = await _search3(scene, query="drive", albumCount=1, albumOffset=1, artistCount=0)
    assert len(found["album"]) == 1 and found.get("artist", []) == []
    nothing = await _search3(scene, query="night", songCount=0, albumCount=0, artistCount=0)
    assert not nothing.get("song") and not nothing.get("album") and not nothing.get("artist")


async def _sync(scene: Scene, kind: str, count: int, query: str = "") -> list[str]:
    """Every ``kind`` through ``search3`` with an empty query, ``count`` at a time, as an
    app copies a library: until a page comes back short."""
    counts = {"songCount": 0, "albumCount": 0, "artistCount": 0, f"{kind}Count": count}
    ids: list[str] = []
    start = 0
    while True:
        found = await _search3(scene, query=query, **counts, **{f"{kind}Offset": start})
        page = [item["id"] for item in found.get(kind, [])]
        ids += page
        start += count
        if len(page) < count:
            return ids


async def test_an_empty_query_lists_everything_once(scene: Scene, site: str) -> None:
    songs = await _sync(scene, "song", 2)
    assert sorted(songs) == sorted(scene.songs.values())
    assert songs == sorted(songs)  # by id: time-ordered, so a later song comes later
    # Some apps send the empty string in quotes; some send no query at all.
    assert await _sync(scene, "song", 4, query='""') == songs
    assert await _sync(scene, "song", 500) == songs
    albums = await _sync(scene, "album", 2)
    assert sorted(albums) == sorted(scene.albums.values())
    artists = await _sync(scene, "artist", 1)
    assert sorted(artists) == sorted([f"ar-{scene.ava.id}", f"ar-{scene.cal.id}"])
    everything = await json(scene.harness.client(), "search3", **scene.fan.auth)
    assert len(everything["searchResult3"]["song"]) == len(songs)
    # Through the real client, in one call each.
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        whole = await app.search3("", song_count=500, album_count=500, artist_count=500)
        folders = await app.search2('""', song_count=500)
    assert [s.id for s in whole.song or []] == songs
    assert [a.id for a in whole.album or []] == albums
    assert [a.id for a in whole.artist or []] == artists
    assert [s.id for s in folders.song or []] == songs
    # A song added while an app syncs comes last: the pages it already read do not move.
    later = await a_song(scene.harness, scene.cal.id, "Late")
    assert await _sync(scene, "song", 2) == [*songs, later]


async def test_a_sync_neither_skips_nor_repeats_when_songs_go(scene: Scene) -> None:
    """Each page of a sync follows the page before it: a song taken down behind the app
    does not make the next page skip one (as counting by offset alone would)."""
    everything = await _sync(scene, "song", 100)
    pages = {"songCount": 2, "albumCount": 0, "artistCount": 0}
    first = await _search3(scene, query="", songOffset=0, **pages)
    seen = [s["id"] for s in first["song"]]
    await set_column(scene.harness, "songs", "taken_down_at", seen[0], True)
    start = 2
    while True:
        page = [
            s["id"] for s in (await _search3(scene, query="", songOffset=start, **pages))["song"]
        ]
        seen += page
        start += 2
        if len(page) < 2:
            break
    assert seen == everything


async def test_a_page_asked_for_out_of_order_is_read_by_its_offset(scene: Scene) -> None:
    """The first page an app asks for, wherever it starts, is the offset's."""
    everything = await _sync(scene, "song", 100)
    for start in (5, 1, 3):
        found = await _search3(scene, who=scene.cal, query="", songCount=2, songOffset=start)
        assert [s["id"] for s in found["song"]] == everything[start : start + 2]
    albums = await _sync(scene, "album", 100)
    found = await _search3(scene, who=scene.cal, query="", albumCount=2, albumOffset=3)
    assert [a["id"] for a in found["album"]] == albums[3:5]


async def test_another_music_folder_holds_nothing(scene: Scene) -> None:
    found = await _search3(scene, query="", musicFolderId=2)
    assert not found.get("song") and not found.get("album") and not found.get("artist")


async def test_the_owner_does_not_find_their_hidden_songs(scene: Scene) -> None:
    """As on the REST API, search finds only what everyone may see."""
    found = await _search3(scene, who=scene.ava, query="night taken")
    assert not {s["title"] for s in found.get("song", [])} & {"Night taken", "Pulled night"}


async def test_bad_parameters(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    for method in ("search2", "search3"):
        for params in (
            {"query": "x", "songCount": "-1"},
            {"query": "x", "albumCount": "ten"},
            {"query": "x", "artistOffset": "-2"},
            {"query": "", "songOffset": "1e3"},
            {"query": "", "songCount": "5001"},
            {"query": "a" * 101},
            {"query": "night\x07"},
            {"query": "x", "musicFolderId": "music"},
        ):
            code, message = error_of(await json(client, method, **params, **auth))
            assert code == 0 and "Invalid value for parameter" in message, (method, params)


async def test_every_answer_is_valid_xml(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    for method in ("search2", "search3"):
        for query in ("night", "", "Ni", "drive", "zzzzzz"):
            root = await xml(client, method, query=query, **auth)
            assert root.get("status") == "ok", (method, query)
            found = root.find(f"{NS}searchResult{method[-1]}")
            assert found is not None
            ids = {item.get("id") for item in found}
            assert not ids & (scene.hidden_songs | scene.hidden_albums), (method, query)
            assert f"ar-{scene.bea.id}" not in ids
        everything = await xml(client, method, query="", songCount=500, **auth)
        assert len(everything.findall(f".//{NS}song")) == len(scene.songs)
