"""What the playlists tests share: playlists made through the API, read back, and songs
to fill them with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.audio import tone
from tests.conftest import Harness
from tests.images import png_bytes
from tests.songs.support import Artist, uploaded

PLAYLIST = "/api/v1/playlist"
MINE = f"{PLAYLIST}/get"
PUBLIC = f"{PLAYLIST}/getPublicPlaylist"
DELETE = f"{PLAYLIST}/delete"
AUDIO = tone("mp3", 0.3)
PLAYLIST_FIELDS = {
    "_id",
    "playlist_name",
    "description",
    "isPublic",
    "owner",
    "thumbnail",
    "thumbnails",
    "songs",
    "songCount",
    "hiddenReason",
    "createdAt",
    "updatedAt",
}
_COVER_URL = re.compile(r"/media/(covers/[0-9a-f]{32})/640\.webp$")


def one(playlist_id: str) -> str:
    return f"{PLAYLIST}/get/{playlist_id}"


def add_songs(playlist_id: str) -> str:
    return f"{PLAYLIST}/{playlist_id}/addSongs"


def remove_song(playlist_id: str, song_id: str) -> str:
    return f"{PLAYLIST}/{playlist_id}/removeSong/{song_id}"


def update(playlist_id: str) -> str:
    return f"{PLAYLIST}/{playlist_id}/update"


async def create(who: Artist, **body: Any) -> httpx.Response:
    """POST a playlist as JSON."""
    return await who.client.post(f"{PLAYLIST}/", json=body, headers=who.auth)


async def create_with_cover(
    who: Artist, cover: bytes | None = None, filename: str = "cover.png", **fields: Any
) -> httpx.Response:
    """POST a playlist as multipart, with a PNG cover unless told otherwise."""
    files = {"thumbnail": (filename, cover if cover is not None else png_bytes(), "image/png")}
    return await who.client.post(f"{PLAYLIST}/", data=fields, files=files, headers=who.auth)


async def created(who: Artist, name: str = "Road trip", **body: Any) -> dict[str, Any]:
    """Create (JSON) and return the playlist, failing the test if it was refused."""
    response = await create(who, playlist_name=name, **body)
    assert response.status_code == 201, response.text
    playlist: dict[str, Any] = response.json()["data"]
    return playlist


async def fetch(who: Artist, path: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(path, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def delete(who: Artist, playlist_id: str) -> httpx.Response:
    return await who.client.request(
        "DELETE", DELETE, json={"playlistId": playlist_id}, headers=who.auth
    )


async def songs(harness: Harness, who: Artist, count: int, prefix: str = "Song") -> list[str]:
    """Upload ``count`` short songs; their ids in upload order."""
    return [(await uploaded(who, AUDIO, title=f"{prefix} {n}"))["_id"] for n in range(count)]


def song_ids(playlist: dict[str, Any]) -> list[str]:
    """The ids of a playlist's songs, from a list (ids) or from one playlist (songs)."""
    return [s if isinstance(s, str) else s["_id"] for s in playlist["songs"]]


def ids(page: dict[str, Any]) -> list[str]:
    return [doc["_id"] for doc in page["docs"]]


def cover_folder(harness: Harness, playlist: dict[str, Any]) -> Path:
    """Where the playlist's cover files are stored, by the link the API gave."""
    found = _COVER_URL.search(httpx.URL(playlist["thumbnail"]).path)
    assert found, playlist
    return harness.settings.media_dir / found[1]


async def playlist_rows(harness: Harness) -> list[Any]:
    return await harness.sql(
        "SELECT name, description, is_public, owner_id, thumbnail_key FROM playlists ORDER BY id"
    )
