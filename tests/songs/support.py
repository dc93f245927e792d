"""What the songs tests share: an artist who can log in, uploads, and the envelope checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bandstand.storage.audit import strangers
from tests.audio import tone
from tests.conftest import Harness, bearer
from tests.images import png_bytes

SONGS = "/api/v1/songs"
UPLOAD = f"{SONGS}/upload"
# What every paginated answer carries (CONTRACT.md §2).
PAGE_FIELDS = {
    "docs",
    "page",
    "limit",
    "totalDocs",
    "totalPages",
    "hasNextPage",
    "hasPrevPage",
    "nextCursor",
}
FILENAMES = {
    "mp3": ("song.mp3", "audio/mpeg"),
    "wav": ("song.wav", "audio/wav"),
    "flac": ("song.flac", "audio/flac"),
    "ogg": ("song.ogg", "audio/ogg"),
    "opus": ("song.opus", "audio/ogg"),
    "m4a": ("song.m4a", "audio/mp4"),
    "aac": ("song.aac", "audio/aac"),
}
# A cover is a folder of square WebPs, a file per size; the song points at the largest.
COVER_SIZES = (64, 300, 640)
COVER_FILES = {f"{size}.webp" for size in COVER_SIZES}
# What processing writes beside the original: HLS at two bit rates (a playlist, an init
# segment and media segments each) under a master playlist, and a progressive M4A.
RENDITION_FILES = {
    "master.m3u8",
    "aac64.m3u8",
    "aac64-init.mp4",
    "aac64-00001.m4s",
    "aac160.m3u8",
    "aac160-init.mp4",
    "aac160-00001.m4s",
    "aac160.m4a",
}
_RENDITION = re.compile(r"master\.m3u8|aac160\.m4a|aac(64|160)(\.m3u8|-init\.mp4|-\d{5}\.m4s)")
_COVER_URL = re.compile(r"/media/(covers/[0-9a-f]{32})/640\.webp$")
_ORIGINAL_URL = re.compile(r"/(songs/[0-9a-f]{32})/original\.[a-z0-9]+$")


@dataclass
class Artist:
    user: dict[str, Any]
    auth: dict[str, str]
    client: httpx.AsyncClient

    @property
    def id(self) -> str:
        return str(self.user["_id"])


async def artist(harness: Harness, username: str = "janedoe") -> Artist:
    """A signed-up, logged-in user with a client of their own (rows and tokens made
    directly: the HTTP sign-up and login have tests of their own)."""
    user = await harness.sign_up(email_address=f"{username}@example.com", username=username)
    tokens = await harness.tokens(user)
    return Artist(user=user, auth=bearer(tokens["accessToken"]), client=harness.client())


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


async def song_files(harness: Harness) -> list[Path]:
    """Stored song audio, renditions and covers (avatars from sign-up live beside them),
    once every queued job (processing, deleting) is done."""
    await harness.settle()
    root = harness.settings.media_dir
    return [p for p in harness.media_files() if p.relative_to(root).parts[0] in {"songs", "covers"}]


async def stored_folders(harness: Harness) -> dict[str, set[str]]:
    """Stored songs and covers by folder (``songs/<hex>``, ``covers/<hex>``), each with the
    names of its files, once every queued job is done. Every file must sit in a folder of
    its own song or cover."""
    root = harness.settings.media_dir
    folders: dict[str, set[str]] = {}
    for path in await song_files(harness):
        parts = path.relative_to(root).parts
        assert len(parts) == 3 and re.fullmatch(r"[0-9a-f]{32}", parts[1]), path
        folders.setdefault(f"{parts[0]}/{parts[1]}", set()).add(parts[2])
    return folders


def folders_of(song: dict[str, Any]) -> tuple[str, str]:
    """The song's folder (``songs/<hex>``) and its cover's (``covers/<hex>``), by the links
    the API gave for them."""
    (original,) = [r for r in song["renditions"] if r["kind"] == "original"]
    audio = _ORIGINAL_URL.search(httpx.URL(original["url"]).path)
    cover = _COVER_URL.search(httpx.URL(song["thumbnail"]).path)
    assert audio and cover, song
    return audio[1], cover[1]


def assert_processed(names: set[str], original: str) -> None:
    """A song's folder once processing is done: its original, every rendition, and
    nothing else."""
    assert original in names, names
    assert names >= RENDITION_FILES, names
    assert all(_RENDITION.fullmatch(name) for name in names - {original}), names


async def audit(harness: Harness) -> list[str]:
    """Stored files that no row owns, once every queued job is done."""
    await harness.settle()
    runtime = harness.app.state.runtime
    async with runtime.read_sessionmaker() as session:
        return await strangers(runtime.storage, session)


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
