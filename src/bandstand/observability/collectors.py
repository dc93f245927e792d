"""What ``/metrics`` reads when it is scraped rather than counts as things happen: the
job outbox (``pending_jobs``), which every process shares, so any one process answers
for all of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.kit.time import utcnow
from bandstand.models import PendingJob
from bandstand.worker.outbox import QUEUED, RUNNING, WAITING


@dataclass(frozen=True)
class Backlog:
    """What waits, as read at a scrape: the jobs in the outbox, the counters unflushed."""

    # (job kind, state) -> jobs
    depth: dict[tuple[str, str], int]
    # job kind -> seconds the oldest job not yet running has waited
    oldest_s: dict[str, float]
    # counters waiting for the flush (``Counters.pending_count``), as read now
    pending_counters: int = 0


async def read_jobs(sessionmaker: async_sessionmaker[AsyncSession]) -> Backlog:
    """The outbox now, in one short read."""
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    PendingJob.name,
                    PendingJob.state,
                    func.count(),
                    func.min(PendingJob.created_at),
                ).group_by(PendingJob.name, PendingJob.state)
            )
        ).all()
    now = utcnow()
    depth: dict[tuple[str, str], int] = {}
    oldest_s: dict[str, float] = {}
    for name, state, count, oldest in rows:
        depth[(name, state)] = int(count)
        if state != RUNNING and oldest is not None:
            age = max(0.0, (now - oldest).total_seconds())
            oldest_s[name] = max(age, oldest_s.get(name, 0.0))
    return Backlog(depth, oldest_s)


class BacklogCollector(Collector):
    """``Backlog`` as gauges (every state of every kind seen, zeros included, so a
    drained queue reads 0 rather than vanishing)."""

    def __init__(self, jobs: Backlog) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "bandstand_jobs_pending",
            "Jobs in the outbox, by kind and state (queued, running, waiting to retry).",
            labels=["job", "state"],
        )
        kinds = sorted({name for name, _ in self.jobs.depth})
        for name in kinds:
            for state in (QUEUED, RUNNING, WAITING):
                depth.add_metric([name, state], self.jobs.depth.get((name, state), 0))
        oldest = GaugeMetricFamily(
            "bandstand_jobs_oldest_waiting_seconds",
            "How long the oldest job not yet running has waited, by kind.",
            labels=["job"],
        )
        for name in kinds:
            oldest.add_metric([name], self.jobs.oldest_s.get(name, 0.0))
        yield GaugeMetricFamily(
            "bandstand_counters_pending",
            "Counters (a song's views, likes, comments, and each day's) waiting for the flush.",
            value=self.jobs.pending_counters,
        )
        yield depth
        yield oldest
