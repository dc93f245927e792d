"""Whether one more song fits a user's quota: checked before anything of it is stored."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.errors import PayloadTooLarge, TooManyRequests
from bandstand.kit.time import utcnow
from bandstand.songs.quota import Usage, usage


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _until_tomorrow() -> int:
    """Seconds until the day's uploads start again (midnight UTC)."""
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)
    return int((midnight - now).total_seconds()) + 1


async def admit(session: AsyncSession, settings: Settings, owner_id: uuid.UUID, size: int) -> Usage:
    """The owner's quota once a song of ``size`` bytes is added; 429 when today's uploads
    are spent, 413 when the bytes would not fit. (Two uploads by one user at the same
    moment may both fit alone and not together: the per-user upload budget bounds that.)"""
    now = await usage(session, settings, owner_id)
    if now.uploads_left <= 0:
        raise TooManyRequests(
            _until_tomorrow(),
            f"You have uploaded {now.uploads_today} songs today, as many as a day allows "
            f"({now.uploads_per_day}); uploads open again at midnight UTC.",
        )
    if size > now.bytes_left:
        raise PayloadTooLarge(
            f"This file ({_megabytes(size)}) does not fit in your storage quota: "
            f"{_megabytes(now.bytes_used)} of {_megabytes(now.bytes_limit)} used, "
            f"{_megabytes(now.bytes_left)} left. Delete songs to make room."
        )
    return dataclasses.replace(
        now, bytes_used=now.bytes_used + size, uploads_today=now.uploads_today + 1
    )
