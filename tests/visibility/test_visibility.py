"""What a moderator hides is hidden on every route and in search, for everyone but its
owner, and back once the column is cleared (CONTRACT.md: what is hidden on one surface is
hidden on all). The columns are set here directly, as the moderation routes set them, so
these tests hold whatever the moderation API looks like.

Each family is a table of routes: a route that answers songs, playlists or comments joins
its table, and every case below checks it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.comments.support import commented
from tests.conftest import Harness
from tests.playlists.support import created
from tests.songs.support import SONGS, Artist, artist, uploaded

USERS = "/api/v1/users"
PLAYLIST = "/api/v1/playlist"
COMMENTS = "/api/v1/comments"

# Whether a route shows the thing to the caller: True, False (left out, or 404 for a route
# about that one thing). Anything else (500, 403) fails the test.
Shows = Callable[[Artist], Awaitable[bool]]


def _db_id(harness: Harness, ident: str) -> Any:
    """An id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    value = uuid.UUID(ident)
    return value.hex if harness.settings.is_embedded_database else value


async def _set(harness: Harness, table: str, column: str, ident: str, on: bool) -> None:
    """Set (``now``) or clear a moderation column, and forget what this process keeps of
    the catalogue and of comment listings, as the moderation routes do."""
    value = "CURRENT_TIMESTAMP" if on else "NULL"
    await harness.sql(
        f"UPDATE {table} SET {column} = {value} WHERE id = :id",
        id=_db_id(harness, ident),
    )
    runtime = harness.app.state.runtime
    await runtime.catalogue.clear()
    for (song_id,) in await harness.sql("SELECT id FROM songs"):
        await runtime.comment_answers.forget(uuid.UUID(str(song_id)))


async def _data(who: Artist, path: str, **params: Any) -> Any:
    response = await who.client.get(path, params=params, headers=who.auth)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()["data"]


def _in_page(page: dict[str, Any], ident: str, key: Callable[[dict[str, Any]], str]) -> bool:
    """Whether the page lists ``ident``; its ``totalDocs`` counts what it lists (every
    list here is one page long)."""
    ids = [key(doc) for doc in page["docs"]]
    assert page["totalDocs"] == len(ids), page
    return ident in ids


def _id(doc: dict[str, Any]) -> str:
    return str(doc["_id"])


async def _found_or_404(response: httpx.Response) -> bool:
    assert response.status_code in (200, 404), (response.request.url, response.text[:500])
    return response.status_code == 200


# --- songs -----------------------------------------------------------------------------


@dataclass
class SongScene:
    harness: Harness
    owner: Artist
    fan: Artist
    song: dict[str, Any]
    playlist_id: str

    @property
    def song_id(self) -> str:
        return str(self.song["_id"])


def song_routes(scene: SongScene) -> dict[str, Shows]:
    """Every route that answers the song, as the caller sees it."""
    song_id, owner = scene.song_id, scene.owner

    async def home(who: Artist) -> bool:
        docs = (await _data(who, f"{SONGS}/home"))["docs"]
        return song_id in [doc["_id"] for doc in docs]

    async def search(who: Artist) -> bool:
        return _in_page(
            (await _data(who, f"{SONGS}/search", q="Midnight anthem"))["songs"], song_id, _id
        )

    async def liked(who: Artist) -> bool:
        return _in_page(await _data(who, f"{SONGS}/likedSongs"), song_id, _id)

    async def history(who: Artist) -> bool:
        page = await _data(who, f"{USERS}/watchHistory")
        return _in_page(page, song_id, lambda doc: str(doc["song"]["_id"]))

    async def one(who: Artist) -> bool:
        return await _found_or_404(await who.client.get(f"{SONGS}/{song_id}", headers=who.auth))

    async def play(who: Artist) -> bool:
        return await _found_or_404(await who.client.post(f"{SONGS}/{song_id}", headers=who.auth))

    async def waveform(who: Artist) -> bool:
        path = f"{SONGS}/{song_id}/waveform"
        return await _found_or_404(await who.client.get(path, headers=who.auth))

    async def like(who: Artist) -> bool:
        path = f"{SONGS}/{song_id}/like"
        return await _found_or_404(await who.client.post(path, headers=who.auth))

    async def comments(who: Artist) -> bool:
        path = f"{COMMENTS}/{song_id}/comments"
        return await _found_or_404(await who.client.get(path, headers=who.auth))

    async def comment(who: Artist) -> bool:
        path = f"{COMMENTS}/{song_id}"
        response = await who.client.post(path, json={"content": "Still here?"}, headers=who.auth)
        assert response.status_code in (201, 404), response.text[:500]
        return response.status_code == 201

    async def playlist(who: Artist) -> bool:
        page = await _data(who, f"{PLAYLIST}/get/{scene.playlist_id}")
        songs = [doc["_id"] for doc in page["songs"]]
        assert page["songCount"] == len(songs) == page["songsPage"]["totalDocs"]
        return song_id in songs

    async def playlists(who: Artist) -> bool:
        # The playlist's card lists its songs by id.
        docs = (await _data(who, f"{PLAYLIST}/getPublicPlaylist"))["docs"]
        (card,) = [doc for doc in docs if doc["_id"] == scene.playlist_id]
        assert card["songCount"] == len(card["songs"])
        return song_id in card["songs"]

    async def content(who: Artist) -> bool:
        response = await who.client.get(f"{USERS}/{owner.id}/content", headers=who.auth)
        if not await _found_or_404(response):
            return False
        return song_id in [doc["_id"] for doc in response.json()["data"]["songs"]]

    async def profile(who: Artist) -> bool:
        response = await who.client.get(f"{USERS}/get/{owner.id}", headers=who.auth)
        if not await _found_or_404(response):
            return False
        return song_id in [doc["_id"] for doc in response.json()["data"]["songs"]]

    return {
        "GET /songs/home": home,
        "GET /songs/search": search,
        "GET /songs/likedSongs": liked,
        "GET /users/watchHistory": history,
        "GET /songs/:id": one,
        "POST /songs/:id (play)": play,
        "GET /songs/:id/waveform": waveform,
        "POST /songs/:id/like": like,
        "GET /comments/:songId/comments": comments,
        "POST /comments/:songId": comment,
        "GET /playlist/get/:id": playlist,
        "GET /playlist/getPublicPlaylist": playlists,
        "GET /users/:id/content": content,
        "GET /users/get/:id": profile,
    }


def file_routes(scene: SongScene) -> dict[str, Callable[[httpx.AsyncClient], Awaitable[bool]]]:
    """The song's files by the links its answer gave: followed by anyone holding them."""
    links = {
        "GET /songs/:id/stream": scene.song["songFile"],
        "GET /media/.../songs/... (original)": scene.song["renditions"][0]["url"],
        "GET /media/covers/...": scene.song["thumbnail"],
    }

    def fetch(url: str) -> Callable[[httpx.AsyncClient], Awaitable[bool]]:
        async def shows(client: httpx.AsyncClient) -> bool:
            return await _found_or_404(await client.get(url))

        return shows

    return {name: fetch(url) for name, url in links.items()}


@pytest.fixture
async def scene(harness: Harness) -> SongScene:
    owner, fan = await artist(harness, "owner"), await artist(harness, "fan")
    song = await uploaded(owner, title="Midnight anthem")
    await harness.settle()
    song_id = song["_id"]
    # The fan likes it, plays it, puts it in a public playlist and comments on it.
    assert (await fan.client.post(f"{SONGS}/{song_id}/like", headers=fan.auth)).is_success
    assert (await fan.client.post(f"{SONGS}/{song_id}", headers=fan.auth)).is_success
    playlist = await created(fan, "Night drive", songs=[song_id])
    await commented(fan, song_id, "Lovely")
    # The answer's links, signed once processing is done.
    song = await _data(owner, f"{SONGS}/{song_id}")
    return SongScene(harness, owner, fan, song, playlist["_id"])


async def _seen(scene: SongScene, who: Artist) -> dict[str, bool]:
    return {name: await shows(who) for name, shows in song_routes(scene).items()}


async def _files_seen(scene: SongScene, client: httpx.AsyncClient) -> dict[str, bool]:
    return {name: await shows(client) for name, shows in file_routes(scene).items()}


def _everywhere(seen: dict[str, bool]) -> set[str]:
    return {name for name, shown in seen.items() if shown}


async def _everything_shows(scene: SongScene) -> None:
    everything = set(song_routes(scene))
    assert _everywhere(await _seen(scene, scene.fan)) == everything
    stranger = scene.harness.client()
    assert _everywhere(await _files_seen(scene, stranger)) == set(file_routes(scene))


# Routes that show the owner their own song whatever a moderator did; the rest show the
# catalogue (the same for everyone) or what the owner themselves liked, played or listed.
OWNER_SEES = {"GET /songs/:id", "POST /songs/:id (play)", "GET /songs/:id/waveform"}


async def test_a_song_taken_down_is_gone_for_all_but_its_owner(scene: SongScene) -> None:
    harness, song_id = scene.harness, scene.song_id
    await _everything_shows(scene)

    await _set(harness, "songs", "taken_down_at", song_id, True)
    await harness.sql(
        "UPDATE songs SET takedown_reason = 'Copyright claim' WHERE id = :id",
        id=_db_id(harness, song_id),
    )
    # The owner's profile is there, without the song.
    assert _everywhere(await _seen(scene, scene.fan)) == set()
    assert _everywhere(await _files_seen(scene, harness.client())) == set()

    # Its owner sees it, with why.
    mine = await _data(scene.owner, f"{SONGS}/{song_id}")
    assert mine["status"] == "taken_down" and mine["takedownReason"] == "Copyright claim"
    assert _everywhere(await _seen(scene, scene.owner)) >= OWNER_SEES
    own = await _data(scene.owner, f"{SONGS}/userSongs")
    assert _in_page(own, song_id, _id)
    (listed,) = own["docs"]
    assert listed["status"] == "taken_down"
    # Their player follows the links with their login (the web player's cookie).
    player = harness.client()
    player.cookies.set("accessToken", scene.owner.auth["Authorization"].split()[1])
    assert _everywhere(await _files_seen(scene, player)) == set(file_routes(scene))

    # Restored: back everywhere, as it was.
    await _set(harness, "songs", "taken_down_at", song_id, False)
    await _everything_shows(scene)
    again = await _data(scene.fan, f"{SONGS}/{song_id}")
    assert again["status"] == "ready" and again["takedownReason"] is None


async def test_a_banned_users_songs_are_gone_and_back_after_unban(scene: SongScene) -> None:
    harness = scene.harness
    await _everything_shows(scene)

    await _set(harness, "users", "banned_at", scene.owner.id, True)
    assert _everywhere(await _seen(scene, scene.fan)) == set()
    assert _everywhere(await _files_seen(scene, harness.client())) == set()
    # Not found as a person either.
    users = (await _data(scene.fan, f"{SONGS}/search", q="owner"))["users"]["docs"]
    assert scene.owner.id not in [doc["_id"] for doc in users]

    await _set(harness, "users", "banned_at", scene.owner.id, False)
    await _everything_shows(scene)


# --- playlists -------------------------------------------------------------------------


def playlist_routes(owner: Artist, playlist_id: str) -> dict[str, Shows]:
    """Every route that lists or answers the playlist."""

    async def public(who: Artist) -> bool:
        return _in_page(await _data(who, f"{PLAYLIST}/getPublicPlaylist"), playlist_id, _id)

    async def search(who: Artist) -> bool:
        page = (await _data(who, f"{SONGS}/search", q="Sunday coffee"))["playlists"]
        return _in_page(page, playlist_id, _id)

    async def one(who: Artist) -> bool:
        path = f"{PLAYLIST}/get/{playlist_id}"
        return await _found_or_404(await who.client.get(path, headers=who.auth))

    async def content(who: Artist) -> bool:
        response = await who.client.get(f"{USERS}/{owner.id}/content", headers=who.auth)
        if not await _found_or_404(response):
            return False
        return playlist_id in [doc["_id"] for doc in response.json()["data"]["playlists"]]

    async def mine(who: Artist) -> bool:
        if who is not owner:
            return False  # the owner's own list: nobody else's to see
        return _in_page(await _data(who, f"{PLAYLIST}/get"), playlist_id, _id)

    return {
        "GET /playlist/getPublicPlaylist": public,
        "GET /songs/search (playlists)": search,
        "GET /playlist/get/:id": one,
        "GET /users/:id/content": content,
        "GET /playlist/get": mine,
    }


@pytest.mark.parametrize("how", ["hidden", "banned"])
async def test_a_hidden_or_banned_users_playlist_is_gone_for_all_but_its_owner(
    harness: Harness, how: str
) -> None:
    owner, fan = await artist(harness, "owner"), await artist(harness, "fan")
    playlist_id = (await created(owner, "Sunday Coffee"))["_id"]
    routes = playlist_routes(owner, playlist_id)

    async def seen(who: Artist) -> set[str]:
        return {name for name, shows in routes.items() if await shows(who)}

    everyone = set(routes) - {"GET /playlist/get"}
    assert await seen(fan) == everyone
    if how == "hidden":
        await _set(harness, "playlists", "hidden_at", playlist_id, True)
    else:
        await _set(harness, "users", "banned_at", owner.id, True)
    assert await seen(fan) == set()
    if how == "hidden":
        # Its owner still has it, on their own lists (not in search, which is for what
        # everyone may see).
        assert await seen(owner) == set(routes) - {
            "GET /playlist/getPublicPlaylist",
            "GET /songs/search (playlists)",
        }

    if how == "hidden":
        await _set(harness, "playlists", "hidden_at", playlist_id, False)
    else:
        await _set(harness, "users", "banned_at", owner.id, False)
    assert await seen(fan) == everyone


# --- comments --------------------------------------------------------------------------


async def test_a_banned_authors_comments_are_gone_for_everyone_else(harness: Harness) -> None:
    owner, fan, troll = [await artist(harness, name) for name in ("owner", "fan", "troll")]
    song = await uploaded(owner, title="A song")
    await harness.settle()
    song_id = song["_id"]
    kind = await commented(fan, song_id, "Lovely")
    rude = await commented(troll, song_id, "Meh")
    # A reply beneath the troll's comment goes with it; the troll's reply to the fan too.
    below = await commented(fan, song_id, "Be nice", parent=rude["_id"])
    await commented(troll, song_id, "No", parent=kind["_id"])

    async def listing(who: Artist) -> tuple[set[str], int, dict[str, int]]:
        """The ids listed (replies nested), ``totalDocs``, each top-level's replyCount."""
        data = await _data(who, f"{COMMENTS}/{song_id}/comments")
        ids: set[str] = set()
        stack = list(data["docs"])
        while stack:
            doc = stack.pop()
            ids.add(doc["_id"])
            stack.extend(doc.get("replies") or [])
        counts = {doc["_id"]: doc["replyCount"] for doc in data["docs"]}
        return ids, data["totalDocs"], counts

    async def thread(who: Artist, root: str) -> tuple[int, int]:
        response = await who.client.get(f"{COMMENTS}/{root}/replies", headers=who.auth)
        if response.status_code == 404:
            return -1, -1
        data = response.json()["data"]
        assert response.status_code == 200, data
        return len(data["docs"]), data["totalDocs"]

    for who in (fan, owner):
        ids, total, counts = await listing(who)
        assert rude["_id"] in ids and below["_id"] in ids and total == 2
        assert counts[kind["_id"]] == 1 and await thread(who, kind["_id"]) == (1, 1)

    await _set(harness, "users", "banned_at", troll.id, True)
    for who in (fan, owner):
        ids, total, counts = await listing(who)
        assert ids == {kind["_id"]} and total == 1 and counts == {kind["_id"]: 0}
        assert await thread(who, kind["_id"]) == (0, 0)
        # The troll's thread is gone with them, and their comment 404 to like or reply to.
        assert await thread(who, rude["_id"]) == (-1, -1)
        liked = await who.client.post(f"{COMMENTS}/{rude['_id']}/like", json={}, headers=who.auth)
        assert liked.status_code == 404, liked.text

    await _set(harness, "users", "banned_at", troll.id, False)
    for who in (fan, owner):
        ids, total, _ = await listing(who)
        assert rude["_id"] in ids and below["_id"] in ids and total == 2
