"""What a user may still upload: the bytes their songs take (the originals, as uploaded)
against ``storage_quota_bytes``, and their uploads today (UTC, deleted ones included)
against ``uploads_per_day``. Both are kept on the user's row, moved in the transaction
that adds or deletes a song."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.kit.time import utcnow
from bandstand.models import User


@dataclass(frozen=True)
class Usage:
    bytes_used: int
    bytes_limit: int
    uploads_today: int
    uploads_per_day: int

    @property
    def bytes_left(self) -> int:
        return max(0, self.bytes_limit - self.bytes_used)

    @property
    def uploads_left(self) -> int:
        return max(0, self.uploads_per_day - self.uploads_today)


def of_row(
    settings: Settings, storage_used: int, uploads_day: date | None, uploads_today: int
) -> Usage:
    """The quota from what the user's row keeps (the login check reads it too)."""
    return Usage(
        bytes_used=storage_used,
        bytes_limit=settings.storage_quota_bytes,
        uploads_today=uploads_today if uploads_day == utcnow().date() else 0,
        uploads_per_day=settings.uploads_per_day,
    )


async def usage(session: AsyncSession, settings: Settings, owner_id: uuid.UUID) -> Usage:
    stmt = select(User.storage_used, User.uploads_day, User.uploads_today).where(
        User.id == owner_id
    )
    row = (await session.execute(stmt)).one_or_none()
    storage_used, day, uploads = row if row is not None else (0, None, 0)
    return of_row(settings, int(storage_used), day, int(uploads))


async def count_upload(session: AsyncSession, owner_id: uuid.UUID, size: int) -> tuple[int, int]:
    """Count an upload of ``size`` bytes in the owner's quota; the bytes used and the
    uploads today, this one included. The UPDATE takes the owner's row until the
    transaction ends, so one user's uploads are counted, and checked, one at a time (a
    refused one rolls back with its transaction)."""
    today = utcnow().date()
    stmt = (
        update(User)
        .where(User.id == owner_id)
        .values(
            uploads_today=case((User.uploads_day == today, User.uploads_today + 1), else_=1),
            uploads_day=today,
            storage_used=User.storage_used + size,
        )
        .returning(User.storage_used, User.uploads_today)
        .execution_options(synchronize_session=False)
    )
    used, uploads = (await session.execute(stmt)).one()
    return int(used), int(uploads)


async def give_back(session: AsyncSession, owner_id: uuid.UUID, size: int) -> None:
    """A deleted song's bytes leave its owner's quota (its upload stays counted)."""
    stmt = (
        update(User)
        .where(User.id == owner_id)
        .values(storage_used=User.storage_used - size)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)
