"""Songs' background jobs."""

from __future__ import annotations

import uuid
from typing import Annotated

from taskiq import Context, TaskiqDepends

from bandstand.runtime import Runtime
from bandstand.songs import renditions
from bandstand.worker.jobs import job


async def _processing_failed(rt: Runtime, tries: int, song_id: str) -> None:
    """After the last try: the song ends failed, with a reason its owner can act on."""
    await renditions.fail(
        rt,
        uuid.UUID(song_id),
        f"Processing failed {tries} times for a reason on our side; "
        "the server's log says why. Upload the song again, or ask the operator.",
    )


# The whole job holds an FFmpeg slot: one waiting for it has not started (no try counted),
# nor copied its original to scratch.
@job("songs.process", give_up=_processing_failed, slot=lambda rt: rt.processing_slots)
async def process_song(song_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    await renditions.process(context.state.runtime, uuid.UUID(song_id))


@job("songs.delete_files")
async def delete_files(keys: list[str], context: Annotated[Context, TaskiqDepends()]) -> None:
    await renditions.delete_files(context.state.runtime, keys)


@job("songs.requeue_stalled")
async def requeue_stalled(context: Annotated[Context, TaskiqDepends()]) -> None:
    await renditions.requeue_stalled(context.state.runtime)
