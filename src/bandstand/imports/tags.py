"""What a file's tags say about its place in a catalogue: title, artists, album, track and
disc numbers, year, genre, release type and the embedded picture.

Read with mutagen, for each kind of tag the accepted formats carry: ID3 (MP3, WAV, AAC
and FLAC that carry one), Vorbis comments (FLAC, Ogg Vorbis and Opus) and MP4 atoms
(M4A). A tag that cannot be read is no reason to refuse a file: it reads as no tag, and
the file is named by its file name. Blocking: a thread or a worker process.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen

# mutagen's format modules (``mutagen.id3``, ``.mp4``, ``.flac``) are imported where a file
# is read, as ``mutagen.File`` does: ``mutagen.id3`` alone is a tenth of a second at every
# start of every process, and the API reads tags only when an upload comes in.

# The release types a tag may name (MusicBrainz's "primary type", iTunes' word for them).
KINDS = {"album": "album", "ep": "ep", "single": "single"}
FIRST_YEAR, LAST_YEAR = 1000, 9999
_NUMBER = re.compile(r"\s*(\d{1,4})\s*(?:(?:/|of)\s*(\d{1,4}))?")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# ID3's picture type for the front cover; the one preferred when a file has several.
_FRONT_COVER = 3


@dataclass(frozen=True)
class Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track: int | None = None
    track_total: int | None = None
    disc: int | None = None
    year: int | None = None
    genre: str | None = None
    kind: str | None = None  # album, ep or single, when a tag says so
    picture: bytes | None = None


def read(path: Path) -> Tags:
    """The file's tags, or none if they cannot be read."""
    try:
        found = mutagen.File(str(path))
    except Exception:  # mutagen raises many kinds on odd files; tags are optional
        return Tags()
    if found is None or found.tags is None:
        return Tags()
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    try:
        tags = found.tags
        if isinstance(tags, ID3):
            return _id3(tags)
        if isinstance(tags, MP4Tags):
            return _mp4(tags)
        return _vorbis(tags, getattr(found, "pictures", []))
    except Exception:  # a tag of an odd shape: as good as none
        return Tags()


def number(value: object) -> tuple[int | None, int | None]:
    """``"3/12"`` as (3, 12); ``"03"`` as (3, None); anything else as (None, None)."""
    found = _NUMBER.match(str(value)) if value is not None else None
    if not found:
        return None, None
    first = int(found[1]) or None
    total = int(found[2]) if found[2] else None
    return first, total or None


def year(value: object) -> int | None:
    """The year a date tag names (``2019``, ``2019-05-01``, ``2019/2020``: its first)."""
    found = _YEAR.search(str(value)) if value is not None else None
    if not found:
        return None
    year = int(found[1])
    return year if FIRST_YEAR <= year <= LAST_YEAR else None


def _kind(value: object) -> str | None:
    return KINDS.get(str(value).strip().lower()) if value is not None else None


def _text(values: Sequence[Any] | None) -> str | None:
    for value in values or ():
        text = str(value).replace("\x00", " ").strip()
        if text:
            return text
    return None


def _id3(tags: Any) -> Tags:
    def frame(name: str) -> str | None:
        found = tags.getall(name)
        return _text(found[0].text) if found and hasattr(found[0], "text") else None

    def txxx(*names: str) -> str | None:
        for name in names:
            value = frame(f"TXXX:{name}")
            if value:
                return value
        return None

    track, total = number(frame("TRCK"))
    disc, _ = number(frame("TPOS"))
    genres = tags.getall("TCON")
    genre = _text(genres[0].genres) if genres else None
    date = frame("TDRC") or frame("TYER") or frame("TDRL") or frame("TORY")
    pictures = sorted(tags.getall("APIC"), key=lambda p: p.type != _FRONT_COVER)
    return Tags(
        title=frame("TIT2"),
        artist=frame("TPE1"),
        album=frame("TALB"),
        album_artist=frame("TPE2"),
        track=track,
        track_total=total,
        disc=disc,
        year=year(date),
        genre=genre,
        kind=_kind(txxx("MusicBrainz Album Type", "RELEASETYPE", "releasetype")),
        picture=bytes(pictures[0].data) if pictures and pictures[0].data else None,
    )


def _mp4(tags: Any) -> Tags:
    def first(name: str) -> Any:
        values = tags.get(name)
        return values[0] if values else None

    track = first("trkn")
    disc = first("disk")
    covers = tags.get("covr") or []
    kind = first("----:com.apple.iTunes:MusicBrainz Album Type")
    return Tags(
        title=_text(tags.get("\xa9nam")),
        artist=_text(tags.get("\xa9ART")),
        album=_text(tags.get("\xa9alb")),
        album_artist=_text(tags.get("aART")),
        track=(track[0] or None) if track else None,
        track_total=(track[1] or None) if track else None,
        disc=(disc[0] or None) if disc else None,
        year=year(first("\xa9day")),
        genre=_text(tags.get("\xa9gen")),
        kind=_kind(bytes(kind).decode("utf-8", "replace") if kind is not None else None),
        picture=bytes(covers[0]) if covers else None,
    )


def _vorbis(tags: Any, pictures: Sequence[Any]) -> Tags:
    def first(*names: str) -> str | None:
        for name in names:
            value = _text(tags.get(name))
            if value:
                return value
        return None

    track, total = number(first("tracknumber", "track"))
    total = total or number(first("tracktotal", "totaltracks"))[0]
    disc, _ = number(first("discnumber", "disc"))
    return Tags(
        title=first("title"),
        artist=first("artist"),
        album=first("album"),
        album_artist=first("albumartist", "album artist", "album_artist"),
        track=track,
        track_total=total,
        disc=disc,
        year=year(first("date", "year", "originaldate")),
        genre=first("genre"),
        kind=_kind(first("releasetype", "musicbrainz_albumtype")),
        picture=_vorbis_picture(pictures, lambda: tags.get("metadata_block_picture")),
    )


def _vorbis_picture(pictures: Sequence[Any], encoded: Callable[[], Any]) -> bytes | None:
    """FLAC keeps pictures in blocks of their own; Ogg, as a base64 comment."""
    from mutagen.flac import Picture

    picture: Any = Picture  # mutagen is untyped
    found = list(pictures)
    for value in encoded() or ():
        with contextlib.suppress(Exception):  # a comment that is not a picture: skipped
            found.append(picture(base64.b64decode(value)))
    found.sort(key=lambda p: p.type != _FRONT_COVER)
    return bytes(found[0].data) if found and found[0].data else None
