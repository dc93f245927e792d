"""Playlists through the real client: Bandstand's own playlists, changed through its
playlists service (seen so through the REST API), private ones their owner's alone,
hidden and banned owners' ones gone for others, changes their owner's alone. Every XML
answer is valid against the schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Harness
from tests.subsonic.support import (
    NS,
    Listener,
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

PLAYLIST = "/api/v1/playlist"


@dataclass
class Scene:
    harness: Harness
    ava: Listener  # an artist with three songs and a public playlist
    fan: Listener  # a listener with a private playlist
    one: str
    two: str
    three: str
    public: str  # Ava's public playlist (pl-...)
    private: str  # the fan's private playlist (pl-...)


async def _rest_playlist(who: Listener, ident: str) -> tuple[int, dict[str, Any]]:
    response = await who.who.client.get(
        f"{PLAYLIST}/get/{ident.removeprefix('pl-')}", headers=who.who.auth
    )
    body: dict[str, Any] = response.json()
    return response.status_code, body["data"]


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    one = await a_song(harness, ava.id, "One", duration=100.4)
    two = await a_song(harness, ava.id, "Two", duration=200.4)
    three = await a_song(harness, ava.id, "Three", duration=60)
    made = await ava.who.client.post(
        f"{PLAYLIST}/",
        json={"playlist_name": "Ava's picks", "description": "Hers", "songIds": [one, two]},
        headers=ava.who.auth,
    )
    assert made.status_code == 201, made.text
    client = harness.client()
    private = await json(client, "createPlaylist", name="Mine", songId=[three, one], **fan.auth)
    return Scene(
        harness,
        ava,
        fan,
        one,
        two,
        three,
        f"pl-{made.json()['data']['_id']}",
        private["playlist"]["id"],
    )


async def test_create_and_get(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert await app.create_playlist(name="Road trip", song_ids=[scene.two, scene.one])
        mine = await app.get_playlists()
        made = next(p for p in mine if p.name == "Road trip")
        got = await app.get_playlist(made.id)
    assert got.owner == "fan" and got.public is False and got.readonly is False
    assert [e.id for e in got.entry or []] == [scene.two, scene.one]
    assert got.song_count == 2 and got.duration == round(200.4 + 100.4)
    assert got.created.endswith("Z") and got.changed.endswith("Z")
    assert got.cover_art and got.cover_art.startswith(f"{made.id}_")
    # Bandstand's own playlist, as the REST API shows it to its owner.
    status, rest = await _rest_playlist(fan, made.id)
    assert status == 200 and rest["playlist_name"] == "Road trip" and rest["isPublic"] is False
    assert [s["_id"] for s in rest["songs"]] == [scene.two, scene.one]


async def test_get_playlists_lists_mine_then_others_public_ones(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        listed = await app.get_playlists()
    assert [(p.id, p.owner, p.readonly) for p in listed] == [
        (scene.private, "fan", False),
        (scene.public, "ava", True),
    ]
    public = listed[1]
    assert public.comment == "Hers" and public.public is True and public.song_count == 2


async def test_a_private_playlist_is_its_owners_alone(scene: Scene, site: str) -> None:
    """Not listed, not found, not changeable, its cover not shown, its songs not reached
    by way of it; the REST API agrees."""
    ava = scene.ava
    async with connected(site, ava.username, ava.secret) as app:
        listed = await app.get_playlists()
        assert [p.id for p in listed] == [scene.public]
        for call in (
            lambda: app.get_playlist(scene.private),
            lambda: app.update_playlist(scene.private, name="Taken"),
            lambda: app.delete_playlist(scene.private),
            lambda: app.create_playlist(playlist_id=scene.private, song_ids=[scene.one]),
            lambda: app.get_cover_art(scene.private),
            lambda: app.stream(scene.private),
        ):
            with pytest.raises(Exception) as refused:
                await call()
            assert type(refused.value).__name__ == "DataNotFoundError"
    assert (await _rest_playlist(ava, scene.private))[0] == 404
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert [e.title for e in (await app.get_playlist(scene.private)).entry or []] == [
            "Three",
            "One",
        ]


async def test_only_the_owner_changes_a_playlist(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        seen = await app.get_playlist(scene.public)
        for call in (
            lambda: app.update_playlist(scene.public, name="Mine now"),
            lambda: app.update_playlist(scene.public, song_ids_to_add=[scene.three]),
            lambda: app.update_playlist(scene.public, song_indices_to_remove=[0]),
            lambda: app.create_playlist(playlist_id=scene.public, song_ids=[scene.three]),
            lambda: app.delete_playlist(scene.public),
        ):
            with pytest.raises(Exception) as refused:
                await call()
            assert type(refused.value).__name__ == "AuthError"
    assert seen.readonly is True
    status, rest = await _rest_playlist(scene.ava, scene.public)
    assert status == 200 and rest["playlist_name"] == "Ava's picks"
    assert [s["_id"] for s in rest["songs"]] == [scene.one, scene.two]


async def test_update_playlist(scene: Scene, site: str) -> None:
    ava = scene.ava
    async with connected(site, ava.username, ava.secret) as app:
        await app.update_playlist(
            scene.public,
            name="Renamed",
            comment="New words",
            song_ids_to_add=[scene.three, scene.one],  # One is in it: it stays where it is
            song_indices_to_remove=[0],
        )
        got = await app.get_playlist(scene.public)
        # (py-opensonic's update_playlist has no ``public``.)
        await raw(app, "updatePlaylist", playlistId=scene.public, public="false")
        private = await app.get_playlist(scene.public)
    assert got.name == "Renamed" and got.comment == "New words"
    assert [e.id for e in got.entry or []] == [scene.two, scene.three, scene.one]
    assert private.public is False
    status, rest = await _rest_playlist(ava, scene.public)
    assert status == 200 and rest["playlist_name"] == "Renamed"
    assert rest["description"] == "New words" and rest["isPublic"] is False
    assert [s["_id"] for s in rest["songs"]] == [scene.two, scene.three, scene.one]
    # Now private: gone for the fan.
    client = scene.harness.client()
    assert error_of(await json(client, "getPlaylist", id=scene.public, **scene.fan.auth))[0] == 70


async def test_create_playlist_with_an_id_replaces_its_songs(scene: Scene, site: str) -> None:
    ava = scene.ava
    async with connected(site, ava.username, ava.secret) as app:
        await app.create_playlist(
            playlist_id=scene.public, song_ids=[scene.three, scene.one, scene.two]
        )
        reordered = await app.get_playlist(scene.public)
        await app.create_playlist(playlist_id=scene.public, song_ids=[scene.three])
        cut = await app.get_playlist(scene.public)
        await app.create_playlist(playlist_id=scene.public, song_ids=[])
        emptied = await app.get_playlist(scene.public)
    assert [e.id for e in reordered.entry or []] == [scene.three, scene.one, scene.two]
    assert [e.id for e in cut.entry or []] == [scene.three]
    assert not emptied.entry and emptied.song_count == 0 and emptied.duration == 0
    status, rest = await _rest_playlist(ava, scene.public)
    assert status == 200 and rest["songs"] == [] and rest["playlist_name"] == "Ava's picks"


async def test_delete_playlist(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert await app.delete_playlist(scene.private) is True
        assert [p.id for p in await app.get_playlists()] == [scene.public]
        with pytest.raises(Exception) as gone:
            await app.delete_playlist(scene.private)
    assert type(gone.value).__name__ == "DataNotFoundError"
    assert (await _rest_playlist(fan, scene.private))[0] == 404


async def test_hidden_playlists_and_banned_owners(scene: Scene) -> None:
    """As on the REST API: a playlist a moderator hid, or a banned user's, is gone for
    everyone but its owner; a song taken down is gone from every playlist."""
    harness = scene.harness
    client = harness.client()
    fan, ava = scene.fan.auth, scene.ava.auth
    await set_column(harness, "playlists", "hidden_at", scene.public.removeprefix("pl-"), True)
    assert [
        p["id"] for p in (await json(client, "getPlaylists", **fan))["playlists"]["playlist"]
    ] == [scene.private]
    assert error_of(await json(client, "getPlaylist", id=scene.public, **fan))[0] == 70
    assert (await json(client, "getPlaylist", id=scene.public, **ava))["status"] == "ok"
    await set_column(harness, "playlists", "hidden_at", scene.public.removeprefix("pl-"), False)
    await set_column(harness, "users", "banned_at", scene.ava.id, True)
    assert error_of(await json(client, "getPlaylist", id=scene.public, **fan))[0] == 70
    # Ava's songs are gone from the fan's own playlist too.
    mine = (await json(client, "getPlaylist", id=scene.private, **fan))["playlist"]
    assert mine["songCount"] == 0 and mine.get("entry", []) == []
    await set_column(harness, "users", "banned_at", scene.ava.id, False)
    await set_column(harness, "songs", "taken_down_at", scene.three, True)
    mine = (await json(client, "getPlaylist", id=scene.private, **fan))["playlist"]
    assert [e["id"] for e in mine["entry"]] == [scene.one] and mine["songCount"] == 1
    assert mine["duration"] == 100
    # A hidden song cannot be added either.
    answer = await json(
        client, "updatePlaylist", playlistId=scene.private, songIdToAdd=scene.three, **fan
    )
    assert error_of(answer)[0] == 70


async def test_another_users_playlists(scene: Scene) -> None:
    client = scene.harness.client()
    fan, ava = scene.fan.auth, scene.ava.auth
    code, _ = error_of(await json(client, "getPlaylists", username="fan", **ava))
    assert code == 50
    # Asking for one's own is asking for nothing more.
    assert (await json(client, "getPlaylists", username="FAN", **fan))["status"] == "ok"
    await scene.harness.sql("UPDATE users SET role = 'admin' WHERE username_key = 'ava'")
    theirs = (await json(client, "getPlaylists", username="fan", **ava))["playlists"]
    # A private playlist stays its owner's, admin or not.
    assert theirs.get("playlist", []) == []
    shown = await json(client, "getPlaylists", username="ava", **fan)
    assert error_of(shown)[0] == 50
    assert error_of(await json(client, "getPlaylists", username="nobody", **ava))[0] == 70


async def test_bad_parameters(scene: Scene) -> None:
    client = scene.harness.client()
    fan = scene.fan.auth
    mine = scene.private
    for method, params, expected in (
        ("getPlaylist", {}, 10),
        ("getPlaylist", {"id": "nope"}, 70),
        ("getPlaylist", {"id": scene.one}, 70),
        ("getPlaylist", {"id": f"pl-{uuid.uuid4()}"}, 70),
        ("createPlaylist", {}, 10),
        ("createPlaylist", {"name": "x" * 101}, 0),
        ("createPlaylist", {"name": "Bad\x00name"}, 0),
        ("createPlaylist", {"name": "Ok", "songId": "nope"}, 70),
        ("createPlaylist", {"name": "Ok", "songId": str(uuid.uuid4())}, 70),
        ("createPlaylist", {"playlistId": "pl-nope", "songId": scene.one}, 70),
        ("updatePlaylist", {}, 10),
        ("updatePlaylist", {"playlistId": mine, "songIndexToRemove": 2}, 0),
        ("updatePlaylist", {"playlistId": mine, "songIndexToRemove": "first"}, 0),
        ("updatePlaylist", {"playlistId": mine, "songIndexToRemove": -1}, 0),
        ("updatePlaylist", {"playlistId": mine, "public": "perhaps"}, 0),
        ("updatePlaylist", {"playlistId": mine, "comment": "y" * 5001}, 0),
        ("deletePlaylist", {}, 10),
        ("deletePlaylist", {"id": "x" * 5000}, 70),
    ):
        code, message = error_of(await json(client, method, **params, **fan))
        assert code == expected, (method, params, message)
        assert xml_error(await xml(client, method, **params, **fan))[0] == expected
    # Nothing was made or changed by the refusals.
    got = (await json(client, "getPlaylist", id=mine, **fan))["playlist"]
    assert got["name"] == "Mine" and [e["id"] for e in got["entry"]] == [scene.three, scene.one]
    names = [
        p["name"] for p in (await json(client, "getPlaylists", **fan))["playlists"]["playlist"]
    ]
    assert names == ["Mine", "Ava's picks"]


async def test_every_answer_is_valid_xml(scene: Scene) -> None:
    client = scene.harness.client()
    fan = scene.fan.auth
    for method, params in (
        ("getPlaylists", {}),
        ("getPlaylist", {"id": scene.public}),
        ("getPlaylist", {"id": scene.private}),
        ("createPlaylist", {"name": '<&> "quoted"', "songId": scene.one}),
        ("updatePlaylist", {"playlistId": scene.private, "name": "Renamed", "comment": ""}),
        ("createPlaylist", {"playlistId": scene.private, "songId": scene.two}),
    ):
        root = await xml(client, method, **params, **fan)
        assert root.get("status") == "ok", (method, params)
    got = (await xml(client, "getPlaylist", id=scene.private, **fan)).find(f"{NS}playlist")
    assert got is not None and got.get("name") == "Renamed" and got.get("public") == "false"
    assert [e.get("id") for e in got.findall(f"{NS}entry")] == [scene.two]
    root = await xml(client, "deletePlaylist", id=scene.private, **fan)
    assert root.get("status") == "ok"
