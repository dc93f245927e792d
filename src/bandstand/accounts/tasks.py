"""Accounts' background jobs."""

from __future__ import annotations

from typing import Annotated

from taskiq import Context, TaskiqDepends

from bandstand.accounts.signups import purge_all_expired_signups
from bandstand.worker.jobs import job


@job("accounts.purge_expired_signups")
async def purge_expired_signups(context: Annotated[Context, TaskiqDepends()]) -> None:
    await purge_all_expired_signups(context.state.runtime)
