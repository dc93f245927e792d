"""The lists through the real client: every ``getAlbumList2`` type in its order (and the
older ``getAlbumList``), paging, ``getRandomSongs``, ``getSongsByGenre``, ``getStarred``
and ``getStarred2``. Plays, likes and ratings are made as the REST API makes them (or,
for ratings, as ``setRating`` stores them), and whatever the REST API hides (a banned
artist, a taken-down song, a release with nothing left to hear) is in no list, even when
it was played, liked and rated before it was hidden. Every answer's XML is valid against
the schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bandstand.db import transaction
from bandstand.engagement.counters.flush import flush_counters
from bandstand.kit.time import utcnow
from bandstand.models import SongRating
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
    raw,
    set_column,
    xml,
)

TYPES = (
    "random",
    "newest",
    "highest",
    "frequent",
    "recent",
    "alphabeticalByName",
    "alphabeticalByArtist",
    "starred",
    "byYear",
    "byGenre",
)


@dataclass
class Scene:
    harness: Harness
    ava: Listener  # Night Drive (2024), Beta Tapes (2019), the single Loner (2021)
    cal: Listener  # Zebra (this year), the single Kept (2020)
    fan: Listener  # played, liked and rated
    gus: Listener  # played and rated
    albums: dict[str, str]  # what an app sees: name -> album id
    songs: dict[str, str]  # title -> song id
    hidden_albums: set[str]
    hidden_songs: set[str]


async def _play(who: Listener, song: str) -> None:
    response = await who.who.client.post(f"{SONGS}/{song}", headers=who.who.auth)
    assert response.status_code == 200, response.text


async def _like(who: Listener, song: str) -> None:
    response = await who.who.client.post(f"{SONGS}/{song}/like", headers=who.who.auth)
    assert response.status_code == 200, response.text


async def _rate(harness: Harness, who: Listener, song: str, rating: int) -> None:
    """A rating as ``setRating`` keeps it (that method has tests of its own)."""
    async with transaction(harness.app.state.runtime.sessionmaker) as session:
        session.add(
            SongRating(
                user_id=uuid.UUID(who.id),
                song_id=uuid.UUID(song),
                rating=rating,
                updated_at=utcnow(),
            )
        )


def _on(year: int, month: int = 6) -> datetime:
    return datetime(year, month, 1, 12, tzinfo=UTC)


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    cal = await listener(harness, "cal", "Cal Zed")
    bea = await listener(harness, "bea", "Bea Banned")
    fan = await listener(harness, "fan", "Fan Club")
    gus = await listener(harness, "gus", "Gus Ear")
    songs: dict[str, str] = {}

    async def song(owner: Listener, title: str, **fields: Any) -> str:
        songs[title] = await a_song(harness, owner.id, title, **fields)
        return songs[title]

    # Made in this order: the newest album is the last made.
    night = await a_release(harness, ava.id, "Night Drive", year=2024)
    await song(ava, "First", release=night, track=1, genre="Synthwave")
    await song(ava, "Second", release=night, track=2, genre="Synthwave")
    await song(ava, "Hidden", release=night, track=3, genre="Synthwave")
    tapes = await a_release(harness, ava.id, "beta Tapes", kind="ep", year=2019)
    await song(ava, "Tape", release=tapes, track=1, genre="Lo-fi")
    await song(ava, "Loner", genre="Ambient", created=_on(2021))
    zebra = await a_release(harness, cal.id, "Zebra", year=None)
    await song(cal, "Zed song", release=zebra, track=1, genre="Synthwave")
    await song(cal, "Kept", genre="Jazz", created=_on(2020, 3))
    # Hidden: a release with no song, one whose only song is taken down, a taken-down
    # single, and a banned artist's release and single (played, liked and rated first).
    empty = await a_release(harness, ava.id, "Coming soon", kind="ep")
    pulled = await a_release(harness, ava.id, "Pulled", year=2020)
    await song(ava, "Taken", release=pulled, track=1, genre="Synthwave")
    await song(ava, "Gone", genre="Synthwave", created=_on(2020))
    banned_lp = await a_release(harness, bea.id, "Banned LP", year=2020)
    await song(bea, "Banned LP song", release=banned_lp, track=1, genre="Synthwave")
    await song(bea, "Banned tune", genre="Synthwave", created=_on(2020))

    # Plays: Second twice (fan, gus), Tape once; the fan's latest is Second. The banned
    # songs are played too, before the ban.
    await _play(fan, songs["Banned tune"])
    await _play(fan, songs["Tape"])
    await _play(fan, songs["Second"])
    await _play(gus, songs["Second"])
    await _play(gus, songs["Banned LP song"])
    # Likes: the fan's latest is Zed song.
    await _like(fan, songs["Banned tune"])
    await _like(fan, songs["Loner"])
    await _like(fan, songs["Zed song"])
    # Ratings: Night Drive 5 and 3 (4 on average, two ratings), Zebra 4 (one), Tape 3;
    # the banned release 5.
    await _rate(harness, fan, songs["First"], 5)
    await _rate(harness, gus, songs["Second"], 3)
    await _rate(harness, fan, songs["Zed song"], 4)
    await _rate(harness, fan, songs["Tape"], 3)
    await _rate(harness, fan, songs["Banned LP song"], 5)
    await _rate(harness, fan, songs["Hidden"], 1)
    report = await flush_counters(harness.app.state.runtime)
    assert not report.skipped

    for taken in ("Hidden", "Taken", "Gone"):
        await set_column(harness, "songs", "taken_down_at", songs[taken], True)
    await set_column(harness, "users", "banned_at", bea.id, True)
    return Scene(
        harness,
        ava,
        cal,
        fan,
        gus,
        albums={
            "Night Drive": f"al-{night}",
            "beta Tapes": f"al-{tapes}",
            "Loner": f"sg-{songs['Loner']}",
            "Zebra": f"al-{zebra}",
            "Kept": f"sg-{songs['Kept']}",
        },
        songs=songs,
        hidden_albums={
            f"al-{empty}",
            f"al-{pulled}",
            f"sg-{songs['Gone']}",
            f"al-{banned_lp}",
            f"sg-{songs['Banned tune']}",
        },
        hidden_songs={
            songs[title] for title in ("Hidden", "Taken", "Gone", "Banned LP song", "Banned tune")
        },
    )


async def _names(scene: Scene, kind: str, who: Listener | None = None, **query: Any) -> list[str]:
    """``getAlbumList2`` of ``kind`` as the fan (or ``who``) sees it: the albums' names,
    in order, each checked to be one that may be seen."""
    who = who or scene.fan
    answer = await json(scene.harness.client(), "getAlbumList2", type=kind, **query, **who.auth)
    assert answer["status"] == "ok", answer
    albums = answer["albumList2"].get("album", [])
    for album in albums:
        assert album["id"] not in scene.hidden_albums, (kind, album)
        assert scene.albums[album["name"]] == album["id"], album
    return [album["name"] for album in albums]


async def test_each_list_type_in_its_order(scene: Scene, site: str) -> None:
    this_year = utcnow().year
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        newest = await app.get_album_list2("newest")
        by_year = await app.get_album_list2("byYear", from_year=2019, to_year=2021)
    assert [a.name for a in newest] == ["Kept", "Zebra", "Loner", "beta Tapes", "Night Drive"]
    night = next(a for a in newest if a.name == "Night Drive")
    # The taken-down third track is not on it.
    assert night.song_count == 2 and night.artist == "Ava Lux" and night.year == 2024
    assert night.play_count == 2
    assert [a.name for a in by_year] == ["beta Tapes", "Kept", "Loner"]
    assert await _names(scene, "byYear", fromYear=2021, toYear=2019) == [
        "Loner",
        "Kept",
        "beta Tapes",
    ]
    assert await _names(scene, "byYear", fromYear=this_year, toYear=this_year) == ["Zebra"]
    assert await _names(scene, "alphabeticalByName") == [
        "beta Tapes",
        "Kept",
        "Loner",
        "Night Drive",
        "Zebra",
    ]
    assert await _names(scene, "alphabeticalByArtist") == [
        "beta Tapes",
        "Loner",
        "Night Drive",
        "Kept",
        "Zebra",
    ]
    assert await _names(scene, "byGenre", genre="Synthwave") == ["Night Drive", "Zebra"]
    assert await _names(scene, "byGenre", genre="Jazz") == ["Kept"]
    assert await _names(scene, "byGenre", genre="Noise") == []
    # Most played: Night Drive (two counted plays), then Beta Tapes (one).
    assert await _names(scene, "frequent") == ["Night Drive", "beta Tapes"]
    # The fan's plays, the latest first; Gus played only Night Drive.
    assert await _names(scene, "recent") == ["Night Drive", "beta Tapes"]
    assert await _names(scene, "recent", who=scene.gus) == ["Night Drive"]
    assert await _names(scene, "recent", who=scene.cal) == []
    # The fan's likes, the latest first.
    assert await _names(scene, "starred") == ["Zebra", "Loner"]
    assert await _names(scene, "starred", who=scene.gus) == []
    # Everyone's ratings: Night Drive 4 of two, Zebra 4 of one, Beta Tapes 3.
    assert await _names(scene, "highest") == ["Night Drive", "Zebra", "beta Tapes"]
    assert await _names(scene, "highest", who=scene.cal) == [
        "Night Drive",
        "Zebra",
        "beta Tapes",
    ]
    shuffled = await _names(scene, "random", size=500)
    assert sorted(shuffled) == sorted(scene.albums)


async def test_type_names_in_any_case(scene: Scene) -> None:
    assert await _names(scene, "NEWEST", size=1) == ["Kept"]
    assert await _names(scene, "alphabeticalbyname", size=1) == ["beta Tapes"]


async def test_paging_goes_through_each_list_once(scene: Scene) -> None:
    for kind in ("newest", "alphabeticalByName", "alphabeticalByArtist", "highest"):
        whole = await _names(scene, kind, size=500)
        pages = [await _names(scene, kind, size=2, offset=start) for start in (0, 2, 4, 6)]
        assert [name for page in pages for name in page] == whole, kind
        assert [len(page) for page in pages] == [2, 2, 1, 0] or kind == "highest"
    assert await _names(scene, "newest") == await _names(scene, "newest", size=10)
    assert await _names(scene, "newest", size=0) == []
    assert await _names(scene, "newest", offset=100) == []
    # Another music folder holds nothing.
    assert await _names(scene, "newest", musicFolderId=2) == []


async def test_the_older_album_list_shows_folders(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        # (py-opensonic's own get_album_list reads its entries as AlbumID3; they are
        # folder ``Child``s, as the API documents, so the answer is read raw.)
        answer = await raw(app, "getAlbumList", type="newest", size=2)
    albums = answer["albumList"]["album"]
    assert [a["title"] for a in albums] == ["Kept", "Zebra"]
    assert all(a["isDir"] is True for a in albums)
    assert albums[0]["id"] == scene.albums["Kept"]
    assert albums[1]["parent"] == f"ar-{scene.cal.id}"


async def test_owner_sees_their_own_taken_down_release(scene: Scene) -> None:
    """As everywhere: a song taken down is gone for all but its owner."""
    client = scene.harness.client()
    answer = await json(client, "getAlbumList2", type="alphabeticalByName", **scene.ava.auth)
    names = [album["name"] for album in answer["albumList2"]["album"]]
    assert "Pulled" in names and "Gone" in names
    assert "Coming soon" not in names and "Banned LP" not in names


async def test_random_songs(scene: Scene, site: str) -> None:
    fan = scene.fan
    visible = {"First", "Second", "Tape", "Loner", "Zed song", "Kept"}
    async with connected(site, fan.username, fan.secret) as app:
        every = await app.get_random_songs(size=500)
        synthwave = await app.get_random_songs(size=500, genre="Synthwave")
        years = await app.get_random_songs(size=500, from_year=2019, to_year=2021)
        backwards = await app.get_random_songs(size=500, from_year=2021, to_year=2019)
        since = await app.get_random_songs(size=500, from_year=2024)
        few = await app.get_random_songs(size=2)
        default = await app.get_random_songs()
    assert sorted(s.title for s in every) == sorted(visible)
    assert {s.title for s in synthwave} == {"First", "Second", "Zed song"}
    # A song's year is its release's (Tape: 2019), else the year it was put up.
    assert {s.title for s in years} == {"Tape", "Kept", "Loner"}
    assert {s.title for s in backwards} == {"Tape", "Kept", "Loner"}
    assert {s.title for s in since} == {"First", "Second", "Zed song"}
    assert len(few) == 2 and {s.title for s in few} <= visible
    assert len(default) == 6
    assert not {s.id for s in every} & scene.hidden_songs


async def test_newest_is_made_once_for_everyone_but_an_artist_with_a_song_taken_down(
    scene: Scene,
) -> None:
    """The newest albums are one answer for every caller (kept a moment, as apps open on
    them); an artist with a song taken down is given her own, where it still is."""
    everyone = await _names(scene, "newest")
    assert await _names(scene, "newest", who=scene.gus) == everyone
    answer = await json(scene.harness.client(), "getAlbumList2", type="newest", **scene.ava.auth)
    albums = {album["name"]: album for album in answer["albumList2"]["album"]}
    assert {"Pulled", "Gone"} <= set(albums) and "Pulled" not in everyone
    assert albums["Night Drive"]["songCount"] == 3
    assert not {"Banned LP", "Banned tune", "Coming soon"} & set(albums)
    # And the others are still not given hers.
    assert await _names(scene, "newest", who=scene.cal) == everyone


async def test_songs_by_genre(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        synthwave = await app.get_songs_by_genre("Synthwave")
        paged = await app.get_songs_by_genre("Synthwave", count=2, offset=1)
        nothing = await app.get_songs_by_genre("Polka")
    # The newest first; the hidden Synthwave songs are not there.
    assert [s.title for s in synthwave] == ["Zed song", "Second", "First"]
    assert [s.title for s in paged] == ["Second", "First"]
    assert nothing == []
    second = next(s for s in synthwave if s.title == "Second")
    assert second.play_count == 2 and second.album_id == scene.albums["Night Drive"]


async def test_starred_songs_are_likes(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        starred = await app.get_starred()
        starred2 = await app.get_starred2()
    for answer in (starred, starred2):
        # The latest like first; the banned artist's liked song is not there.
        assert [s.title for s in answer.song or []] == ["Zed song", "Loner"]
        assert all(s.starred for s in answer.song or [])
        assert not answer.album and not answer.artist
    # Liked through the REST API, seen here: and the other way round.
    await _like(fan, scene.songs["Kept"])
    client = scene.harness.client()
    answer = await json(client, "getStarred2", **fan.auth)
    assert [s["title"] for s in answer["starred2"]["song"]] == ["Kept", "Zed song", "Loner"]
    liked = await fan.who.client.get(f"{SONGS}/likedSongs", headers=fan.who.auth)
    assert [s["title"] for s in liked.json()["data"]["docs"]] == ["Kept", "Zed song", "Loner"]


async def test_bad_parameters(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    code, message = error_of(await json(client, "getAlbumList2", type="best", **auth))
    assert code == 0 and "'type'" in message and "alphabeticalByArtist" in message
    assert error_of(await json(client, "getAlbumList", type="", **auth))[0] == 10
    assert error_of(await json(client, "getAlbumList2", **auth))[0] == 10
    for method, params in (
        ("getAlbumList2", {"type": "newest", "size": "-1"}),
        ("getAlbumList2", {"type": "newest", "size": "501"}),
        ("getAlbumList2", {"type": "newest", "size": "ten"}),
        ("getAlbumList2", {"type": "newest", "size": "1.5"}),
        ("getAlbumList2", {"type": "newest", "offset": "-5"}),
        ("getAlbumList2", {"type": "newest", "offset": "9" * 30}),
        ("getAlbumList2", {"type": "byYear", "fromYear": "x", "toYear": "2000"}),
        ("getAlbumList2", {"type": "byGenre", "genre": "a" * 101}),
        ("getAlbumList2", {"type": "byGenre", "genre": "Jazz\x00"}),
        ("getAlbumList2", {"type": "newest", "musicFolderId": "one"}),
        ("getRandomSongs", {"size": "-3"}),
        ("getRandomSongs", {"fromYear": "1999.5"}),
        ("getSongsByGenre", {"genre": "Jazz", "count": "-1"}),
        ("getSongsByGenre", {"genre": "Jazz", "count": "1000"}),
        ("getSongsByGenre", {"genre": "Jazz", "offset": "many"}),
    ):
        code, message = error_of(await json(client, method, **params, **auth))
        assert code == 0 and "Invalid value for parameter" in message, (method, params, message)
    for method, params in (
        ("getAlbumList2", {"type": "byYear", "fromYear": "2000"}),
        ("getAlbumList2", {"type": "byYear", "toYear": "2000"}),
        ("getAlbumList2", {"type": "byGenre"}),
        ("getSongsByGenre", {}),
    ):
        code, message = error_of(await json(client, method, **params, **auth))
        assert code == 10, (method, params, message)


async def test_every_answer_is_valid_xml(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    extra: dict[str, dict[str, Any]] = {
        "byYear": {"fromYear": 2019, "toYear": 2024},
        "byGenre": {"genre": "Synthwave"},
    }
    for kind in TYPES:
        for method in ("getAlbumList", "getAlbumList2"):
            root = await xml(client, method, type=kind, size=500, **extra.get(kind, {}), **auth)
            assert root.get("status") == "ok", (method, kind)
            listed = root.find(f"{NS}{method[3].lower()}{method[4:]}")
            assert listed is not None, (method, kind)
            ids = {album.get("id") for album in listed}
            assert not ids & scene.hidden_albums, (method, kind)
    for method, params in (
        ("getRandomSongs", {"size": 500}),
        ("getSongsByGenre", {"genre": "Synthwave"}),
        ("getStarred", {}),
        ("getStarred2", {}),
    ):
        root = await xml(client, method, **params, **auth)
        assert root.get("status") == "ok", method
        songs = root.findall(f".//{NS}song")
        assert songs and not {s.get("id") for s in songs} & scene.hidden_songs, method
    root = await xml(client, "getAlbumList2", type="best", **auth)
    assert root.get("status") == "failed"
