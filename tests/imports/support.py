"""What the import tests share: tagged audio files laid out as a catalogue on disk, and the
import run against a test's app."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, TXXX
from PIL import Image

from bandstand.imports.service import Summary, import_folder
from bandstand.worker.cores import shared
from tests.audio import tone
from tests.conftest import Harness


def jpeg(colour: tuple[int, int, int], size: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="JPEG")
    return out.getvalue()


def mp3(
    path: Path,
    *,
    title: str | None = None,
    artist: str | None = "Jane Doe",
    album: str | None = None,
    album_artist: str | None = None,
    track: str | None = None,
    disc: str | None = None,
    date: str | None = None,
    genre: str | None = None,
    kind: str | None = None,
    picture: bytes | None = None,
    seconds: float = 0.5,
    frequency: float = 440.0,
) -> Path:
    """A tone as MP3 at ``path`` with these ID3 tags. Each distinct set of tags is a file
    of distinct bytes (a content hash of its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tone("mp3", seconds, frequency=frequency))
    tags = ID3()
    for frame, value in (
        (TIT2, title),
        (TPE1, artist),
        (TALB, album),
        (TPE2, album_artist),
        (TRCK, track),
        (TPOS, disc),
        (TDRC, date),
        (TCON, genre),
    ):
        if value is not None:
            tags.add(frame(encoding=3, text=value))
    if kind is not None:
        tags.add(TXXX(encoding=3, desc="MusicBrainz Album Type", text=kind))
    if picture is not None:
        tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=picture))
    tags.save(path)
    return path


def flac(path: Path, picture: bytes | None = None, **comments: str) -> Path:
    """A tone as FLAC at ``path`` with these Vorbis comments (and a picture block)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tone("flac", 0.5))
    tagged = FLAC(path)
    for name, value in comments.items():
        tagged[name] = value
    if picture is not None:
        block = Picture()
        block.type, block.mime, block.data = 3, "image/jpeg", picture
        tagged.add_picture(block)
    tagged.save()
    return path


def album(
    folder: Path, title: str, tracks: int, *, frequency: float = 300.0, **tags: Any
) -> list[Path]:
    """An album's files, written in reverse so the folder's order is not the tracks'."""
    return [
        mp3(
            folder / f"{n:02d}.mp3",
            title=f"{title} {n}",
            album=title,
            track=f"{n}/{tracks}",
            frequency=frequency + 20 * n,
            **tags,
        )
        for n in reversed(range(1, tracks + 1))
    ]


async def run_import(harness: Harness, owner_id: str, folder: Path) -> Summary:
    """The import, as the command runs it, on the test's app."""
    import uuid

    rt = harness.app.state.runtime
    return await import_folder(
        rt.sessionmaker,
        rt.settings,
        rt.storage,
        rt.queue,
        rt.catalogue,
        shared(2),
        uuid.UUID(owner_id),
        folder,
    )
