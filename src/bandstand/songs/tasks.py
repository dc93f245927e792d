"""Songs' background jobs."""

from __future__ import annotations

import uuid

from bandstand.resources import (
    JobCatalogue,
    JobQueue,
    JobRuntime,
    JobSessions,
    JobSettings,
    JobStorage,
)
from bandstand.songs import renditions
from bandstand.worker.cores import preload
from bandstand.worker.cores import shared as shared_cores
from bandstand.worker.jobs import job

# FFmpeg runs in worker processes (``worker/cores.py``).
preload("bandstand.media.processing")


async def _processing_failed(runtime: JobRuntime, tries: int, song_id: str) -> None:
    """After the last try: the song ends failed, with a reason its owner can act on.
    (The queue hands a give-up the whole runtime, ``worker/jobs.py``; it passes on parts.)"""
    await renditions.fail(
        runtime.sessionmaker,
        runtime.catalogue,
        uuid.UUID(song_id),
        f"Processing failed {tries} times for a reason on our side; "
        "the server's log says why. Upload the song again, or ask the operator.",
    )


# The whole job holds an FFmpeg slot: one waiting for it has not started (no try counted),
# nor copied its original to scratch. Uploaders take turns: one's backlog never holds up
# another's song for more than a moment (worker/fair.py).
@job(
    "songs.process",
    give_up=_processing_failed,
    slot=lambda runtime: runtime.processing_slots,
    owners=renditions.owners,
)
async def process_song(
    song_id: str,
    sessions: JobSessions,
    storage: JobStorage,
    queue: JobQueue,
    catalogue: JobCatalogue,
    settings: JobSettings,
) -> None:
    # A process per slot, and as many again: a song that lends its slot (``turn_sharer``)
    # waits in its process while the song it lent to runs in another.
    cores = shared_cores(2 * settings.processing_concurrency)
    await renditions.process(sessions, storage, queue, catalogue, cores, uuid.UUID(song_id))


@job("songs.delete_files")
async def delete_files(keys: list[str], storage: JobStorage) -> None:
    await renditions.delete_files(storage, keys)


@job("songs.requeue_stalled")
async def requeue_stalled(sessions: JobSessions, queue: JobQueue, settings: JobSettings) -> None:
    await renditions.requeue_stalled(sessions, queue, settings.processing_stall_s)
