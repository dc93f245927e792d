"""Whether one more song fits a user's quota: checked before anything of it is stored."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.errors import PayloadTooLarge, TooManyRequests
from bandstand.kit.time import utcnow
from bandstand.songs.quota import Usage, count_upload, of_row, usage


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _until_tomorrow() -> int:
    """Seconds until the day's uploads start again (midnight UTC)."""
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)
    return int((midnight - now).total_seconds()) + 1


async def admit(session: AsyncSession, settings: Settings, owner_id: uuid.UUID, size: int) -> Usage:
    """Whether a song of ``size`` bytes fits the owner's quota: a first look, before the
    file is read, so a refused upload costs nothing (429 when today's uploads are spent,
    413 when the bytes would not fit). ``claim`` decides, just before the song is added."""
    now = await usage(session, settings, owner_id)
    _refuse_beyond(now, size)
    return now


async def claim(session: AsyncSession, settings: Settings, owner_id: uuid.UUID, size: int) -> Usage:
    """Count the upload in the owner's quota and decide, holding the owner's row until the
    transaction ends: of two uploads at once, the second is decided with the first
    counted. The owner's quota with this song in it."""
    used, uploads = await count_upload(session, owner_id, size)
    counted = of_row(settings, used, utcnow().date(), uploads)
    # This upload is in both counts already: refused only past the limits.
    _refuse_beyond(
        dataclasses.replace(counted, bytes_used=used - size, uploads_today=uploads - 1), size
    )
    return counted


def _refuse_beyond(now: Usage, size: int) -> None:
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
