"""Bringing a catalogue in: a folder of files made songs and releases.

Each file is judged as an upload is (``songs.service.check_file``: its format, its size,
its length, whole decoding) and counted in the owner's quota as an upload is
(``songs.admission``); its original is stored as an upload's is, and it is processed
after the same job. Releases come from the files' tags (``plan.py``), with a cover from
the files, their folder, or made from the title (``covers.py``): every song and every
release has one.

An import is idempotent: a file is known by the SHA-256 of its bytes, and a file its owner
already has is left alone. It commits in batches, so one that is stopped (killed,
interrupted) keeps what it committed, and running it again brings in the rest, onto the
releases it had begun. The command (``cli.py``) and the web app's multi-file upload
(``add_file``, one file per request) share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.config import Settings
from bandstand.db import transaction
from bandstand.errors import Conflict, NotFound
from bandstand.imports import covers, scan
from bandstand.imports import repository as repo
from bandstand.imports import tags as tag_reader
from bandstand.imports.plan import Group, Member, album_folder, album_of, group, kind_for
from bandstand.imports.scan import Examined
from bandstand.imports.tags import Tags
from bandstand.kit.cache import RecentAnswers
from bandstand.media.audio import AudioLimits
from bandstand.models import Release, Song, SongStatus, User
from bandstand.releases.schemas import MAX_TRACKS
from bandstand.releases.service import create_release, place_songs
from bandstand.songs import admission
from bandstand.songs import service as songs
from bandstand.songs.service import MAX_ARTIST, MAX_GENRE, MAX_TITLE, Checked, NewSong, from_tag
from bandstand.storage import Storage
from bandstand.worker.cores import Cores, preload
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)

T = TypeVar("T")
A = TypeVar("A")
# Songs per transaction: few enough that a batch stored and not committed (the import
# stopped) costs little, many enough that commits are not the cost.
BATCH = 50
# Files read, hashed or stored at once (threads: the disk and the store wait, not the CPU).
AT_ONCE = 8
HASH_CHUNK = 25
# Files taken through the pipeline at a time (whole album folders): the first few, so
# that songs start to come in at once, then a couple of albums (the last of them is what
# is left to do once every file is checked).
FIRST_CHUNK, CHUNK = 8, 24

Encoded = dict[int, bytes]
# Files are checked and covers drawn in worker processes (``worker/cores.py``).
preload(scan.__name__, covers.__name__)


class Progress(Protocol):
    """What an import says as it goes: its steps, each with its count (they overlap)."""

    def step(self, name: str, total: int) -> Callable[[int], None]:
        """A new step of ``total`` things; the function it answers counts some done."""
        ...


class _Silent:
    def step(self, name: str, total: int) -> Callable[[int], None]:
        return lambda count: None


@dataclass
class Summary:
    """What an import did with each file of the folder."""

    imported: list[Path] = field(default_factory=list)
    # Files the owner has (or that repeat one earlier in the folder), with a note.
    already_there: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    song_ids: list[uuid.UUID] = field(default_factory=list)
    releases_created: int = 0
    releases_added_to: int = 0


@dataclass
class _Item:
    """A file to bring in: where it goes, and what it looks like."""

    member: Member
    examined: Examined
    group: Group | None
    cover: Encoded | None = None


@dataclass
class _Context:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    storage: Storage
    queue: Queue
    catalogue: RecentAnswers
    cores: Cores
    owner_id: uuid.UUID
    summary: Summary
    pictures: _Pictures | None = None
    # Releases by group key (a release's files may come in more than one batch).
    releases: dict[tuple[str, ...], uuid.UUID] = field(default_factory=dict)
    created: set[uuid.UUID] = field(default_factory=set)  # by this import
    added_to: set[uuid.UUID] = field(default_factory=set)  # the owner's, added to
    # id(group) → its files being brought in (not those already there)
    fresh: dict[int, set[Path]] = field(default_factory=dict)
    group_covers: dict[int, Encoded] = field(default_factory=dict)


async def import_folder(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    storage: Storage,
    queue: Queue,
    catalogue: RecentAnswers,
    cores: Cores,
    owner_id: uuid.UUID,
    folder: Path,
    progress: Progress | None = None,
) -> Summary:
    """Bring in every audio file under ``folder`` (recursively) as ``owner_id``'s songs,
    on releases made from their tags; queue each for processing once its batch commits.
    Files that are not audio, or that an upload would be refused, are skipped with the
    reason; files the owner already has are left as they are. ``cores`` decode, check
    and draw in processes of their own. Commits in batches (see the module).

    The folder goes through in a pipeline: while the files of one album folder (or a
    few) are grouped, given covers and committed, the files after them are being checked
    by ``cores``, which stay busy from the first file to the last."""
    progress = progress or _Silent()
    context = _Context(sessions, settings, storage, queue, catalogue, cores, owner_id, Summary())
    context.pictures = _Pictures(context)
    # The children start (importing FFmpeg's bindings) while the files are read.
    warming = asyncio.create_task(cores.start())
    found = await asyncio.to_thread(scan.walk, folder)
    hashes = await _hash_all(context, found.files, progress.step("Reading", len(found.files)))
    async with sessions() as session:
        known = await repo.known(session, owner_id, hashes.values())
    await warming
    distinct = _distinct(context.summary, hashes)
    fresh = sum(1 for digest in distinct.values() if digest not in known)
    reading = _Reading(context, distinct, known, progress.step("Checking", len(distinct)))
    done = progress.step("Importing", fresh)

    async def prepare(chunk: list[Path]) -> list[_Item]:
        """A chunk's files checked, grouped and given covers: ready to commit."""
        examined = await reading.take(chunk)
        members, items = _members(context, examined, distinct, known)
        groups, singles = group(members)
        work = _work(groups, singles, items)
        for item in work:
            if item.group is not None:
                context.fresh.setdefault(id(item.group), set()).add(item.member.path)
        await _choose_covers(context, work, found.images)
        return work

    chunks = list(_chunks(list(distinct)))
    # One chunk is prepared while the one before it is committed.
    preparing = asyncio.create_task(prepare(chunks[0])) if chunks else None
    try:
        for index, chunk in enumerate(chunks):
            assert preparing is not None
            work = await preparing
            following = chunks[index + 1] if index + 1 < len(chunks) else None
            preparing = asyncio.create_task(prepare(following)) if following else None
            for start in range(0, len(work), BATCH):
                await _import_batch(context, work[start : start + BATCH])
            done(sum(1 for path in chunk if distinct[path] not in known))
    finally:
        if preparing is not None:
            preparing.cancel()
            await asyncio.gather(preparing, return_exceptions=True)
        await reading.stop()
    summary = context.summary
    log.info(
        "catalogue_imported",
        owner_id=str(owner_id),
        imported=len(summary.imported),
        already_there=len(summary.already_there),
        skipped=len(summary.skipped),
        releases=summary.releases_created,
    )
    return summary


# --- reading the folder -------------------------------------------------------------------


def _hashes(paths: Sequence[Path]) -> list[str | None]:
    found: list[str | None] = []
    for path in paths:
        try:
            found.append(songs.file_hash(path))
        except OSError:
            found.append(None)
    return found


async def _hash_all(
    context: _Context, files: Sequence[Path], done: Callable[[int], None]
) -> dict[Path, str]:
    """Each readable file's SHA-256; a file that cannot be read is skipped."""
    chunks = [files[i : i + HASH_CHUNK] for i in range(0, len(files), HASH_CHUNK)]

    async def hashed(chunk: Sequence[Path]) -> list[str | None]:
        found = await asyncio.to_thread(_hashes, chunk)
        done(len(chunk))
        return found

    results = await _bounded(hashed, chunks, AT_ONCE)
    hashes: dict[Path, str] = {}
    for chunk, found in zip(chunks, results, strict=True):
        for path, digest in zip(chunk, found, strict=True):
            if digest is None:
                context.summary.skipped.append((path, "The file could not be read."))
            else:
                hashes[path] = digest
    return hashes


def _distinct(summary: Summary, hashes: dict[Path, str]) -> dict[Path, str]:
    """Each file of distinct bytes once; a repeat is as good as there already."""
    first_of: dict[str, Path] = {}
    distinct: dict[Path, str] = {}
    for path, digest in hashes.items():
        if digest in first_of:
            summary.already_there.append((path, f"The same file as {first_of[digest]}."))
        else:
            first_of[digest] = path
            distinct[path] = digest
    return distinct


def _chunks(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """The files in order, in runs of whole album folders (a disc's folder counts as its
    parent's) of at least ``CHUNK`` files, but the first, which is small: the pipeline
    fills sooner."""
    chunk: list[Path] = []
    wanted = FIRST_CHUNK
    for index, path in enumerate(paths):
        chunk.append(path)
        following = paths[index + 1] if index + 1 < len(paths) else None
        if len(chunk) >= wanted and (
            following is None or album_folder(following) != album_folder(path)
        ):
            yield chunk
            chunk, wanted = [], CHUNK
    if chunk:
        yield chunk


class _Reading:
    """Every file checked (or, one the owner has, only read for its tags) in the
    children, in the folder's order, a few at a time; taken chunk by chunk."""

    def __init__(
        self,
        context: _Context,
        distinct: dict[Path, str],
        known: dict[str, repo.Known],
        done: Callable[[int], None],
    ) -> None:
        settings = context.settings
        limits = AudioLimits.of(settings)
        room = asyncio.Semaphore(context.cores.workers)

        async def examine(path: Path, digest: str) -> Examined:
            async with room:
                found = await context.cores.run(
                    scan.examine,
                    path,
                    limits,
                    settings.audio_max_bytes,
                    digest,
                    digest not in known,
                )
            done(1)
            return found

        self._tasks = {
            path: asyncio.create_task(examine(path, digest)) for path, digest in distinct.items()
        }

    async def take(self, paths: Sequence[Path]) -> list[Examined]:
        return list(await asyncio.gather(*(self._tasks[path] for path in paths)))

    async def stop(self) -> None:
        """Cancel what is left (the import failed or was interrupted)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _members(
    context: _Context,
    examined: Sequence[Examined],
    distinct: dict[Path, str],
    known: dict[str, repo.Known],
) -> tuple[list[Member], dict[Path, Examined]]:
    """The files that are or will be songs; the others go to the summary."""
    summary = context.summary
    members: list[Member] = []
    items: dict[Path, Examined] = {}
    for found in examined:
        there = known.get(distinct[found.path])
        if there is not None:
            summary.already_there.append((found.path, ""))
            members.append(Member(found.path, found.tags, there.song_id, there.release_id))
        elif found.refusal is not None:
            summary.skipped.append((found.path, found.refusal))
        else:
            members.append(Member(found.path, found.tags))
            items[found.path] = found
    return members, items


def _work(
    groups: Sequence[Group], singles: Sequence[Member], items: dict[Path, Examined]
) -> list[_Item]:
    """The files to bring in, release by release in track order, then the singles. A
    release holds so many tracks at most: past them, files come in as singles."""
    work: list[_Item] = []
    for found in groups:
        for placed, member in enumerate(found.members, start=1):
            if member.already_there:
                continue
            on = found if placed <= MAX_TRACKS else None
            work.append(_Item(member, items[member.path], on))
    work += [
        _Item(member, items[member.path], None) for member in singles if not member.already_there
    ]
    return work


# --- covers --------------------------------------------------------------------------------


class _Pictures:
    """Pictures encoded as covers once each, however many songs show them (an album's
    files often carry the same one): by their bytes' digest, or by a generated title."""

    def __init__(self, context: _Context) -> None:
        self._context = context
        self._done: dict[str, asyncio.Future[Encoded | None]] = {}

    async def picture(self, data: bytes | None) -> Encoded | None:
        """``data`` as a cover, or None if there is none or it is not a picture we take."""
        if not data or len(data) > self._context.settings.image_max_bytes:
            return None
        key = hashlib.sha256(data).hexdigest()
        return await self._once(key, lambda: self._context.cores.run(covers.encoded, data))

    async def file(self, path: Path | None) -> Encoded | None:
        if path is None:
            return None
        try:
            data = await asyncio.to_thread(
                _read_image, path, self._context.settings.image_max_bytes
            )
        except OSError:
            return None
        return await self.picture(data)

    async def made(self, title: str) -> Encoded:
        made = await self._once(
            f"made:{title}", lambda: self._context.cores.run(covers.generated, title)
        )
        assert made is not None
        return made

    async def _once(
        self, key: str, encode: Callable[[], Awaitable[Encoded | None]]
    ) -> Encoded | None:
        if key not in self._done:
            future: asyncio.Future[Encoded | None] = asyncio.get_running_loop().create_future()
            self._done[key] = future
            try:
                future.set_result(await encode())
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # said here, by raising: no "never retrieved" later
                raise
        return await asyncio.shield(self._done[key])


def _folder_cover(folder_cover: dict[Path, Path | None], path: Path) -> Path | None:
    """The cover picture beside the file, else beside its disc's folder (``CD1``)."""
    return folder_cover.get(path.parent) or folder_cover.get(album_folder(path))


def _read_image(path: Path, max_bytes: int) -> bytes | None:
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None


async def _choose_covers(
    context: _Context, work: Sequence[_Item], images: dict[Path, list[Path]]
) -> None:
    """Each file's cover: its own picture; else its release's (the first picture among
    its tracks, else its folder's cover image, else one made from the release's title);
    a single's: its own, its folder's, or one made from its title."""
    pictures = context.pictures
    assert pictures is not None
    folder_cover = {folder: covers.folder_image(found) for folder, found in images.items()}
    groups = {id(item.group): item.group for item in work if item.group is not None}

    async def for_group(found: Group) -> None:
        cover = None
        for member in found.members:
            cover = await pictures.picture(member.tags.picture)
            if cover is not None:
                break
        if cover is None:
            for member in found.members:
                cover = await pictures.file(_folder_cover(folder_cover, member.path))
                if cover is not None:
                    break
        context.group_covers[id(found)] = cover or await pictures.made(found.title)

    async def for_item(item: _Item) -> None:
        cover = await pictures.picture(item.member.tags.picture)
        if cover is None and item.group is None:
            cover = await pictures.file(_folder_cover(folder_cover, item.member.path))
            cover = cover or await pictures.made(_title(item.examined))
        item.cover = cover  # None: the release's, set below

    await _bounded(for_group, groups.values(), context.cores.workers)
    await _bounded(for_item, work, context.cores.workers)
    for item in work:
        if item.cover is None:
            assert item.group is not None
            item.cover = context.group_covers[id(item.group)]


# --- committing ----------------------------------------------------------------------------


def _title(examined: Examined) -> str:
    """The tag's title, else the file's name (an underscore read as a space)."""
    title = from_tag(examined.tags.title, MAX_TITLE)
    return title or from_tag(examined.path.stem.replace("_", " "), MAX_TITLE) or "Untitled"


def _new_song(item: _Item, checked: Checked, audio_key: str, cover_key: str) -> NewSong:
    tags = item.examined.tags
    return NewSong(
        checked=checked,
        audio_key=audio_key,
        thumbnail_key=cover_key,
        title=_title(item.examined),
        genre=from_tag(tags.genre, MAX_GENRE),
        artist=from_tag(tags.artist, MAX_ARTIST),
    )


async def _import_batch(context: _Context, batch: Sequence[_Item]) -> None:
    """One transaction: the quota counted, files stored, rows added, releases made or
    added to; the songs' processing queued once it commits."""
    settings, storage, summary = context.settings, context.storage, context.summary
    created: set[uuid.UUID] = set()
    placed_on: set[uuid.UUID] = set()
    async with transaction(context.sessions) as session:
        owner = await session.get(User, context.owner_id)
        if owner is None:
            raise NotFound("The owner of the import is gone.")
        sizes = [_checked(item).size for item in batch]
        refusals, _ = await admission.claim_each(session, settings, owner.id, sizes)
        accepted = [item for item, why in zip(batch, refusals, strict=True) if why is None]

        async def stored(item: _Item) -> NewSong:
            checked = _checked(item)
            assert item.cover is not None
            audio_key = await songs.store_original(session, storage, item.member.path, checked.info)
            cover_key = await songs.store_cover_files(session, storage, item.cover)
            return _new_song(item, checked, audio_key, cover_key)

        new = await _bounded(stored, accepted, AT_ONCE)
        added = await songs.add_songs(session, context.queue, context.catalogue, owner, new)
        for item, song in zip(accepted, added, strict=True):
            item.member.song_id = song.id
        for found, members in _by_group(accepted):
            release, new_release = await _release_for(context, session, found)
            if new_release:
                created.add(release.id)
            elif release.id not in context.created:
                placed_on.add(release.id)  # one the owner had before this import
            wanted = _to_place(found, members, context.fresh[id(found)])
            await place_songs(session, release, wanted)
            for member in found.members:
                if member.song_id in wanted:
                    member.release_id = release.id
    # Counted once committed.
    context.created |= created
    summary.releases_created += len(created)
    summary.releases_added_to += len(placed_on - context.added_to)
    context.added_to |= placed_on
    for item, why in zip(batch, refusals, strict=True):
        if why is None:
            summary.imported.append(item.member.path)
            assert item.member.song_id is not None
            summary.song_ids.append(item.member.song_id)
        else:
            summary.skipped.append((item.member.path, why.message))


def _to_place(found: Group, batch: Sequence[_Item], fresh: set[Path]) -> list[uuid.UUID]:
    """The group's songs that go on its release now, in track order: this batch's, and
    those already there on no release up to the last of them (all of them, once no file
    of the group is still to come)."""
    members = found.members
    last = max(members.index(item.member) for item in batch)
    if not any(member.path in fresh for member in members[last + 1 :]):
        last = len(members) - 1
    return [m.song_id for m in members[: last + 1] if m.song_id is not None and not m.release_id]


def _checked(item: _Item) -> Checked:
    checked = item.examined.checked
    assert checked is not None  # only checked files are brought in
    return checked


def _by_group(items: Sequence[_Item]) -> Iterator[tuple[Group, list[_Item]]]:
    """The batch's releases, each once, in the order their files come."""
    seen: dict[int, tuple[Group, list[_Item]]] = {}
    for item in items:
        if item.group is not None:
            seen.setdefault(id(item.group), (item.group, []))[1].append(item)
    yield from seen.values()


async def _release_for(
    context: _Context, session: AsyncSession, found: Group
) -> tuple[Release, bool]:
    """The release the group's songs go on: one an earlier batch or import made (if it
    is still there), else a new one. Whether it is new."""
    release_id = context.releases.get(found.key) or found.release_id
    if release_id is not None:
        existing = await repo.release(session, release_id, context.owner_id)
        if existing is not None:
            context.releases[found.key] = existing.id
            return existing, False
    cover = context.group_covers[id(found)]
    thumbnail_key = await songs.store_cover_files(session, context.storage, cover)
    release = await create_release(
        session,
        owner_id=context.owner_id,
        title=found.title,
        kind=found.kind,
        year=found.year,
        thumbnail_key=thumbnail_key,
    )
    context.releases[found.key] = release.id
    return release, True


async def _bounded(func: Callable[[A], Awaitable[T]], args: Iterable[A], at_once: int) -> list[T]:
    """``func`` of each of ``args``, in order, with at most ``at_once`` running."""
    room = asyncio.Semaphore(max(1, at_once))

    async def run(arg: A) -> T:
        async with room:
            return await func(arg)

    return list(await asyncio.gather(*(run(arg) for arg in args)))


# --- one file, from the web app ------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """A file the web app's multi-file upload sent: its song, and its release if it has
    an album."""

    song: Song
    release: Release | None
    release_created: bool


async def add_file(
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    queue: Queue,
    catalogue: RecentAnswers,
    owner: User,
    audio: BinaryIO,
    filename: str,
    folder_cover: bytes | None,
) -> Added:
    """One file of a multi-file upload, brought in as the import brings in a file: the
    upload's checks and quota, title and genre from its tags (else ``filename``), a
    cover from its own picture, else the folder's picture the page sent
    (``folder_cover``), else its release's, else one made from the title; and onto the
    owner's release of its album (a new one if they have none of that title). A file
    the owner already has is refused (409).

    The files of an album come one request each, so a release's kind follows its
    count of tracks as they come (single, EP, album), unless a tag names it or the
    owner chose another (a kind its count would not give is left as it is)."""
    await admission.admit(session, settings, owner.id, _size_of(audio))
    async with songs.spooled(settings, audio) as (spooled, digest):
        if await repo.known(session, owner.id, [digest]):
            raise Conflict("You already have this file: it is one of your songs.")
        checked = await songs.check(spooled, settings, digest)
        tags = await asyncio.to_thread(tag_reader.read, spooled)
        # The name only (a browser may send a folder's path with it).
        name = Path(filename.replace("\\", "/")).name or "Untitled"
        examined = Examined(Path(name), tags, checked=checked)
        album = album_of(tags)
        release = await repo.release_titled(session, owner.id, album) if album else None
        cover = await _one_cover(settings, storage, tags, folder_cover, release, album)
        if cover is None:
            cover = await asyncio.to_thread(covers.generated, album or _title(examined))
        audio_key = await songs.store_original(session, storage, spooled, checked.info)
    cover_key = await songs.store_cover_files(session, storage, cover)
    await admission.claim(session, settings, owner.id, checked.size)
    item = _Item(Member(examined.path, tags), examined, None)
    (song,) = await songs.add_songs(
        session, queue, catalogue, owner, [_new_song(item, checked, audio_key, cover_key)]
    )
    created = False
    if album is not None:
        if release is None:
            release_cover = await songs.store_cover_files(session, storage, cover)
            release = await create_release(
                session,
                owner_id=owner.id,
                title=album,
                kind=tags.kind or kind_for(1),
                year=tags.year,
                thumbnail_key=release_cover,
            )
            created = True
        tracks = await repo.tracks(session, release.id)
        if tracks < MAX_TRACKS:
            await place_songs(session, release, [song.id])
            if not tags.kind and release.kind == kind_for(max(tracks, 1)):
                release.kind = kind_for(tracks + 1)
                await session.flush()
        else:
            release = None
    return Added(song, release, created)


def _size_of(audio: BinaryIO) -> int:
    size = audio.seek(0, 2)
    audio.seek(0)
    return size


async def _one_cover(
    settings: Settings,
    storage: Storage,
    tags: Tags,
    folder_cover: bytes | None,
    release: Release | None,
    album: str | None,
) -> Encoded | None:
    for data in (tags.picture, folder_cover):
        if data and len(data) <= settings.image_max_bytes:
            encoded = await asyncio.to_thread(covers.encoded, data)
            if encoded is not None:
                return encoded
    if release is not None and release.thumbnail_key:
        # The release's cover, as stored: every size of it, copied for the song.
        folder = songs.cover_folder(release.thumbnail_key)
        with contextlib.suppress(FileNotFoundError, ValueError):
            stored = {
                int(Path(key).stem): await storage.get(key) for key in await storage.keys(folder)
            }
            if stored:
                return stored
    return None


# --- waiting for processing ----------------------------------------------------------------


@dataclass(frozen=True)
class Processed:
    waiting: int
    ready: int
    failed: int


async def processed(
    sessions: async_sessionmaker[AsyncSession], song_ids: Sequence[uuid.UUID]
) -> Processed:
    """How far processing has got with an import's songs."""
    async with sessions() as session:
        counted = await repo.statuses(session, song_ids)
    return Processed(
        waiting=counted.get(SongStatus.PROCESSING, 0),
        ready=counted.get(SongStatus.READY, 0),
        failed=counted.get(SongStatus.FAILED, 0),
    )
