"""Marks on disk for the songs whose files the proxy must not send by itself.

In production nginx checks a media link's signature and sends the file from disk without
asking the API (``proxy.py``), so a link signed before a takedown or a ban would play until
it expires (``stream_url_ttl_s``: hours). The folder of a song that only its owner may see
(``songs.repository.listed``) is marked with an empty file of its name under ``withheld/``,
beside ``songs/``, and so is its cover (``cover-<id>``); nginx looks for them before it
sends a song's file or a cover, and if one is there hands the request to the API, which
plays the song to its owner and answers anyone else 404 (``router.py``, and
``system.py`` for covers). The database says which songs are withheld: the marks follow it, written
by a job queued in the transaction that changes it (``moderation/tasks.py``), so a crash
between the commit and the marks loses nothing. On an object store every link is
answered by the API, and no mark is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

MARKS = "withheld"


def folder_of(audio_key: str) -> str:
    """``songs/<folder>/original.<ext>``'s folder."""
    return audio_key.split("/")[1]


def cover_of(cover_key: str) -> str:
    """The mark of a song's cover, ``covers/<id>/<size>.webp`` (or, stored before sizes,
    ``covers/<id>.webp``): ``cover-<id>``."""
    name = cover_key.split("/")[1]
    return "cover-" + name.removesuffix(".webp")


def mark_of(media_dir: Path, folder: str) -> Path:
    return media_dir / MARKS / folder


def _apply(media_dir: Path, withheld: Mapping[str, bool]) -> None:
    (media_dir / MARKS).mkdir(parents=True, exist_ok=True)
    for folder, held in withheld.items():
        mark = mark_of(media_dir, folder)
        if held:
            mark.touch()
        else:
            mark.unlink(missing_ok=True)


async def apply(media_dir: Path, withheld: Mapping[str, bool]) -> None:
    """Mark (True) or unmark (False) each song folder."""
    await asyncio.to_thread(_apply, media_dir, withheld)
