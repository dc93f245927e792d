"""One reader per fact: every route that answers a song gives the same views, likes and
comments, whether the counts are still pending in the counter store or flushed to the
database (``songs/cards.py`` is the one reader)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.audio import tone
from tests.conftest import Harness
from tests.engagement.support import flush, song_row
from tests.images import png_bytes
from tests.schema_check import assert_conforms
from tests.songs.support import SONGS, Artist, artist, uploaded

USERS = "/api/v1/users"
PLAYLIST = "/api/v1/playlist"

# A route: its method and path as declared, and how to ask it for the song (the whole
# answer, and the song in it).
Asked = tuple[dict[str, Any], dict[str, Any]]
Route = tuple[str, str, Callable[[], Awaitable[Asked]]]


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), (response.request.url, response.text[:500])
    body: dict[str, Any] = response.json()
    return body


def _only(docs: list[dict[str, Any]], song_id: str) -> dict[str, Any]:
    (found,) = [doc for doc in docs if doc["_id"] == song_id]
    return found


def routes(owner: Artist, fan: Artist, song_id: str, playlist_id: str) -> dict[str, Route]:
    """Every route that answers the song."""

    async def one() -> Asked:
        body = _body(await fan.client.get(f"{SONGS}/{song_id}", headers=fan.auth))
        return body, body["data"]

    async def play() -> Asked:
        body = _body(await fan.client.post(f"{SONGS}/{song_id}", headers=fan.auth))
        return body, body["data"]

    async def home() -> Asked:
        body = _body(await fan.client.get(f"{SONGS}/home", headers=fan.auth))
        return body, _only(body["data"]["docs"], song_id)

    async def user_songs() -> Asked:
        body = _body(await owner.client.get(f"{SONGS}/userSongs", headers=owner.auth))
        return body, _only(body["data"]["docs"], song_id)

    async def liked_songs() -> Asked:
        body = _body(await fan.client.get(f"{SONGS}/likedSongs", headers=fan.auth))
        return body, _only(body["data"]["docs"], song_id)

    async def search() -> Asked:
        params = {"q": "Consistent anthem"}
        body = _body(await fan.client.get(f"{SONGS}/search", params=params, headers=fan.auth))
        return body, _only(body["data"]["songs"]["docs"], song_id)

    async def update() -> Asked:
        change = {"description": "Still the same song"}
        path = f"{SONGS}/updateSong/{song_id}"
        body = _body(await owner.client.patch(path, json=change, headers=owner.auth))
        return body, body["data"]

    async def thumbnail() -> Asked:
        files = {"thumbnail": ("cover.png", png_bytes(), "image/png")}
        path = f"{SONGS}/{song_id}/thumbnail"
        body = _body(await owner.client.patch(path, files=files, headers=owner.auth))
        return body, body["data"]

    async def playlist() -> Asked:
        body = _body(await fan.client.get(f"{PLAYLIST}/get/{playlist_id}", headers=fan.auth))
        return body, _only(body["data"]["songs"], song_id)

    async def history() -> Asked:
        body = _body(await fan.client.get(f"{USERS}/watchHistory", headers=fan.auth))
        (entry,) = [doc for doc in body["data"]["docs"] if doc["song"]["_id"] == song_id]
        return body, entry["song"]

    async def profile() -> Asked:
        body = _body(await fan.client.get(f"{USERS}/get/{owner.id}", headers=fan.auth))
        return body, _only(body["data"]["songs"], song_id)

    async def content() -> Asked:
        body = _body(await fan.client.get(f"{USERS}/{owner.id}/content", headers=fan.auth))
        return body, _only(body["data"]["songs"], song_id)

    return {
        "GET /songs/:id": ("GET", f"{SONGS}/{{songId}}", one),
        "POST /songs/:id (play)": ("POST", f"{SONGS}/{{songId}}", play),
        "GET /songs/home": ("GET", f"{SONGS}/home", home),
        "GET /songs/userSongs": ("GET", f"{SONGS}/userSongs", user_songs),
        "GET /songs/likedSongs": ("GET", f"{SONGS}/likedSongs", liked_songs),
        "GET /songs/search": ("GET", f"{SONGS}/search", search),
        "PATCH /songs/updateSong/:id": ("PATCH", f"{SONGS}/updateSong/{{songId}}", update),
        "PATCH /songs/:id/thumbnail": ("PATCH", f"{SONGS}/{{songId}}/thumbnail", thumbnail),
        "GET /playlist/get/:id": ("GET", f"{PLAYLIST}/get/{{playlistId}}", playlist),
        "GET /users/watchHistory": ("GET", f"{USERS}/watchHistory", history),
        "GET /users/get/:id": ("GET", f"{USERS}/get/{{userId}}", profile),
        "GET /users/:id/content": ("GET", f"{USERS}/{{userId}}/content", content),
    }


async def routes_that_differ(
    harness: Harness, owner: Artist, fan: Artist, song_id: str, playlist_id: str
) -> dict[str, tuple[int, int, int]]:
    """The routes that do not say one view, one like and one comment, with what they say.
    Each answer is also checked against the schema its route declares."""
    found = {}
    for name, (method, path, ask) in routes(owner, fan, song_id, playlist_id).items():
        body, song = await ask()
        assert_conforms(harness.app, method, path, body)
        counts = (song["views"], song["likeCount"], song["commentCount"])
        if counts != (1, 1, 1):
            found[name] = counts
    return found


async def test_every_route_gives_the_same_counts_pending_and_flushed(harness: Harness) -> None:
    owner, fan = await artist(harness, "owner"), await artist(harness, "fan")
    song = await uploaded(owner, tone("mp3", 0.5), title="Consistent anthem")
    await harness.settle()
    song_id = song["_id"]
    made = await fan.client.post(
        f"{PLAYLIST}/", json={"name": "Mix", "songs": [song_id]}, headers=fan.auth
    )
    playlist_id = _body(made)["data"]["_id"]

    # A like, a play and a comment, by someone who does not own the song.
    assert (await fan.client.post(f"{SONGS}/{song_id}/like", headers=fan.auth)).is_success
    assert (await fan.client.post(f"{SONGS}/{song_id}", headers=fan.auth)).is_success
    comment = await fan.client.post(
        f"/api/v1/comments/{song_id}", json={"content": "Lovely"}, headers=fan.auth
    )
    assert comment.status_code == 201, comment.text

    # Pending: nothing is in the database yet; every route adds what waits.
    assert await song_row(harness, song_id) == {"views": 0, "likeCount": 0, "commentCount": 0}
    assert await routes_that_differ(harness, owner, fan, song_id, playlist_id) == {}

    # Flushed: the same three numbers, now from the rows.
    await flush(harness)
    assert await song_row(harness, song_id) == {"views": 1, "likeCount": 1, "commentCount": 1}
    assert await routes_that_differ(harness, owner, fan, song_id, playlist_id) == {}
