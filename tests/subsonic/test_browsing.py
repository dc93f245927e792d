"""Browsing through the real client: artists are accounts, albums are releases (or a
single of a song on none), songs show what the REST API shows (its plays, the caller's
likes), and whatever the REST API hides (a banned artist, a taken-down song, a release
with nothing left to hear) is not there. Every answer's XML is valid against the schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from bandstand.subsonic import mapping
from bandstand.subsonic import repository as repo
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import SONGS, uploaded
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
    xml_error,
)


@dataclass
class Scene:
    harness: Harness
    ava: Listener  # an artist: a release of two songs, a single, an empty release
    fan: Listener  # a listener who played and liked one of Ava's songs
    release: str
    first: str  # track 1 of the release
    second: str  # track 2
    single: str
    empty: str  # a release with no song
    pulled: str  # a release whose only song is taken down
    taken: str  # that song
    bea: Listener  # a banned artist
    banned_song: str
    cal: Listener  # an artist with one song
    kept: str


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    bea = await listener(harness, "bea", "Bea Banned")
    cal = await listener(harness, "cal", "The Cal")
    release = await a_release(harness, ava.id, "Night Drive", year=2024)
    second = await a_song(
        harness,
        ava.id,
        "Second",
        release=release,
        track=2,
        genre="Synthwave",
        gain=-3.25,
        peak=-1.5,
        bitrate=256_000,
        duration=200.4,
    )
    first = await a_song(
        harness,
        ava.id,
        "First",
        release=release,
        track=1,
        genre="Synthwave",
        fmt="flac",
        duration=100.6,
    )
    single = await a_song(
        harness, ava.id, "Loner/Alone", genre="Ambient", tag_artist="Ava & Friends"
    )
    empty = await a_release(harness, ava.id, "Coming soon", kind="ep")
    pulled = await a_release(harness, ava.id, "Pulled")
    taken = await a_song(harness, ava.id, "Taken", release=pulled, track=1, genre="Noise")
    await set_column(harness, "songs", "taken_down_at", taken, True)
    banned_song = await a_song(harness, bea.id, "Banned tune", genre="Synthwave")
    await set_column(harness, "users", "banned_at", bea.id, True)
    kept = await a_song(harness, cal.id, "Kept")
    # The fan plays and likes Second through the REST API: a pending view and a like.
    played = await fan.who.client.post(f"{SONGS}/{second}", headers=fan.who.auth)
    assert played.status_code == 200, played.text
    liked = await fan.who.client.post(f"{SONGS}/{second}/like", headers=fan.who.auth)
    assert liked.status_code == 200, liked.text
    return Scene(
        harness,
        ava,
        fan,
        release,
        first,
        second,
        single,
        empty,
        pulled,
        taken,
        bea,
        banned_song,
        cal,
        kept,
    )


async def _rest_song(scene: Scene, song_id: str) -> dict[str, Any]:
    fan = scene.fan.who
    response = await fan.client.get(f"{SONGS}/{song_id}", headers=fan.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_get_song_shows_what_the_rest_api_shows(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        song = await app.get_song(scene.second)
    rest = await _rest_song(scene, scene.second)
    assert song.id == scene.second and song.is_dir is False
    assert song.title == "Second" and song.track == 2 and song.year == 2024
    assert song.album == "Night Drive" and song.album_id == f"al-{scene.release}"
    assert song.parent == song.album_id
    assert song.artist == "Ava Lux" and song.artist_id == f"ar-{scene.ava.id}"
    assert song.genre == "Synthwave" and [g.name for g in song.genres or []] == ["Synthwave"]
    assert song.duration == 200 and song.bit_rate == 256
    assert song.suffix == "mp3" and song.content_type == "audio/mpeg"
    assert song.size == 7_000_000 and song.sampling_rate == 44_100 and song.channel_count == 2
    assert song.path == "Ava Lux/Night Drive/Second.mp3"
    assert song.type == "music" and song.media_type == "song"
    assert song.cover_art and song.cover_art.startswith(f"{scene.second}_")
    # The one reader's numbers: the fan's play is still pending, and counted.
    assert rest["views"] == 1 and song.play_count == 1
    assert song.starred is not None and song.starred.endswith("Z")
    assert song.replay_gain is not None
    assert song.replay_gain.track_gain == -3.25
    assert song.replay_gain.track_peak == pytest.approx(10 ** (-1.5 / 20), abs=1e-6)
    assert [(a.id, a.name) for a in song.artists or []] == [(f"ar-{scene.ava.id}", "Ava Lux")]


async def test_a_song_on_no_release_is_its_own_single(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        song = await app.get_song(scene.single)
        album = await app.get_album(f"sg-{scene.single}")
    assert song.album == "Loner/Alone" and song.album_id == f"sg-{scene.single}"
    assert song.track == 1 and song.starred is None and song.play_count == 0
    assert song.display_artist == "Ava & Friends" and song.artist == "Ava Lux"
    assert song.path == "Ava Lux/Loner_Alone/Loner_Alone.mp3"
    assert song.replay_gain is not None and song.replay_gain.track_gain is None
    assert album.name == "Loner/Alone" and album.song_count == 1
    assert album.release_types == ["Single"]
    assert [s.id for s in album.song or []] == [scene.single]


async def test_get_album_lists_the_release_in_track_order(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        album = await app.get_album(f"al-{scene.release}")
    assert album.id == f"al-{scene.release}" and album.name == "Night Drive"
    assert album.artist == "Ava Lux" and album.artist_id == f"ar-{scene.ava.id}"
    assert [s.title for s in album.song or []] == ["First", "Second"]
    assert album.song_count == 2 and album.duration == 101 + 200
    assert album.play_count == 1 and album.year == 2024 and album.genre == "Synthwave"
    assert album.release_types == ["Album"] and album.is_compilation is False
    assert album.cover_art and album.cover_art.startswith(f"al-{scene.release}_")
    assert album.created.endswith("Z")
    assert [s.suffix for s in album.song or []] == ["flac", "mp3"]


async def test_get_artist_and_get_artists(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        artists = await app.get_artists()
        ava = await app.get_artist(f"ar-{scene.ava.id}")
    listed = {a.name: a for index in artists.index or [] for a in index.artist or []}
    # Bea is banned; the fan has no songs, so is no artist.
    assert set(listed) == {"Ava Lux", "The Cal"}
    assert listed["Ava Lux"].album_count == 2 and listed["The Cal"].album_count == 1
    letters = {index.name: [a.name for a in index.artist or []] for index in artists.index or []}
    # "The" is an ignored article: The Cal is filed under C.
    assert letters == {"A": ["Ava Lux"], "C": ["The Cal"]}
    assert artists.ignored_articles.split()[0] == "The"
    assert ava.name == "Ava Lux" and ava.album_count == 2
    assert ava.artist_image_url and ava.artist_image_url.startswith("http")
    assert ava.cover_art and ava.cover_art.startswith(f"ar-{scene.ava.id}_")
    assert {a.name for a in ava.album or []} == {"Night Drive", "Loner/Alone"}
    night = next(a for a in ava.album or [] if a.name == "Night Drive")
    assert night.song_count == 2 and night.play_count == 1


async def test_hidden_things_are_not_there(scene: Scene, site: str) -> None:
    """A banned artist, a taken-down song, a release with nothing left to hear, a release
    with nothing yet: error 70, as for what never existed."""
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        for call, ident in (
            (app.get_song, scene.taken),
            (app.get_song, scene.banned_song),
            (app.get_song, str(uuid.uuid4())),
            (app.get_album, f"al-{scene.pulled}"),
            (app.get_album, f"al-{scene.empty}"),
            (app.get_album, f"sg-{scene.banned_song}"),
            (app.get_album, f"sg-{scene.first}"),  # on a release: not a single
            (app.get_artist, f"ar-{scene.bea.id}"),
            (app.get_artist, f"ar-{scene.fan.id}"),
            (app.get_music_directory, f"ar-{scene.bea.id}"),
            (app.get_music_directory, f"al-{scene.pulled}"),
            (app.get_music_directory, scene.second),
        ):
            with pytest.raises(Exception) as refused:
                await call(ident)
            assert type(refused.value).__name__ == "DataNotFoundError", (call, ident)
        ava = await app.get_artist(f"ar-{scene.ava.id}")
        genres = {g.value: g for g in await app.get_genres()}
        status = await app.get_scan_status()
    assert {a.name for a in ava.album or []} == {"Night Drive", "Loner/Alone"}
    assert "Noise" not in genres
    # Ava's three songs and Cal's: not the banned one, not the taken-down one.
    assert status.count == 4 and status.scanning is False


async def test_the_owner_still_sees_their_taken_down_song(scene: Scene, site: str) -> None:
    """As on the REST API: a song taken down is gone for all but its owner."""
    ava = scene.ava
    async with connected(site, ava.username, ava.secret) as app:
        song = await app.get_song(scene.taken)
        album = await app.get_album(f"al-{scene.pulled}")
    assert song.title == "Taken" and album.song_count == 1


async def test_ids_that_are_not_ours(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    for method, ident in (
        ("getSong", "nope"),
        ("getSong", f"al-{scene.release}"),
        ("getAlbum", scene.second),
        ("getAlbum", "al-"),
        ("getArtist", "ar-x"),
        ("getArtist", "x" * 5000),
        ("getMusicDirectory", "2"),
    ):
        assert error_of(await json(client, method, id=ident, **auth))[0] == 70, (method, ident)
        assert xml_error(await xml(client, method, id=ident, **auth))[0] == 70
    for method in ("getSong", "getAlbum", "getArtist", "getMusicDirectory"):
        assert error_of(await json(client, method, **auth))[0] == 10, method


async def test_genres(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        genres = {g.value: (g.song_count, g.album_count) for g in await app.get_genres()}
    assert genres == {"Ambient": (1, 1), "Synthwave": (2, 1)}


async def test_indexes_and_directories(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        indexes = await app.get_indexes()
        folder = await app.get_music_directory("1")
        artist = await app.get_music_directory(f"ar-{scene.ava.id}")
        album = await app.get_music_directory(f"al-{scene.release}")
        later = await app.get_indexes(if_modified_since=int(indexes.last_modified) + 1)
    names = [a.name for index in indexes.index or [] for a in index.artist or []]
    assert names == ["Ava Lux", "The Cal"]
    assert indexes.last_modified > 0
    assert later.index is None
    assert {c.title for c in folder.child or []} == {"Ava Lux", "The Cal"}
    assert all(c.is_dir for c in folder.child or [])
    assert artist.name == "Ava Lux" and artist.parent == "1"
    assert {c.id for c in artist.child or []} == {f"al-{scene.release}", f"sg-{scene.single}"}
    assert all(c.is_dir and c.parent == f"ar-{scene.ava.id}" for c in artist.child or [])
    assert album.name == "Night Drive" and album.parent == f"ar-{scene.ava.id}"
    assert [c.id for c in album.child or []] == [scene.first, scene.second]
    assert all(c.is_dir is False for c in album.child or [])


async def test_another_music_folder_is_empty(scene: Scene) -> None:
    client = scene.harness.client()
    answer = await json(client, "getArtists", musicFolderId=7, **scene.fan.auth)
    assert answer["artists"].get("index") == []
    answer = await json(client, "getIndexes", musicFolderId="x", **scene.fan.auth)
    code, message = error_of(answer)
    assert code == 0 and "musicFolderId" in message


async def test_system_methods(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert await app.ping() is True
        assert (await app.get_license())["license"]["valid"] is True
        me = await app.get_user(fan.username)
        folders = await raw(app, "getMusicFolders")
        started = await app.start_scan()
        status = await app.get_scan_status()
        with pytest.raises(Exception) as refused:
            await app.get_user("ava")
    assert type(refused.value).__name__ == "AuthError"
    assert me.username == "fan" and me.admin_role is False
    assert me.stream_role and me.playlist_role and me.cover_art_role and me.download_role
    assert me.settings_role and me.scrobbling_enabled and not me.upload_role
    assert me.folder == [1]
    # (py-opensonic's own get_music_folders reads the answer's shape wrongly: this is the
    # documented shape, a musicFolders element holding musicFolder entries.)
    assert folders["musicFolders"] == {"musicFolder": [{"id": 1, "name": "Bandstand"}]}
    assert started.scanning is False and started.count == status.count == 4


async def test_get_user_as_an_admin(scene: Scene) -> None:
    await scene.harness.sql("UPDATE users SET role = 'admin' WHERE username_key = 'cal'")
    client = scene.harness.client()
    cal = scene.cal.auth
    mine = (await json(client, "getUser", username="cal", **cal))["user"]
    assert mine["adminRole"] is True and mine["email"] == "cal@example.com"
    other = (await json(client, "getUser", username="AVA", **cal))["user"]
    # Never another user's email.
    assert other["username"] == "ava" and "email" not in other and other["adminRole"] is False
    assert error_of(await json(client, "getUser", username="nobody", **cal))[0] == 70
    assert error_of(await json(client, "getUser", **cal))[0] == 10


async def test_every_answer_is_valid_xml(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    calls: list[tuple[str, dict[str, Any]]] = [
        ("ping", {}),
        ("getLicense", {}),
        ("tokenInfo", {}),
        ("getUser", {"username": "fan"}),
        ("getMusicFolders", {}),
        ("getScanStatus", {}),
        ("startScan", {}),
        ("getIndexes", {}),
        ("getMusicDirectory", {"id": "1"}),
        ("getMusicDirectory", {"id": f"ar-{scene.ava.id}"}),
        ("getMusicDirectory", {"id": f"al-{scene.release}"}),
        ("getArtists", {}),
        ("getArtist", {"id": f"ar-{scene.ava.id}"}),
        ("getAlbum", {"id": f"al-{scene.release}"}),
        ("getAlbum", {"id": f"sg-{scene.single}"}),
        ("getSong", {"id": scene.second}),
        ("getSong", {"id": scene.single}),
        ("getGenres", {}),
    ]
    for method, params in calls:
        root = await xml(client, method, **params, **auth)
        assert root.get("status") == "ok", (method, params)
    song = (await xml(client, "getSong", id=scene.second, **auth)).find(f"{NS}song")
    assert song is not None and song.get("starred") and song.get("playCount") == "1"
    gain = song.find(f"{NS}replayGain")
    assert gain is not None and gain.get("trackGain") == "-3.25"
    genres = (await xml(client, "getGenres", **auth)).find(f"{NS}genres")
    assert genres is not None
    assert [(g.text, g.get("songCount")) for g in genres] == [("Ambient", "1"), ("Synthwave", "2")]


async def test_a_real_upload_end_to_end(harness: Harness, site: str) -> None:
    """A song uploaded and processed (FFmpeg measures it) as an app sees it."""
    ava = await listener(harness, "ava", "Ava Lux")
    made = await uploaded(ava.who, tone("mp3", 2.0), title="Tone", Genre="Test")
    await harness.settle()
    rest = (await ava.who.client.get(f"{SONGS}/{made['_id']}", headers=ava.who.auth)).json()["data"]
    assert rest["status"] == "ready" and rest["gain"] is not None
    async with connected(site, ava.username, ava.secret) as app:
        song = await app.get_song(made["_id"])
    assert song.title == "Tone" and song.genre == "Test"
    assert song.duration == round(rest["duration"]) and song.bit_rate == round(
        rest["bitrate"] / 1000
    )
    assert song.suffix == "mp3" and song.content_type == "audio/mpeg"
    assert song.album_id == f"sg-{made['_id']}"
    assert song.replay_gain is not None
    assert song.replay_gain.track_gain == round(rest["gain"], 2)
    if rest["truePeak"] is not None:
        expected = 10 ** (rest["truePeak"] / 20)
        assert song.replay_gain.track_peak == pytest.approx(expected, abs=1e-6)


async def test_every_cover_art_id_shown_resolves_to_its_picture(scene: Scene) -> None:
    """What ``getCoverArt`` will be asked for: each cover art id an answer carries names a
    stored picture the caller may see; hidden things' covers resolve to nothing."""
    client = scene.harness.client()
    auth = scene.fan.auth
    song = (await json(client, "getSong", id=scene.second, **auth))["song"]
    album = (await json(client, "getAlbum", id=f"al-{scene.release}", **auth))["album"]
    single = (await json(client, "getAlbum", id=f"sg-{scene.single}", **auth))["album"]
    artist = (await json(client, "getArtist", id=f"ar-{scene.ava.id}", **auth))["artist"]
    runtime = scene.harness.app.state.runtime
    viewer = uuid.UUID(scene.fan.id)
    rows = {
        str(r[0]).replace("-", ""): (r[1], r[2])
        for r in await scene.harness.sql("SELECT id, thumbnail_key, owner_id FROM songs")
    }
    async with runtime.read_sessionmaker() as session:

        async def key(cover: str) -> str | None:
            ref = mapping.parse_cover_art(cover)
            assert ref is not None, cover
            return await repo.cover_key(session, viewer, ref)

        assert await key(song["coverArt"]) == rows[scene.second.replace("-", "")][0]
        # The release has no cover of its own: its first song's.
        assert await key(album["coverArt"]) == rows[scene.first.replace("-", "")][0]
        assert await key(single["coverArt"]) == rows[scene.single.replace("-", "")][0]
        assert await key(artist["coverArt"]) == scene.ava.who.user["avatar"].split("/media/")[-1]
        for hidden in (scene.taken, f"al-{scene.pulled}", f"ar-{scene.bea.id}", scene.banned_song):
            assert await key(hidden) is None, hidden


async def test_a_release_with_a_cover_of_its_own_shows_it(scene: Scene) -> None:
    cover = f"covers/{uuid.uuid4().hex}/640.webp"
    release = await a_release(scene.harness, scene.cal.id, "Covered", cover=cover)
    await a_song(scene.harness, scene.cal.id, "In it", release=release, track=1)
    client = scene.harness.client()
    album = (await json(client, "getAlbum", id=f"al-{release}", **scene.fan.auth))["album"]
    assert album["coverArt"] == mapping.cover_art_id(f"al-{release}", cover)
    runtime = scene.harness.app.state.runtime
    async with runtime.read_sessionmaker() as session:
        ref = mapping.parse_cover_art(album["coverArt"])
        assert ref is not None
        assert await repo.cover_key(session, uuid.UUID(scene.fan.id), ref) == cover
