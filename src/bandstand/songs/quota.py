"""What a user may still upload: the bytes their songs take (the originals, as uploaded)
against ``storage_quota_bytes``, and their uploads today (UTC) against
``uploads_per_day``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.kit.time import utcnow
from bandstand.models import Song


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


async def usage(session: AsyncSession, settings: Settings, owner_id: uuid.UUID) -> Usage:
    today = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
    stmt = select(
        func.coalesce(func.sum(Song.audio_size), 0),
        func.count().filter(Song.created_at >= today),
    ).where(Song.owner_id == owner_id)
    used, uploads = (await session.execute(stmt)).one()
    return Usage(
        bytes_used=int(used),
        bytes_limit=settings.storage_quota_bytes,
        uploads_today=int(uploads),
        uploads_per_day=settings.uploads_per_day,
    )
