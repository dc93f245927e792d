"""Moderation's background jobs."""

from __future__ import annotations

import structlog

from bandstand.db import transaction
from bandstand.moderation import service
from bandstand.resources import JobCatalogue, JobCounters, JobQueue, JobSessions
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
