"""Turns: which queued job of a kind that has owners (``jobs.OWNERS``: a song's processing
is its uploader's) a worker starts next.

A message for such a job is only a wake-up: the worker that has room for one claims the
job whose owner has the fewest jobs running, then the one this process served least
recently, then the oldest. Four songs of one user queued before another user's song do
not keep it waiting: it is started next, and the same user's backlog is served in turns
with everyone else's. Every claim is still ``outbox.claim`` (a queued row, its try counted
and fenced, its lease); a message that ran another's job takes turns again until its own job
is claimed (``tries.py``), since that job's message may have found nothing to claim.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.worker import outbox
from bandstand.worker.jobs import Owners


@dataclass(frozen=True)
class Claimed:
    job_id: uuid.UUID
    args: list[Any]
    tries: int
    owner: str


class Turns:
    """Whose job of each kind this process started last: the memory that makes the choice
    between owners with nothing running round-robin. Each process keeps its own; the
    running jobs, which weigh first, are counted across every worker (in the database).

    It also remembers whose each pending job is (that never changes): a claim reads every
    queued job of its kind, and a long queue (an import of a thousand songs) would
    otherwise have each claim look up a thousand owners again."""

    def __init__(self) -> None:
        self._clock = itertools.count(1)
        self._started: dict[tuple[str, str], int] = {}
        self._owners: dict[uuid.UUID, str | None] = {}

    def started(self, name: str, owner: str) -> None:
        self._started[(name, owner)] = next(self._clock)

    def last(self, name: str, owner: str) -> int:
        """0 for an owner this process has not served (or has forgotten)."""
        return self._started.get((name, owner), 0)

    def keep_only(self, name: str, owners: set[str]) -> None:
        """Forget owners with nothing pending: their next job is no backlog."""
        for key in [key for key in self._started if key[0] == name and key[1] not in owners]:
            del self._started[key]

    async def owners(
        self, session: AsyncSession, rows: Sequence[Any], owners_of: Owners
    ) -> list[str | None]:
        """Whose each pending job (``outbox.contenders``) is, looked up once per job."""
        unknown = [row.id for row in rows if row.id not in self._owners]
        if unknown:
            args = await outbox.args_by_id(session, unknown)
            ids = [job_id for job_id in unknown if job_id in args]
            found = await owners_of(session, [args[job_id] for job_id in ids])
            self._owners.update(zip(ids, found, strict=True))
        return [self._owners.get(row.id) for row in rows]

    def forget_jobs_but(self, job_ids: set[uuid.UUID]) -> None:
        """Forget whose the jobs no longer pending were (kept small: only pending ones)."""
        if len(self._owners) > 2 * len(job_ids) + 100:
            self._owners = {k: v for k, v in self._owners.items() if k in job_ids}


async def claim_next(
    session: AsyncSession,
    name: str,
    lease_s: float,
    owners_of: Owners,
    turns: Turns,
    *,
    idle_owners_only: bool = False,
) -> Claimed | None:
    """Claim the queued job called ``name`` whose turn it is, or None if none is queued
    (with ``idle_owners_only``: none of an owner who has no job running)."""
    rows = await outbox.contenders(session, name)
    if not rows:
        return None
    found = await turns.owners(session, rows, owners_of)
    turns.forget_jobs_but({row.id for row in rows})
    # A job whose owner is gone (its song deleted) is nobody's: it takes no one's turn.
    owners = [owner or f"job:{row.id}" for row, owner in zip(rows, found, strict=True)]
    running = Counter(o for row, o in zip(rows, owners, strict=True) if row.state == outbox.RUNNING)
    queued: dict[str, list[Any]] = {}
    oldest: dict[str, int] = {}
    for place, (row, owner) in enumerate(zip(rows, owners, strict=True)):
        if row.state == outbox.QUEUED:
            queued.setdefault(owner, []).append(row)  # oldest first, as read
            oldest.setdefault(owner, place)
    turns.keep_only(name, set(owners))
    order = sorted(queued, key=lambda o: (running[o], turns.last(name, o), oldest[o]))
    for owner in order:
        if idle_owners_only and running[owner]:
            break  # sorted by running jobs first: every owner after this one has some too
        for row in queued[owner]:
            tries = await outbox.claim(session, row.id, lease_s)
            if tries is not None:
                turns.started(name, owner)
                args = await outbox.args_by_id(session, [row.id])
                return Claimed(row.id, args.get(row.id, []), tries, owner)
            # Another worker claimed this one since it was read: the owner's next, then.
    return None
