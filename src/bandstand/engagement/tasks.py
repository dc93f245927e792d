"""Engagement's background jobs: the counter flush and history clean-up."""

from __future__ import annotations

from typing import Annotated

from taskiq import Context, TaskiqDepends

from bandstand.engagement import service
from bandstand.engagement.counters.flush import flush_counters, heal_counters
from bandstand.worker.jobs import job


@job("engagement.flush_counters")
async def flush(context: Annotated[Context, TaskiqDepends()]) -> None:
    """Rebuild first if the counter store lost its data, then flush (which recounts the
    counters marked since): no operator needed after either."""
    await heal_counters(context.state.runtime)
    await flush_counters(context.state.runtime)


@job("engagement.prune_history")
async def prune_history(context: Annotated[Context, TaskiqDepends()]) -> None:
    await service.prune_history(context.state.runtime)
