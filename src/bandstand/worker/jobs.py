"""The registry of job functions, filled by each domain's ``tasks.py``.

A job takes ids, never objects, opens its own session, and can run twice without harm.
Besides its arguments it declares the parts it uses (``storage: JobStorage``, from
``bandstand/resources.py``), which each try resolves for it (``tries.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Job = Callable[..., Awaitable[Any]]
# Called as ``give_up(runtime, tries, *args)`` once a job has failed its last try (or its
# worker died on each), before it is forgotten: what the job's owner should learn of it.
GiveUp = Callable[..., Awaitable[Any]]
# Given the runtime, the semaphore a job must hold for all of its run (FFmpeg's slots): the
# worker takes it before claiming the job, so a job that waits for it has not started, and
# a worker that dies meanwhile does not count a try against it.
Slot = Callable[[Any], asyncio.Semaphore]
# Given a session and the arguments of pending jobs of one kind, whose each job is (None:
# nobody's any more). Jobs of a kind with owners take turns by owner (``fair.py``): one
# owner's backlog delays another's job by one job at most, and a long job lends its slot
# to another owner's while it runs (``tries.share_turn``).
Owners = Callable[[AsyncSession, Sequence[list[Any]]], Awaitable[list[str | None]]]

JOBS: dict[str, Job] = {}
GIVE_UPS: dict[str, GiveUp] = {}
SLOTS: dict[str, Slot] = {}
OWNERS: dict[str, Owners] = {}
# Imported when a broker is built, so that every job is registered on it.
JOB_MODULES = (
    "bandstand.mail.tasks",
    "bandstand.songs.tasks",
    "bandstand.accounts.tasks",
    "bandstand.engagement.tasks",
    "bandstand.moderation.tasks",
)


def job(
    name: str,
    *,
    give_up: GiveUp | None = None,
    slot: Slot | None = None,
    owners: Owners | None = None,
) -> Callable[[Job], Job]:
    """Register ``func`` as the job called ``name`` (what the queue carries)."""

    def register(func: Job) -> Job:
        if name in JOBS and JOBS[name] is not func:
            raise ValueError(f"two jobs are called {name!r}")
        JOBS[name] = func
        if give_up is not None:
            GIVE_UPS[name] = give_up
        if slot is not None:
            SLOTS[name] = slot
        if owners is not None:
            OWNERS[name] = owners
        return func

    return register
