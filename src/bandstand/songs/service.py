"""Song rules: what an upload must be, who may change what, and what a delete removes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.comments.recent import Recent
from bandstand.config import Settings
from bandstand.db import after_commit, on_rollback
from bandstand.engagement.counters import Counters
from bandstand.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.cursors import decode_id, encode_id
from bandstand.kit.ids import new_hex, new_id
from bandstand.kit.time import utcnow
from bandstand.media.audio import (
    AudioInfo,
    AudioLimits,
    AudioTags,
    InvalidAudio,
    UnsupportedAudio,
    probe,
    read_tags,
)
from bandstand.media.images import COVER_SIZES, InvalidImage, square_webps
from bandstand.models import Song, SongStatus, User
from bandstand.observability.metrics import on_commit
from bandstand.songs import quota
from bandstand.songs import repository as repo
from bandstand.songs.admission import admit, claim
from bandstand.songs.cards import SongCard, read_cards
from bandstand.songs.quota import Usage
from bandstand.songs.renditions import delete_files as delete_stored
from bandstand.songs.renditions import folder_of
from bandstand.songs.schemas import CONTROL, SongUpdate, lines, one_line
from bandstand.storage import Storage, new_key
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)
MAX_TITLE, MAX_DESCRIPTION, MAX_GENRE, MAX_ARTIST = 200, 5000, 100, 200
# Checking a file decodes all of it: uploads get threads of their own, so a burst of them
# queues here instead of starving password checks and file I/O in the default pool.
_CHECKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audio-check")


@dataclass(frozen=True)
class UploadForm:
    title: str | None
    description: str | None
    genre: str | None


@dataclass(frozen=True)
class Page:
    """A page of songs as the one reader gives them (``cards.read_cards``)."""

    songs: Sequence[SongCard]
    total: int
    next_cursor: str | None
    by_cursor: bool


def cover_folder(key: str) -> str:
    """``covers/<id>/`` for ``covers/<id>/640.webp``; a cover stored before sizes existed
    (``covers/<id>.webp``) is its own family."""
    return folder_of(key) if key.count("/") == 2 else key


def _field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The audio file is larger than {limit // (1024 * 1024)} MB.",
        errors=[_field_error("songFile", "File too large.")],
    )


def _empty() -> BadRequest:
    return BadRequest("The audio file is empty.", errors=[_field_error("songFile", "Empty.")])


def _spool(source: BinaryIO, target: Path, limit: int) -> tuple[int, str]:
    """Copy an upload to a file of our own, refusing it once it passes ``limit`` bytes;
    its size and SHA-256."""
    written = 0
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > limit:
                raise too_large(limit)
            digest.update(chunk)
            out.write(chunk)
    return written, digest.hexdigest()


@asynccontextmanager
async def spooled(settings: Settings, source: BinaryIO) -> AsyncIterator[tuple[Path, str]]:
    """The upload as a scratch file of our own, with its SHA-256; gone afterwards,
    whatever happened."""
    scratch = settings.scratch_dir
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    path = scratch / f"{new_hex()}.upload"
    try:
        size, digest = await asyncio.to_thread(_spool, source, path, settings.audio_max_bytes)
        if size == 0:
            raise _empty()
        yield path, digest
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


@dataclass(frozen=True)
class Checked:
    """An audio file that passed the checks every song's file passes, uploaded or
    imported: what FFmpeg and its tags say of it, its size and its SHA-256 (hex)."""

    info: AudioInfo
    tags: AudioTags
    size: int
    content_hash: str


def file_hash(path: Path) -> str:
    """SHA-256 of the file, hex: how an import knows a file its owner already has."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(
    path: Path,
    limits: AudioLimits,
    max_bytes: int,
    content_hash: str | None = None,
    *,
    tags: bool = True,
) -> Checked:
    """Whether the file at ``path`` may be a song, as an upload is judged: 413 past
    ``max_bytes``, 400 if empty, 415 if it is not audio we take, 400 if it does not decode
    whole or asks more of FFmpeg than ``limits`` allow. Blocking (it decodes the whole
    file): a thread, or a process of its own. ``content_hash`` if the caller has it;
    without ``tags``, the tags are left unread (the caller reads them its own way)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise too_large(max_bytes)
        if size == 0:
            raise _empty()
        info = probe(path, limits)
        content_hash = content_hash or file_hash(path)
    except UnsupportedAudio as exc:
        raise UnsupportedMediaType(str(exc), errors=[_field_error("songFile", str(exc))]) from exc
    except InvalidAudio as exc:
        raise BadRequest(str(exc), errors=[_field_error("songFile", str(exc))]) from exc
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        # The file's own fault (gone, not ours to read), not the machine's (a full disk).
        raise BadRequest(
            "The file could not be read.", errors=[_field_error("songFile", "Unreadable.")]
        ) from exc
    found = read_tags(path) if tags else AudioTags()
    return Checked(info, found, size, content_hash)


async def check(path: Path, settings: Settings, content_hash: str) -> Checked:
    """``check_file`` on the checking threads, with the limits of ``settings``."""
    loop = asyncio.get_running_loop()
    limits = AudioLimits.of(settings)
    return await loop.run_in_executor(
        _CHECKERS, check_file, path, limits, settings.audio_max_bytes, content_hash
    )


def _clean(
    value: str | None, limit: int, field: str, check: Callable[[str], str] = one_line
) -> str | None:
    """A form field as typed, stripped; blank means not given."""
    if value is None:
        return None
    value = value.strip()
    problem = f"At most {limit} characters." if len(value) > limit else None
    try:
        check(value)
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise BadRequest("Invalid input.", errors=[_field_error(field, problem)])
    return value or None


def from_tag(value: str | None, limit: int) -> str | None:
    # Nobody typed a tag, so an odd one is tidied rather than refused: control characters
    # (tags use NUL between values) become spaces, and an overlong one is cut.
    tidy = CONTROL.sub(" ", value or "").strip()[:limit].strip()
    return tidy or None


async def store_cover(session: AsyncSession, storage: Storage, data: bytes, max_bytes: int) -> str:
    """Check, re-encode and store cover art of at most ``max_bytes``; removed again if the
    request fails."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The thumbnail is larger than {max_bytes // (1024 * 1024)} MB.",
            errors=[_field_error("thumbnail", "File too large.")],
        )
    if not data:
        raise BadRequest("The thumbnail is empty.", errors=[_field_error("thumbnail", "Empty.")])
    try:
        encoded = await square_webps(data, COVER_SIZES)
    except InvalidImage as exc:
        raise UnsupportedMediaType(str(exc), errors=[_field_error("thumbnail", str(exc))]) from exc
    return await store_cover_files(session, storage, encoded)


async def store_cover_files(
    session: AsyncSession, storage: Storage, encoded: Mapping[int, bytes]
) -> str:
    """Store a cover already re-encoded (``media.images.cover_sizes``: a WebP per size)
    in a folder of its own; removed again if the transaction does not commit. The key
    of its largest size, which a song or a release keeps."""
    # One folder per cover, a file per size; the song points at the largest.
    key = new_key("covers", "webp", str(max(encoded)))
    folder = cover_folder(key)
    on_rollback(session, lambda: delete_stored(storage, [folder]))
    await asyncio.gather(
        *(
            storage.put(f"{folder}{size}.webp", image, "image/webp")
            for size, image in encoded.items()
        )
    )
    return key


async def store_original(
    session: AsyncSession, storage: Storage, path: Path, info: AudioInfo
) -> str:
    """Store a checked file as a new song's original, under a generated name; removed
    again if the transaction does not commit."""
    audio_key = new_key("songs", info.extension, "original")
    on_rollback(session, lambda: storage.delete(audio_key))
    await storage.put_file(audio_key, path, info.content_type)
    return audio_key


@dataclass(frozen=True)
class NewSong:
    """A checked file, stored with its cover, and what to call it: a song about to be
    added (``add_songs``), whether it came by upload or import."""

    checked: Checked
    audio_key: str
    thumbnail_key: str
    title: str
    description: str = ""
    genre: str | None = None
    artist: str | None = None  # None: the owner's name


async def add_songs(
    session: AsyncSession,
    queue: Queue,
    catalogue: RecentAnswers,
    owner: User,
    songs: Sequence[NewSong],
) -> list[Song]:
    """Add songs whose files are stored and whose quota is claimed (``admission``):
    rows, processing, in the catalogue's count, each queued for processing once the
    transaction commits."""
    added = []
    for new in songs:
        info = new.checked.info
        song = Song(
            id=new_id(),
            owner_id=owner.id,
            title=new.title,
            description=new.description,
            genre=new.genre,
            artist=new.artist or owner.fullname,
            duration=info.duration,
            codec=info.codec,
            sample_rate=info.sample_rate,
            channels=info.channels,
            bitrate=info.bitrate,
            audio_key=new.audio_key,
            audio_format=info.format,
            audio_size=new.checked.size,
            content_hash=new.checked.content_hash,
            thumbnail_key=new.thumbnail_key,
            status=SongStatus.PROCESSING,
            views=0,
            like_count=0,
            comment_count=0,
        )
        song.owner = owner
        added.append(song)
    if not added:
        return added
    session.add_all(added)
    await repo.add_to_catalogue(session, len(added))
    await session.flush()
    after_commit(session, catalogue.clear)
    after_commit(session, on_commit("upload", len(added)))
    for song in added:
        queue.enqueue_after_commit(session, "songs.process", str(song.id))
    return added


async def upload(
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    queue: Queue,
    catalogue: RecentAnswers,
    owner: User,
    form: UploadForm,
    audio: BinaryIO,
    cover: bytes,
) -> tuple[Song, Usage]:
    """Accept a song only if it fits the owner's quota (checked first, so a refused
    upload stores nothing) and its bytes are audio FFmpeg decodes whole; describe it from
    FFmpeg and its tags; store the original and the cover under generated names. Answers
    the song and the owner's quota with it counted."""
    title = _clean(form.title, MAX_TITLE, "title")
    description = _clean(form.description, MAX_DESCRIPTION, "description", lines) or ""
    genre = _clean(form.genre, MAX_GENRE, "genre")
    # The upload is already a file (spooled by the form parser): its size is one seek.
    await admit(session, settings, owner.id, audio.seek(0, os.SEEK_END))
    audio.seek(0)
    async with spooled(settings, audio) as (path, digest):
        checked = await check(path, settings, digest)
        tags = checked.tags
        title = title or from_tag(tags.title, MAX_TITLE)
        if not title:
            raise BadRequest(
                "Invalid input.", errors=[_field_error("title", "This field is required.")]
            )
        cover_key = await store_cover(session, storage, cover, settings.image_max_bytes)
        audio_key = await store_original(session, storage, path, checked.info)

    # Decided now, with the owner's uploads one at a time (a refusal removes what was
    # stored above, with the transaction).
    quota = await claim(session, settings, owner.id, checked.size)
    new = NewSong(
        checked=checked,
        audio_key=audio_key,
        thumbnail_key=cover_key,
        title=title,
        description=description,
        genre=genre or from_tag(tags.genre, MAX_GENRE),
        artist=from_tag(tags.artist, MAX_ARTIST),
    )
    (song,) = await add_songs(session, queue, catalogue, owner, [new])
    info = checked.info
    log.info("song_uploaded", song_id=str(song.id), format=info.format, duration=info.duration)
    return song, quota


async def update(
    session: AsyncSession, catalogue: RecentAnswers, song: Song, data: SongUpdate
) -> Song:
    """Change title, description or genre — nothing else can be written here."""
    if data.title is not None:
        song.title = data.title
    if data.description is not None:
        song.description = data.description
    if data.genre is not None:
        song.genre = data.genre or None
    song.updated_at = utcnow()
    await session.flush()
    after_commit(session, catalogue.clear)
    return song


async def replace_cover(
    session: AsyncSession,
    storage: Storage,
    queue: Queue,
    catalogue: RecentAnswers,
    song: Song,
    data: bytes,
    max_bytes: int,
) -> Song:
    """New cover art of at most ``max_bytes``; the old file goes once the change commits.
    If another change got there first, this one is refused and its new file removed, so
    none is orphaned."""
    old = song.thumbnail_key
    new = await store_cover(session, storage, data, max_bytes)
    if not await repo.swap_cover(session, song.id, old, new, utcnow()):
        raise Conflict("The song changed meanwhile; try again.")
    queue.enqueue_after_commit(session, "songs.delete_files", [cover_folder(old)])
    after_commit(session, catalogue.clear)
    return song


async def remove(
    session: AsyncSession,
    queue: Queue,
    catalogue: RecentAnswers,
    comment_answers: Recent,
    song: Song,
) -> None:
    """Delete the song's rows in this transaction; its files only after it commits, so a
    failed delete never leaves rows pointing at missing files."""
    # The keys the row holds as it goes, not as it was read: a cover replaced meanwhile
    # is deleted too, and a song someone else deleted first is not counted twice.
    deleted = await repo.delete_song(session, song.id)
    if deleted is None:
        raise NotFound("Song not found.")
    if deleted.listed:
        # A taken-down song, or a banned owner's, left the catalogue's count already.
        await repo.add_to_catalogue(session, -1)
    await quota.give_back(session, deleted.owner_id, deleted.size)
    # The original's folder holds every rendition; the cover's, every size.
    audio_key, cover_key = deleted.keys
    folders = [folder_of(audio_key), cover_folder(cover_key)]
    queue.enqueue_after_commit(session, "songs.delete_files", folders)
    after_commit(session, catalogue.clear)
    after_commit(session, lambda: comment_answers.forget(song.id))
    log.info("song_deleted", song_id=str(song.id))


async def _total(
    session: AsyncSession, owner_id: uuid.UUID | None, viewer_id: uuid.UUID | None
) -> int:
    if owner_id is not None:
        return await repo.count_owned(session, owner_id, viewer_id)
    return await repo.catalogue_size(session)


async def newest_page(
    session: AsyncSession,
    counters: Counters,
    *,
    page: int,
    limit: int,
    cursor: str | None,
    owner_id: uuid.UUID | None = None,
    viewer_id: uuid.UUID | None = None,
) -> Page:
    """A page of songs ``viewer_id`` may see (None: what everyone sees, the catalogue),
    of ``owner_id``'s if given, newest first, by page number or, when given, by
    ``cursor`` (then the page number is ignored and the cost does not grow with depth).
    The catalogue is the same for everyone, owners included: a song taken down is in
    its owner's own list (``owner_id`` and ``viewer_id`` theirs), not in the catalogue."""
    before = decode_id(cursor) if cursor else None
    offset = 0 if before else (page - 1) * limit
    # One more than asked for says whether there is a next page.
    if offset:
        total = await _total(session, owner_id, viewer_id)
        if offset >= total:
            # Past the end: nothing to fetch, and no absurd OFFSET for the database to refuse.
            return Page(songs=[], total=total, next_cursor=None, by_cursor=False)
        rows = await repo.newest(
            session, viewer_id=viewer_id, limit=limit + 1, offset=offset, owner_id=owner_id
        )
    else:
        # The first page, or any page of a scroll by cursor: the songs and the total in one
        # query.
        rows, counted = await repo.newest_with_total(
            session, viewer_id=viewer_id, limit=limit + 1, before=before, owner_id=owner_id
        )
        total = counted if counted is not None else await _total(session, owner_id, viewer_id)
    shown = rows[:limit]
    next_cursor = encode_id(shown[-1].id) if len(rows) > limit else None
    songs = await read_cards(counters, shown)
    return Page(songs=songs, total=total, next_cursor=next_cursor, by_cursor=before is not None)


async def waveform(session: AsyncSession, song: Song) -> list[float]:
    """The song's peaks; 404 until processing has made them (409 would suggest a retry
    helps at once; it does not)."""
    peaks = await repo.waveform(session, song.id)
    if peaks is None:
        raise NotFound(
            "This song has no waveform yet."
            if song.status == SongStatus.PROCESSING
            else "This song has no waveform."
        )
    values: list[float] = json.loads(peaks)
    return values
