"""The queries an import makes of what its owner already has: songs by the SHA-256 of
their file, releases by id or title."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import Release, Song

# Values per IN (...): well under SQLite's and asyncpg's limits on parameters.
_CHUNK = 500


@dataclass(frozen=True)
class Known:
    """A song of the owner's with a file's bytes, and the release it is on (None: none)."""

    song_id: uuid.UUID
    release_id: uuid.UUID | None


async def known(
    session: AsyncSession, owner_id: uuid.UUID, hashes: Iterable[str]
) -> dict[str, Known]:
    """Of ``hashes``, those of files the owner's songs were made from (the oldest song
    for each)."""
    wanted = sorted(set(hashes))
    found: dict[str, Known] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = (
            select(Song.content_hash, Song.id, Song.release_id)
            .where(Song.owner_id == owner_id, Song.content_hash.in_(wanted[start : start + _CHUNK]))
            .order_by(Song.id)
        )
        for content_hash, song_id, release_id in await session.execute(stmt):
            if content_hash is not None:
                found.setdefault(content_hash, Known(song_id, release_id))
    return found


async def release(
    session: AsyncSession, release_id: uuid.UUID, owner_id: uuid.UUID
) -> Release | None:
    """The owner's release, if it is still there."""
    stmt = select(Release).where(Release.id == release_id, Release.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def release_titled(session: AsyncSession, owner_id: uuid.UUID, title: str) -> Release | None:
    """The owner's newest release of this title (case aside)."""
    stmt = (
        select(Release)
        .where(Release.owner_id == owner_id, func.lower(Release.title) == title.lower())
        .order_by(Release.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def tracks(session: AsyncSession, release_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Song).where(Song.release_id == release_id)
    return int((await session.execute(stmt)).scalar_one())


async def statuses(session: AsyncSession, song_ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """How many of the songs are in each status (songs deleted since are not counted)."""
    counted: dict[str, int] = {}
    for start in range(0, len(song_ids), _CHUNK):
        chunk = list(song_ids[start : start + _CHUNK])
        stmt = select(Song.status, func.count()).where(Song.id.in_(chunk)).group_by(Song.status)
        for status, count in await session.execute(stmt):
            counted[status] = counted.get(status, 0) + int(count)
    return counted
