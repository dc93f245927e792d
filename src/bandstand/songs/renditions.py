"""What the worker makes of an upload: HLS and a progressive file, loudness, a waveform.

Every derived file sits in the folder of the original (``songs/<id>/``), so one signed link
covers them all and deleting the folder deletes them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.db import transaction
from bandstand.kit.cache import RecentAnswers
from bandstand.media.processing import ProcessedAudio, ProcessingError, content_type
from bandstand.media.processing import process_audio as render
from bandstand.models import Song, SongStatus
from bandstand.observability.metrics import PROCESSING_AUDIO, PROCESSING_CPU
from bandstand.songs import repository as repo
from bandstand.storage import Storage
from bandstand.worker import outbox
from bandstand.worker.cores import Abandoned, Cores
from bandstand.worker.queue import Queue
from bandstand.worker.tries import turn_sharer

log = structlog.get_logger(__name__)

# How often a song's processing looks whether the song is still wanted.
_WANTED_CHECK_S = 2.0
# Files stored at once (each a thread's copy and fsync, or an upload to the object store).
_PUTS_AT_ONCE = 8
_FAMILY = re.compile(r"(songs|covers)/[0-9a-f]{32}/")


def folder_of(key: str) -> str:
    """``songs/<id>/`` for ``songs/<id>/original.wav``."""
    return key.rsplit("/", 1)[0] + "/"


async def process(
    sessions: async_sessionmaker[AsyncSession],
    storage: Storage,
    queue: Queue,
    catalogue: RecentAnswers,
    cores: Cores,
    song_id: uuid.UUID,
) -> None:
    """Make the song's renditions and mark it ready, or failed if FFmpeg cannot. Safe to
    run twice: a song already ready, failed or gone is left as it is, and files are
    written under fixed names. FFmpeg runs in one of ``cores``' processes."""
    async with transaction(sessions) as session:
        song = await repo.song_to_process(session, song_id)
        if song is None or song.status != SongStatus.PROCESSING:
            return
        audio_key, length_s = song.audio_key, song.duration
    folder = folder_of(audio_key)
    async with _scratch(queue) as tmp:
        source = await _source(storage, audio_key, tmp)
        pause = _while_wanted(sessions, song_id, turn_sharer())
        try:
            # In one of the FFmpeg slots: the queue takes it before the job starts. Now and
            # then it lends the slot to another uploader's song, which then waits for a
            # moment of this one, not for all of it; and it stops if the song is deleted.
            result = await cores.run_pausing(
                render, source, tmp / "out", pause=pause, length_s=length_s
            )
        except ProcessingError as exc:
            await fail(sessions, catalogue, song_id, exc.reason)
            return
        except Abandoned:
            log.info("song_processing_abandoned", song_id=str(song_id))
            return
        await _store(storage, folder, tmp / "out", result)
    async with transaction(sessions) as session:
        done = await repo.mark_ready(
            session,
            song_id,
            hls_key=folder + result.master_playlist,
            progressive_key=folder + result.progressive,
            loudness_lufs=result.loudness_lufs,
            true_peak_dbtp=result.true_peak_dbtp,
            gain_db=result.gain_db,
            peaks=_peaks_json(result),
        )
        gone = not done and await repo.song_to_process(session, song_id) is None
    if gone:
        # Deleted while we worked: what we wrote would be orphaned.
        await delete_files(storage, [folder])
        return
    if not done:
        # Another run of this job (redelivered, requeued) got there first: the folder
        # holds the original and the files it made under these same names; keep them.
        return
    await catalogue.clear()
    PROCESSING_CPU.labels("songs.process").inc(result.cpu_s)
    PROCESSING_AUDIO.labels("songs.process").inc(result.duration)
    log.info("song_ready", song_id=str(song_id), duration=result.duration, cpu_s=result.cpu_s)


def _while_wanted(
    sessions: async_sessionmaker[AsyncSession],
    song_id: uuid.UUID,
    share: Callable[[], None] | None,
) -> Callable[[], None]:
    """The pause of a song's processing (called from a thread, now and then): ``share``
    the slot, and every ``_WANTED_CHECK_S`` raise ``Abandoned`` if the song was deleted
    or is no longer processing meanwhile, so a deleted hour-long upload stops costing a
    core within seconds. A check that cannot be made (the database away, the process
    stopping) lets the work go on."""
    loop = asyncio.get_running_loop()
    checked = time.monotonic()

    async def wanted() -> bool:
        async with transaction(sessions) as session:
            song = await repo.song_to_process(session, song_id)
            return song is not None and song.status == SongStatus.PROCESSING

    def pause() -> None:
        nonlocal checked
        if time.monotonic() - checked >= _WANTED_CHECK_S and loop.is_running():
            checked = time.monotonic()
            asked = asyncio.run_coroutine_threadsafe(wanted(), loop)
            try:
                still = asked.result(timeout=_WANTED_CHECK_S)
            except Exception:  # the check's failure is not the song's
                asked.cancel()
                still = True
            if not still:
                raise Abandoned
        if share is not None:
            share()

    return pause


async def _source(storage: Storage, audio_key: str, tmp: Path) -> Path:
    """The original as a local file: where the store keeps it, if on this machine (read,
    never written), else a copy in the job's folder."""
    local = storage.local_path(audio_key)
    if local is not None and await asyncio.to_thread(local.is_file):
        return local
    source = tmp / "source"
    await storage.get_file(audio_key, source)
    return source


async def _store(storage: Storage, folder: str, out: Path, result: ProcessedAudio) -> None:
    """Store what processing wrote, in steps that keep every playlist valid for whoever
    reads it meanwhile: the files playlists name (together), then the variant playlists
    and the progressive file (together), then the master playlist, which names them."""
    playlists = {variant.playlist for variant in result.variants}
    master = result.master_playlist
    named = [name for name in result.files if name not in playlists and name != master]
    steps = [named, [n for n in result.files if n in playlists], [master]]
    room = asyncio.Semaphore(_PUTS_AT_ONCE)

    async def put(name: str) -> None:
        async with room:
            await storage.put_file(folder + name, out / name, content_type(name))

    for step in steps:
        await asyncio.gather(*(put(name) for name in step))


@contextlib.asynccontextmanager
async def _scratch(queue: Queue) -> AsyncIterator[Path]:
    """A folder of the job's own, made and removed off the event loop (a long song leaves
    hundreds of megabytes and thousands of files in it)."""
    # The queue's folder of this process: locked while it lives, removed if it dies.
    root = await queue.scratch_dir()
    path = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="bandstand-job-", dir=root))
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)


async def owners(session: AsyncSession, jobs: Sequence[list[Any]]) -> list[str | None]:
    """Whose song each ``songs.process`` job (by its arguments) makes, None for a song
    gone: processing takes turns by uploader (worker/fair.py)."""
    ids: dict[str, uuid.UUID] = {}
    for args in jobs:
        with contextlib.suppress(IndexError, TypeError, ValueError):
            ids[args[0]] = uuid.UUID(args[0])
    owner_of: dict[uuid.UUID, str] = {}
    wanted = sorted(set(ids.values()))
    for start in range(0, len(wanted), 500):
        stmt = select(Song.id, Song.owner_id).where(Song.id.in_(wanted[start : start + 500]))
        owner_of.update((row.id, str(row.owner_id)) for row in await session.execute(stmt))
    return [owner_of.get(ids[args[0]]) if args and args[0] in ids else None for args in jobs]


def _peaks_json(result: ProcessedAudio) -> str:
    return json.dumps([round(peak, 4) for peak in result.peaks], separators=(",", ":"))


async def fail(
    sessions: async_sessionmaker[AsyncSession],
    catalogue: RecentAnswers,
    song_id: uuid.UUID,
    reason: str,
) -> None:
    async with transaction(sessions) as session:
        await repo.mark_failed(session, song_id, reason[:300])
    await catalogue.clear()
    log.warning("song_failed", song_id=str(song_id), reason=reason)


async def delete_files(storage: Storage, keys_or_folders: list[str]) -> None:
    """Delete stored files, a whole folder for a key ending in ``/`` (a song's or a
    cover's, never anything wider)."""
    for item in keys_or_folders:
        if item.endswith("/") and not _FAMILY.fullmatch(item):
            raise ValueError(f"not a song's or a cover's folder: {item!r}")
        keys = await storage.keys(item) if item.endswith("/") else [item]
        for key in keys:
            await storage.delete(key)


async def requeue_stalled(
    sessions: async_sessionmaker[AsyncSession], queue: Queue, stall_s: float
) -> int:
    """Queue again the songs processing for longer than ``stall_s`` seconds that have
    no pending job (one lost before jobs were kept in the database, or given up without
    the song being marked). A song whose job is pending is left to it: its tries are
    counted there, and it ends ``failed`` after the last."""
    async with transaction(sessions) as session:
        stalled = await repo.stalled(session, stall_s)
        pending = {args[0] for args in await outbox.args_of(session, "songs.process") if args}
    orphans = [song_id for song_id in stalled if str(song_id) not in pending]
    for song_id in orphans:
        await queue.enqueue("songs.process", str(song_id))
    if orphans:
        log.info("songs_requeued", count=len(orphans))
    return len(orphans)
