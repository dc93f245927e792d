"""Moderation's background jobs."""

from __future__ import annotations

import uuid

import structlog

from bandstand.db import transaction
from bandstand.media import withheld
from bandstand.moderation import service
from bandstand.resources import JobCatalogue, JobCounters, JobQueue, JobSessions, JobSettings
from bandstand.songs import repository as songs
from bandstand.worker.jobs import job

log = structlog.get_logger(__name__)


@job("moderation.lift_expired_bans")
async def lift_expired_bans(
    sessions: JobSessions, queue: JobQueue, catalogue: JobCatalogue, counters: JobCounters
) -> None:
    """Lift every ban whose end has passed, a batch per transaction (by the instance
    itself, in the audit log). Run again, it finds nothing left to lift."""
    # Comment answers are kept by the API processes, for at most a few seconds.
    effects = service.Effects(
        queue=queue, catalogue=catalogue, counters=counters, comment_answers=None
    )
    while True:
        async with transaction(sessions) as session:
            lifted = await service.lift_expired_bans(session, effects)
        if lifted:
            log.info("expired_bans_lifted", users=lifted)
        if lifted < service.LIFT_BATCH:
            return


@job(service.WITHHOLD_JOB)
async def withhold_media(
    owner_id: str | None, song_id: str | None, sessions: JobSessions, settings: JobSettings
) -> None:
    """Mark or unmark the files of the owner's songs (or of the one song) as the database
    now says they are seen (``media/withheld.py``). Run again, it changes nothing."""
    if settings.storage_url:
        return
    async with sessions() as session:
        files = await songs.withheld_files(
            session,
            owner_id=uuid.UUID(owner_id) if owner_id else None,
            song_id=uuid.UUID(song_id) if song_id else None,
        )
    marks = {}
    for audio, cover, held in files:
        marks[withheld.folder_of(audio)] = held
        marks[withheld.cover_of(cover)] = held
    await withheld.apply(settings.media_dir, marks)
