"""Turns: which queued job of a kind that has owners (``jobs.OWNERS``: a song's processing
is its uploader's) a worker starts next.

A message for such a job is only a wake-up: the worker that has room for one claims the
job whose owner has the fewest jobs running, then the one this process served least
recently, then the oldest. Four songs of one user queued before another user's song do
not keep it waiting: it is started next, and the same user's backlog is served in turns
with everyone else's. Every claim is still ``outbox.claim`` (a queued row, its try counted
and fenced, its lease), so a message's own job, left queued, is claimed by a later
message (there is one per queued job) or relayed as before.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
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
    running jobs, which weigh first, are counted across every worker (in the database)."""

    def __init__(self) -> None:
        self._clock = itertools.count(1)
        self._started: dict[tuple[str, str], int] = {}

    def started(self, name: str, owner: str) -> None:
        self._started[(name, owner)] = next(self._clock)

    def last(self, name: str, owner: str) -> int:
        """0 for an owner this process has not served (or has forgotten)."""
        return self._started.get((name, owner), 0)

    def keep_only(self, name: str, owners: set[str]) -> None:
        """Forget owners with nothing pending: their next job is no backlog."""
        for key in [key for key in self._started if key[0] == name and key[1] not in owners]:
            del self._started[key]


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
    found = await owners_of(session, [list(row.args) for row in rows])
    # A job whose owner is gone (its song deleted) is nobody's: it takes no one's turn.
    owners = [owner or f"job:{row.id}" for row, owner in zip(rows, found, strict=True)]
    running = Counter(o for row, o in zip(rows, owners, strict=True) if row.state == outbox.RUNNING)
    oldest: dict[str, Any] = {}
    for row, owner in zip(rows, owners, strict=True):
        if row.state == outbox.QUEUED and owner not in oldest:
            oldest[owner] = row
    turns.keep_only(name, set(owners))
    order = sorted(
        oldest,
        key=lambda o: (running[o], turns.last(name, o), oldest[o].created_at, oldest[o].id),
    )
    for owner in order:
        if idle_owners_only and running[owner]:
            break  # sorted by running jobs first: every owner after this one has some too
        row = oldest[owner]
        tries = await outbox.claim(session, row.id, lease_s)
        if tries is not None:  # None: another worker claimed it meanwhile
            turns.started(name, owner)
            return Claimed(row.id, list(row.args), tries, owner)
    return None
