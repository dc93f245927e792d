"""What the releases tests share: songs inserted as rows (no audio to process: these
tests are about releases, and uploads have tests of their own), releases made through the
API, and their routes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bandstand.db import transaction
from bandstand.kit.ids import new_hex
from bandstand.models import Song, SongStatus
from tests.conftest import Harness
from tests.songs.support import Artist

RELEASES = "/api/v1/releases"
SONGS = "/api/v1/songs"
RELEASE_FIELDS = {
    "_id",
    "title",
    "kind",
    "year",
    "owner",
    "thumbnail",
    "thumbnails",
    "songCount",
    "duration",
    "songs",
    "createdAt",
    "updatedAt",
}


def one(release_id: str) -> str:
    return f"{RELEASES}/{release_id}"


def songs_of(release_id: str) -> str:
    return f"{RELEASES}/{release_id}/songs"


def order_of(release_id: str) -> str:
    return f"{RELEASES}/{release_id}/order"


def db_id(harness: Harness, ident: str) -> Any:
    """An id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    value = uuid.UUID(ident)
    return value.hex if harness.settings.is_embedded_database else value


async def songs(harness: Harness, owner: Artist, *titles: str) -> list[str]:
    """Ready songs of ``owner``'s, as rows (their files are not needed here), counted in
    the catalogue as an upload would count them; their ids, oldest first."""
    rt = harness.app.state.runtime
    made = []
    async with transaction(rt.sessionmaker) as session:
        for title in titles:
            folder = new_hex()
            song = Song(
                owner_id=uuid.UUID(owner.id),
                title=title,
                duration=61.5,
                codec="mp3",
                sample_rate=44100,
                channels=2,
                bitrate=128000,
                audio_key=f"songs/{folder}/original.mp3",
                audio_format="mp3",
                audio_size=1000,
                thumbnail_key=f"covers/{new_hex()}/640.webp",
                status=SongStatus.READY,
            )
            session.add(song)
            await session.flush()
            made.append(str(song.id))
    await harness.sql("UPDATE counters SET value = value + :n WHERE name = 'songs'", n=len(titles))
    return made


async def create(who: Artist, **body: Any) -> httpx.Response:
    """POST a release as JSON."""
    return await who.client.post(RELEASES, json=body, headers=who.auth)


async def created(who: Artist, title: str = "First light", **body: Any) -> dict[str, Any]:
    response = await create(who, title=title, **{"kind": "album", **body})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def read(who: Artist, release_id: str) -> httpx.Response:
    return await who.client.get(one(release_id), headers=who.auth)


async def song_json(who: Artist, song_id: str) -> dict[str, Any]:
    response = await who.client.get(f"{SONGS}/{song_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def ids(release: dict[str, Any]) -> list[str]:
    return [song["_id"] for song in release["songs"]]


def tracks(release: dict[str, Any]) -> list[int]:
    return [song["release"]["track"] for song in release["songs"]]
