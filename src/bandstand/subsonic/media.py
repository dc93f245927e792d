"""Media: ``stream``, ``download``, ``getCoverArt``, ``getLyrics`` and
``getLyricsBySongId``.

Files are sent as the REST API's media routes send them (``media.delivery.deliver``): a
presigned redirect from an object store, an ``X-Accel-Redirect`` for the proxy when
offloading, and only on the embedded setup the bytes themselves (with Range). The bytes
of a song never pass through Python in production. What is sent is what the caller may
see: a song through ``repository.song_rows`` (a song taken down, or a banned artist's,
is error 70 to all but its owner, as on the REST API), a cover through what it pictures,
and never a cover the proxy withholds (``songs.repository.cover_hidden``).

A stream counts no play: apps say what they played with ``scrobble``, and a stream may
be a prefetch, a seek or a second device.

Renditions: a song is stored as uploaded (the original) and, once processed, as AAC at
160 kbit/s in one file (``progressive_key``); its other bit rates are HLS segments, which
no Subsonic app asks for. ``stream`` serves the original unless ``maxBitRate`` or
``format`` asks for something else: ``format=raw`` is always the original; a
``maxBitRate`` keeps the files that fit it (else the smallest there is: a data plan
matters more than a container), then a ``format`` one of those is in picks it; of what
is left, the original comes first (a rendition is never better than its source).
Nothing is transcoded on request; a song still processing streams its original.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from bandstand.media.audio import FORMATS
from bandstand.media.delivery import RangeNotSatisfiableError, deliver
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import CONTENT_TYPES
from bandstand.media.processing import BITRATES
from bandstand.songs import repository as songs
from bandstand.subsonic import annotating, mapping
from bandstand.subsonic import repository as repo
from bandstand.subsonic.errors import NotFound
from bandstand.subsonic.mapping import Kind
from bandstand.subsonic.registry import Call, extension, method
from bandstand.subsonic.render import Payload

# getLyricsBySongId (answered: Bandstand keeps no lyrics, so the list is empty).
extension("songLyrics", 1)

# As the REST stream route caches a song's bytes.
AUDIO_CACHE = "private, max-age=3600"
# A cover is shown to whoever may see what it pictures: kept by the app, not by proxies.
COVER_CACHE = "private, max-age=86400"
# The progressive rendition (``media/processing.py``): AAC at the highest HLS bit rate.
PROGRESSIVE_KBPS = max(BITRATES) // 1000
_AAC_NAMES = frozenset({"aac", "m4a", "mp4"})
# What a download's file name may hold as plain ASCII (the rest goes in ``filename*``).
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9 ._()\[\]&,+-]")
MAX_LYRICS_QUERY = 500


@dataclass(frozen=True, slots=True)
class File:
    """A stored file of a song, as ``stream`` may choose it."""

    key: str
    content_type: str
    # Its bit rate in kbit/s, as apps count (None when unknown).
    kbps: int | None
    # The ``format`` names it answers to: its container's extension, its codec.
    names: frozenset[str]


def files(song: Any) -> list[File]:
    """The song's files an app may be sent, the original first."""
    fmt = FORMATS.get(song.audio_format)
    original = File(
        song.audio_key,
        fmt.content_type if fmt else "application/octet-stream",
        round(song.bitrate / 1000) if song.bitrate else None,
        frozenset({song.audio_format.lower(), song.codec.lower()}),
    )
    if not song.progressive_key:
        return [original]
    aac = File(song.progressive_key, CONTENT_TYPES["m4a"], PROGRESSIVE_KBPS, _AAC_NAMES)
    return [original, aac]


def choose(song: Any, max_kbps: int, fmt: str | None) -> File:
    """The file ``stream`` sends for ``maxBitRate`` (0: no limit) and ``format``."""
    found = files(song)
    if fmt == "raw":
        return found[0]
    if max_kbps > 0:
        fitting = [file for file in found if file.kbps is not None and file.kbps <= max_kbps]
        found = fitting or [min(found, key=lambda file: file.kbps or 1 << 30)]
    if fmt:
        found = [file for file in found if fmt in file.names] or found
    return found[0]


async def _song(call: Call) -> Any:
    """The song the ``id`` names (its files, ``repository.song_file``), if the caller may
    hear it; else error 70."""
    ref = mapping.parse_id(call.params.required("id"))
    if ref is None or ref.kind is not Kind.SONG:
        raise NotFound("Song not found.")
    found = await repo.song_file(call.session, call.me.user_id, ref.id)
    if found is None:
        raise NotFound("Song not found.")
    return found


async def _deliver(
    call: Call, key: str, content_type: str, cache: str, headers: dict[str, str] | None = None
) -> Response:
    """A stored file as ``deliver`` sends it. A range past the end is answered as HTTP
    answers it (416 with the size), which players act on; a Subsonic error they would
    take for audio."""
    try:
        response = await deliver(
            call.parts.storage, call.settings, key, content_type, call.request, cache
        )
    except RangeNotSatisfiableError as exc:
        return Response(status_code=416, headers=exc.headers)
    response.headers.update(headers or {})
    return response


@method("stream")
async def stream(call: Call) -> Response:
    """The song's audio with HTTP Range: the original, or the rendition ``maxBitRate``
    and ``format`` choose. ``timeOffset`` and ``estimateContentLength`` are for
    transcoding servers: every file here is sent whole, with its real length."""
    max_kbps = call.params.integer("maxBitRate", 0, minimum=0, maximum=100_000) or 0
    fmt = call.params.text("format", max_length=16)
    song = await _song(call)
    chosen = choose(song, max_kbps, fmt.strip().lower() if fmt else None)
    return await _deliver(call, chosen.key, chosen.content_type, AUDIO_CACHE)


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the file as ``name`` (RFC 6266: a plain ASCII
    name for old clients, the exact one in UTF-8 for the rest)."""
    plain = _UNSAFE_IN_NAME.sub("_", name).strip() or "song"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


@method("download")
async def download(call: Call) -> Response:
    """The original file as uploaded, to keep: named ``<artist> - <title>.<ext>``."""
    song = await _song(call)
    fmt = FORMATS.get(song.audio_format)
    artist = song.owner_fullname or song.owner_username
    name = f"{artist} - {song.title}.{fmt.extension if fmt else song.audio_format}"
    content_type = fmt.content_type if fmt else "application/octet-stream"
    disposition = {"Content-Disposition": attachment(name.replace("/", "_"))}
    return await _deliver(call, song.audio_key, content_type, AUDIO_CACHE, disposition)


def sized(key: str, size: int | None) -> str:
    """The stored file of the cover at ``key`` (its largest size) for ``size`` pixels: the
    smallest stored size at least that large (an app scales down, never up), else the
    largest. A picture stored in one size (an avatar, an old cover) is that one."""
    if size is None or not key.startswith("covers/") or key.count("/") != 2:
        return key
    larger = [pixels for pixels in COVER_SIZES if pixels >= size]
    return f"{key.rsplit('/', 1)[0]}/{min(larger) if larger else max(COVER_SIZES)}.webp"


@method("getCoverArt")
async def get_cover_art(call: Call) -> Response:
    """Any ``coverArt`` this API shows (a song's, an album's, an artist's avatar, a
    playlist's), if the caller may see what it pictures; ``size`` picks the nearest
    stored size."""
    ref = mapping.parse_cover_art(call.params.required("id"))
    size = call.params.integer("size", minimum=1, maximum=100_000)
    if ref is None:
        raise NotFound("Cover art not found.")
    me = call.me.user_id
    key: str | None
    if ref.kind is Kind.PLAYLIST:
        found = await annotating.playlist(call.session, me, ref.id)
        key = found.cover_key if found is not None else None
    else:
        key = await repo.cover_key(call.session, me, ref)
    # The check the proxy and ``/media`` make of a song's cover, whatever named it.
    if key is None or await songs.cover_hidden(call.session, [key], me):
        raise NotFound("Cover art not found.")
    key = sized(key, size)
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return await _deliver(call, key, content_type, COVER_CACHE)


@method("getLyrics")
async def get_lyrics(call: Call) -> Payload:
    """Bandstand keeps no lyrics: an empty ``lyrics``, as for a song that has none."""
    call.params.text("artist", max_length=MAX_LYRICS_QUERY)
    call.params.text("title", max_length=MAX_LYRICS_QUERY)
    return {"lyrics": {"value": ""}}


@method("getLyricsBySongId")
async def get_lyrics_by_song_id(call: Call) -> Payload:
    """OpenSubsonic's ``songLyrics``: the song's lyrics, none (error 70 for a song the
    caller may not see, as everywhere)."""
    await _song(call)
    return {"lyricsList": {"structuredLyrics": []}}
