"""Accounts' background jobs."""

from __future__ import annotations

from bandstand.accounts.signups import purge_all_expired_signups
from bandstand.resources import JobSessions, JobStorage
from bandstand.worker.jobs import job


@job("accounts.purge_expired_signups")
async def purge_expired_signups(sessions: JobSessions, storage: JobStorage) -> None:
    await purge_all_expired_signups(sessions, storage)
