"""Songs' background jobs."""

from __future__ import annotations

import uuid
from typing import Annotated

from taskiq import Context, TaskiqDepends

from bandstand.songs import renditions
from bandstand.worker.jobs import job
from bandstand.worker.retry import attempt, is_last_try


@job("songs.process")
async def process_song(song_id: str, context: Annotated[Context, TaskiqDepends()]) -> None:
    rt = context.state.runtime
    try:
        await renditions.process(rt, uuid.UUID(song_id))
    except Exception:
        if is_last_try(context):
            await renditions.fail(
                rt,
                uuid.UUID(song_id),
                f"Processing failed {attempt(context)} times for a reason on our side; "
                "the server's log says why. Upload the song again, or ask the operator.",
            )
        raise


@job("songs.delete_files")
async def delete_files(keys: list[str], context: Annotated[Context, TaskiqDepends()]) -> None:
    await renditions.delete_files(context.state.runtime, keys)


@job("songs.requeue_stalled")
async def requeue_stalled(context: Annotated[Context, TaskiqDepends()]) -> None:
    await renditions.requeue_stalled(context.state.runtime)
