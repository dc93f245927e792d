"""Engagement's background jobs: the counter flush and history clean-up."""

from __future__ import annotations

from bandstand.engagement import service
from bandstand.engagement.counters.flush import FlushParts, flush_counters, heal_counters
from bandstand.resources import JobCounters, JobSessions, JobSettings
from bandstand.worker.jobs import job


@job("engagement.flush_counters")
async def flush(counters: JobCounters, sessions: JobSessions, settings: JobSettings) -> None:
    """Rebuild first if the counter store lost its data, then flush (which recounts the
    counters whose changes were lost): no operator needed after either."""
    parts = FlushParts(counters, sessions, settings)
    await heal_counters(parts)
    await flush_counters(parts)


@job("engagement.prune_history")
async def prune_history(sessions: JobSessions, settings: JobSettings) -> None:
    await service.prune_history(sessions, settings.history_days)
