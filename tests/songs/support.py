"""What the songs tests share: an artist who can log in, uploads, and the envelope checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.audio import tone
from tests.conftest import Harness, bearer
from tests.images import png_bytes

SONGS = "/api/v1/songs"
UPLOAD = f"{SONGS}/upload"
FILENAMES = {
    "mp3": ("song.mp3", "audio/mpeg"),
    "wav": ("song.wav", "audio/wav"),
    "flac": ("song.flac", "audio/flac"),
    "ogg": ("song.ogg", "audio/ogg"),
    "opus": ("song.opus", "audio/ogg"),
    "m4a": ("song.m4a", "audio/mp4"),
    "aac": ("song.aac", "audio/aac"),
}


@dataclass
class Artist:
    user: dict[str, Any]
    auth: dict[str, str]
    client: httpx.AsyncClient

    @property
    def id(self) -> str:
        return str(self.user["_id"])


async def artist(harness: Harness, username: str = "janedoe") -> Artist:
    """A signed-up, logged-in user with a client of their own."""
    email = f"{username}@example.com"
    user = await harness.sign_up(email_address=email, username=username)
    client = harness.client()
    tokens = await harness.log_in(client, email)
    client.cookies.clear()
    return Artist(user=user, auth=bearer(tokens["accessToken"]), client=client)


async def upload(
    who: Artist,
    audio: bytes | None = None,
    *,
    fmt: str = "mp3",
    thumbnail: bytes | None = None,
    files: dict[str, Any] | None = None,
    **fields: str | None,
) -> httpx.Response:
    """POST an upload; a short mp3 and a PNG cover unless told otherwise."""
    filename, content_type = FILENAMES[fmt]
    parts = files or {
        "songFile": (filename, audio if audio is not None else tone(fmt, 0.5), content_type),
        "thumbnail": (
            "cover.png",
            thumbnail if thumbnail is not None else png_bytes(),
            "image/png",
        ),
    }
    data = {"title": "A song", **fields}
    return await who.client.post(
        UPLOAD, data={k: v for k, v in data.items() if v is not None}, files=parts, headers=who.auth
    )


async def uploaded(who: Artist, audio: bytes | None = None, **fields: Any) -> dict[str, Any]:
    """Upload and return the song, failing the test if the upload was refused."""
    response = await upload(who, audio, **fields)
    assert response.status_code == 201, response.text
    song: dict[str, Any] = response.json()["data"]
    return song


def assert_error(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """A refusal in the envelope: right status, no data, never a stack trace."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    assert set(body) == {"statusCode", "data", "message", "success", "errors"}
    assert body["statusCode"] == response.status_code
    assert body["success"] is False and body["data"] is None
    assert "Traceback" not in response.text
    return body


def error_fields(response: httpx.Response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def song_files(harness: Harness) -> list[Path]:
    """Stored song audio and covers (avatars from sign-up live beside them)."""
    root = harness.settings.media_dir
    return [p for p in harness.media_files() if p.relative_to(root).parts[0] in {"songs", "covers"}]


def scratch_files(harness: Harness) -> list[Path]:
    scratch = harness.settings.data_dir / "tmp"
    return sorted(p for p in scratch.rglob("*") if p.is_file()) if scratch.exists() else []


async def song_count(harness: Harness) -> int:
    rows = await harness.sql("SELECT count(*) FROM songs")
    return int(rows[0][0])


def stream_path(song: dict[str, Any]) -> str:
    """The path and query of a song's signed stream URL (what a player fetches)."""
    url = httpx.URL(song["songFile"])
    return f"{url.path}?{url.query.decode()}"
