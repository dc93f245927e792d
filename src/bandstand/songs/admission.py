"""Whether one more song fits a user's quota: checked before anything of it is stored."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.errors import AppError, PayloadTooLarge, TooManyRequests
from bandstand.kit.time import utcnow
from bandstand.models import User
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


async def claim_each(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, sizes: Sequence[int]
) -> tuple[list[AppError | None], Usage]:
    """``claim`` for many files at once (an import's batch), in their order: each counted
    if it fits with the ones before it, refused as ``claim`` would refuse it alone if not.
    The owner's row is held until the transaction ends, as ``claim`` holds it. Answers
    each file's refusal (None: counted) and the quota with the counted ones in it."""
    refusals: list[AppError | None] = []
    if not sizes:
        return refusals, await usage(session, settings, owner_id)
    # Taken first, with everything counted: the row is ours from here on, so what it
    # said before is what the files are judged against.
    used, uploads = await _count(session, owner_id, len(sizes), sum(sizes))
    now = of_row(settings, used - sum(sizes), utcnow().date(), uploads - len(sizes))
    for size in sizes:
        try:
            _refuse_beyond(now, size)
        except AppError as refusal:
            refusals.append(refusal)
            continue
        refusals.append(None)
        now = dataclasses.replace(
            now, bytes_used=now.bytes_used + size, uploads_today=now.uploads_today + 1
        )
    refused = [size for size, why in zip(sizes, refusals, strict=True) if why is not None]
    if refused:
        # Given back in the same transaction: counted only what was taken.
        await _count(session, owner_id, -len(refused), -sum(refused))
    return refusals, now


async def _count(
    session: AsyncSession, owner_id: uuid.UUID, uploads: int, size: int
) -> tuple[int, int]:
    """``quota.count_upload`` for ``uploads`` files of ``size`` bytes in all."""
    today = utcnow().date()
    stmt = (
        update(User)
        .where(User.id == owner_id)
        .values(
            uploads_today=case(
                (User.uploads_day == today, User.uploads_today + uploads), else_=uploads
            ),
            uploads_day=today,
            storage_used=User.storage_used + size,
        )
        .returning(User.storage_used, User.uploads_today)
        .execution_options(synchronize_session=False)
    )
    used, counted = (await session.execute(stmt)).one()
    return int(used), int(counted)


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
