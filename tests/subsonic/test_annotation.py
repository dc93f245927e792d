"""Stars, ratings and plays through the real client: a star is a like and a scrobble a
play, seen as such through the REST API (same counters, same window, same budget); what
is hidden there cannot be starred, rated or played here; bad parameters are Subsonic
errors, never faults. Every XML answer is valid against the schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bandstand.kit.time import utcnow
from tests.conftest import Harness
from tests.songs.support import SONGS
from tests.subsonic.support import (
    NS,
    Listener,
    a_song,
    connected,
    db_id,
    error_of,
    json,
    listener,
    set_column,
    xml,
    xml_error,
)

HISTORY = "/api/v1/users/watchHistory"


@dataclass
class Scene:
    harness: Harness
    ava: Listener  # an artist
    fan: Listener  # a listener
    song: str  # Ava's
    other: str  # Ava's
    taken: str  # Ava's, taken down
    banned: str  # a banned artist's


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    bea = await listener(harness, "bea", "Bea Banned")
    song = await a_song(harness, ava.id, "Song")
    other = await a_song(harness, ava.id, "Other")
    taken = await a_song(harness, ava.id, "Taken")
    await set_column(harness, "songs", "taken_down_at", taken, True)
    banned = await a_song(harness, bea.id, "Banned")
    await set_column(harness, "users", "banned_at", bea.id, True)
    return Scene(harness, ava, fan, song, other, taken, banned)


async def _rest_song(who: Listener, song_id: str) -> dict[str, Any]:
    """The song as the REST API shows it to ``who``."""
    response = await who.who.client.get(f"{SONGS}/{song_id}", headers=who.who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_a_star_is_a_like_through_the_rest_api(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert await app.star(sids=[scene.song]) is True
        assert (await _rest_song(fan, scene.song))["likeCount"] == 1
        # Again: one like, the counter does not drift.
        await app.star(sids=[scene.song])
        assert (await _rest_song(fan, scene.song))["likeCount"] == 1
        starred = await app.get_song(scene.song)
        liked = await fan.who.client.get(f"{SONGS}/likedSongs", headers=fan.who.auth)
        assert [d["_id"] for d in liked.json()["data"]["docs"]] == [scene.song]
        await app.unstar(sids=[scene.song])
        assert (await _rest_song(fan, scene.song))["likeCount"] == 0
        # Unstarring what is not starred is no error and changes nothing.
        assert await app.unstar(sids=[scene.song]) is True
        assert (await _rest_song(fan, scene.song))["likeCount"] == 0
        unstarred = await app.get_song(scene.song)
    assert starred.starred is not None and unstarred.starred is None


async def test_a_like_on_the_rest_api_is_a_star(scene: Scene, site: str) -> None:
    fan = scene.fan
    liked = await fan.who.client.post(f"{SONGS}/{scene.song}/like", headers=fan.who.auth)
    assert liked.status_code == 200, liked.text
    async with connected(site, fan.username, fan.secret) as app:
        assert (await app.get_song(scene.song)).starred is not None
        await app.unstar(sids=[scene.song])
    assert (await _rest_song(fan, scene.song))["likeCount"] == 0


async def test_several_songs_at_once(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret, use_get=True) as app:
        await app.star(sids=[scene.song, scene.other, scene.song])
        counts = [(await _rest_song(fan, s))["likeCount"] for s in (scene.song, scene.other)]
        assert counts == [1, 1]
        await app.unstar(sids=[scene.song, scene.other])
    assert [(await _rest_song(fan, s))["likeCount"] for s in (scene.song, scene.other)] == [0, 0]


async def test_albums_and_artists_are_not_starred(scene: Scene) -> None:
    """Bandstand keeps likes of songs only: a clear error 0, and nothing changes, not
    even the songs named beside the album."""
    client = scene.harness.client()
    auth = scene.fan.auth
    for method in ("star", "unstar"):
        for params in (
            {"albumId": f"sg-{scene.song}"},
            {"artistId": f"ar-{scene.ava.id}"},
            {"id": f"ar-{scene.ava.id}"},
            {"id": scene.song, "albumId": f"sg-{scene.song}"},
        ):
            code, message = error_of(await json(client, method, **params, **auth))
            assert code == 0 and "Bandstand keeps likes for songs" in message, (method, params)
    assert (await _rest_song(scene.fan, scene.song))["likeCount"] == 0


async def test_hidden_songs_cannot_be_starred_rated_or_played(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    for ident in (scene.taken, scene.banned, str(uuid.uuid4())):
        for method, params in (
            ("star", {"id": ident}),
            ("unstar", {"id": ident}),
            ("setRating", {"id": ident, "rating": 3}),
            ("scrobble", {"id": ident}),
            ("scrobble", {"id": ident, "submission": "false"}),
        ):
            assert error_of(await json(client, method, **params, **auth))[0] == 70, (method, ident)
    # A call is done whole or not at all: the visible song named first is not starred.
    answer = await client.get(
        "/rest/star", params=[("id", scene.song), ("id", scene.taken), *scene.fan.auth.items()]
    )
    assert answer.status_code == 200 and 'code="70"' in answer.text
    assert (await _rest_song(scene.fan, scene.song))["likeCount"] == 0
    # Its owner still may (as on the REST API).
    ava = scene.ava.auth
    assert (await json(client, "star", id=scene.taken, **ava))["status"] == "ok"


async def test_a_scrobble_is_a_play_through_the_rest_api(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        await app.scrobble(scene.song)
        assert (await _rest_song(fan, scene.song))["views"] == 1
        # Within the view window: a play (history), not another view.
        await app.scrobble(scene.song, listen_time=1_700_000_000)
        assert (await _rest_song(fan, scene.song))["views"] == 1
        # The REST play route shares the window.
        played = await fan.who.client.post(f"{SONGS}/{scene.song}", headers=fan.who.auth)
        assert played.json()["data"]["viewCounted"] is False
        # As the app sees it.
        assert (await app.get_song(scene.song)).play_count == 1
    history = await fan.who.client.get(HISTORY, headers=fan.who.auth)
    assert [d["song"]["_id"] for d in history.json()["data"]["docs"]] == [scene.song]
    plays = await scene.harness.sql(
        "SELECT count(*) FROM plays WHERE song_id = :song", song=db_id(scene.harness, scene.song)
    )
    assert plays[0][0] == 3


async def test_the_owners_own_plays_do_not_count(scene: Scene) -> None:
    client = scene.harness.client()
    answer = await json(client, "scrobble", id=scene.song, **scene.ava.auth)
    assert answer["status"] == "ok"
    assert (await _rest_song(scene.ava, scene.song))["views"] == 0
    history = await scene.ava.who.client.get(HISTORY, headers=scene.ava.who.auth)
    assert [d["song"]["_id"] for d in history.json()["data"]["docs"]] == [scene.song]


async def test_several_scrobbles_in_one_call(scene: Scene) -> None:
    client = scene.harness.client()
    form = {"id": [scene.song, scene.other], "f": "json", **scene.fan.auth}
    answer = await client.post("/rest/scrobble.view", data=form)
    assert answer.json()["subsonic-response"]["status"] == "ok"
    assert (await _rest_song(scene.fan, scene.song))["views"] == 1
    assert (await _rest_song(scene.fan, scene.other))["views"] == 1


async def test_ratings(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        await app.set_rating(scene.song, 4)
        rated = await app.get_song(scene.song)
        await app.set_rating(scene.song, 2)
        changed = await app.get_song(scene.song)
    # Private to the fan.
    async with connected(site, scene.ava.username, scene.ava.secret) as app:
        seen_by_ava = await app.get_song(scene.song)
    async with connected(site, fan.username, fan.secret) as app:
        await app.set_rating(scene.song, 0)
        removed = await app.get_song(scene.song)
        await app.set_rating(scene.song, 0)  # removing nothing is no error
    assert rated.user_rating == 4 and changed.user_rating == 2
    assert seen_by_ava.user_rating is None and removed.user_rating is None
    rows = await scene.harness.sql("SELECT count(*) FROM song_ratings")
    assert rows[0][0] == 0
    client = scene.harness.client()
    code, message = error_of(
        await json(client, "setRating", id=f"sg-{scene.song}", rating=3, **fan.auth)
    )
    assert code == 0 and "ratings for songs" in message


async def test_now_playing_is_the_callers_own(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        assert await app.get_now_playing() == []
        await app.scrobble(scene.song, submission=False)
        await app.scrobble(scene.other, submission=False)  # the app moved on
        [entry] = await app.get_now_playing()
    assert entry.id == scene.other and entry.title == "Other"
    assert entry.username == "fan" and entry.minutes_ago == 0
    assert entry.player_id == 0 and entry.player_name == "bandstand-tests"
    # "Now playing" counts no play.
    assert (await _rest_song(fan, scene.other))["views"] == 0
    # Who listens to what is nobody else's business.
    async with connected(site, scene.ava.username, scene.ava.secret) as app:
        assert await app.get_now_playing() == []
    client = scene.harness.client()
    # Ten minutes on, the app has said nothing more: nothing is playing.
    await scene.harness.sql(
        "UPDATE now_playing SET started_at = :then", then=_minutes_ago(scene.harness, 11)
    )
    assert (await json(client, "getNowPlaying", **fan.auth))["nowPlaying"].get("entry") == []
    await scene.harness.sql(
        "UPDATE now_playing SET started_at = :then", then=_minutes_ago(scene.harness, 3)
    )
    [shown] = (await json(client, "getNowPlaying", **fan.auth))["nowPlaying"]["entry"]
    assert shown["minutesAgo"] == 3
    # Taken down since: gone.
    await set_column(scene.harness, "songs", "taken_down_at", scene.other, True)
    assert (await json(client, "getNowPlaying", **fan.auth))["nowPlaying"].get("entry") == []


def _minutes_ago(harness: Harness, minutes: float) -> Any:
    moment = utcnow() - timedelta(minutes=minutes, seconds=5)
    return moment.replace(tzinfo=None) if harness.settings.is_embedded_database else moment


async def test_a_star_spends_the_likes_budget(make_harness: Any) -> None:
    """One budget for likes wherever they come from: the REST API's and the apps'."""
    harness: Harness = await make_harness(limit_likes_per_user="2/minute")
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    song = await a_song(harness, ava.id, "Song")
    client = harness.client()
    liked = await fan.who.client.post(f"{SONGS}/{song}/like", headers=fan.who.auth)
    assert liked.status_code == 200
    assert (await json(client, "star", id=song, **fan.auth))["status"] == "ok"
    refused = await client.get("/rest/unstar", params={"id": song, "f": "json", **fan.auth})
    code, message = error_of(refused.json()["subsonic-response"])
    assert code == 0 and "likes" in message and int(refused.headers["retry-after"]) >= 1
    assert (
        await fan.who.client.post(f"{SONGS}/{song}/unlike", headers=fan.who.auth)
    ).status_code == 429


async def test_bad_parameters(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    song = scene.song
    for method, params, expected in (
        ("star", {}, 10),
        ("unstar", {"id": ""}, 10),
        ("star", {"id": "nope"}, 70),
        ("star", {"id": "x" * 5000}, 70),
        ("star", {"id": f"pl-{uuid.uuid4()}"}, 70),
        ("setRating", {"rating": 3}, 10),
        ("setRating", {"id": song}, 10),
        ("setRating", {"id": song, "rating": 7}, 0),
        ("setRating", {"id": song, "rating": -1}, 0),
        ("setRating", {"id": song, "rating": "three"}, 0),
        ("setRating", {"id": "nope", "rating": 3}, 70),
        ("scrobble", {}, 10),
        ("scrobble", {"id": song, "submission": "maybe"}, 0),
        ("scrobble", {"id": song, "time": "yesterday"}, 0),
        ("scrobble", {"id": "../etc", "submission": "false"}, 70),
    ):
        code, message = error_of(await json(client, method, **params, **auth))
        assert code == expected, (method, params, message)
        assert xml_error(await xml(client, method, **params, **auth))[0] == expected
    too_many = [("id", song)] * 101
    answer = await client.get("/rest/star", params=[*too_many, *auth.items(), ("f", "json")])
    assert error_of(answer.json()["subsonic-response"])[0] == 0
    assert (await _rest_song(scene.fan, song))["likeCount"] == 0


async def test_every_answer_is_valid_xml(scene: Scene) -> None:
    client = scene.harness.client()
    auth = scene.fan.auth
    for method, params in (
        ("star", {"id": scene.song}),
        ("unstar", {"id": scene.song}),
        ("setRating", {"id": scene.song, "rating": 5}),
        ("scrobble", {"id": scene.song}),
        ("scrobble", {"id": scene.other, "submission": "false", "c": 'Amp & "Co" <1>'}),
        ("getNowPlaying", {}),
    ):
        root = await xml(client, method, **params, **auth)
        assert root.get("status") == "ok", (method, params)
    playing = (await xml(client, "getNowPlaying", **auth)).find(f"{NS}nowPlaying")
    assert playing is not None
    [entry] = list(playing)
    assert entry.get("username") == "fan" and entry.get("playerName") == 'Amp & "Co" <1>'
    rated = (await xml(client, "getSong", id=scene.song, **auth)).find(f"{NS}song")
    assert rated is not None and rated.get("userRating") == "5"
