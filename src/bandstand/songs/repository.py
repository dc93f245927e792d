"""Every songs query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, ScalarSelect, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bandstand.kit.time import utcnow
from bandstand.models import Counter, Song, SongStatus, SongWaveform, User
from bandstand.songs.cards import CARD_COLUMNS

CATALOGUE = "songs"


def _cards(*extra: ColumnElement[int]) -> Select[tuple[object, ...]]:
    return select(*CARD_COLUMNS, *extra).join(User, User.id == Song.owner_id)


async def song(session: AsyncSession, song_id: uuid.UUID) -> Song | None:
    stmt = select(Song).options(joinedload(Song.owner)).where(Song.id == song_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest(
    session: AsyncSession,
    *,
    limit: int,
    offset: int = 0,
    before: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> Sequence[Row[tuple[object, ...]]]:
    """Newest cards first. Ids are time-ordered, so ``before`` is a keyset cursor whose cost
    does not grow with depth; ``offset`` serves page numbers."""
    stmt = _cards().order_by(Song.id.desc()).limit(limit)
    if owner_id is not None:
        stmt = stmt.where(Song.owner_id == owner_id)
    if before is not None:
        stmt = stmt.where(Song.id < before)
    elif offset:
        stmt = stmt.offset(offset)
    return (await session.execute(stmt)).all()


def _total(owner_id: uuid.UUID | None) -> ScalarSelect[int]:
    if owner_id is None:
        return select(Counter.value).where(Counter.name == CATALOGUE).scalar_subquery()
    return select(func.count()).select_from(Song).where(Song.owner_id == owner_id).scalar_subquery()


async def newest_with_total(
    session: AsyncSession,
    *,
    limit: int,
    before: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> tuple[Sequence[Row[tuple[object, ...]]], int | None]:
    """``newest`` from the top or from a cursor, with the total it is a page of (the
    catalogue's counter, or the owner's count) read by the same query: one round trip
    instead of two on the busiest route. The total is None when no song came back."""
    total = _total(owner_id).label("total")
    stmt = _cards(total).order_by(Song.id.desc()).limit(limit)
    if owner_id is not None:
        stmt = stmt.where(Song.owner_id == owner_id)
    if before is not None:
        stmt = stmt.where(Song.id < before)
    rows = (await session.execute(stmt)).all()
    return rows, (int(rows[0].total or 0) if rows else None)


async def count_owned(session: AsyncSession, owner_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Song).where(Song.owner_id == owner_id)
    return int((await session.execute(stmt)).scalar_one())


async def catalogue_size(session: AsyncSession) -> int:
    stmt = select(Counter.value).where(Counter.name == CATALOGUE)
    return int((await session.execute(stmt)).scalar_one_or_none() or 0)


async def add_to_catalogue(session: AsyncSession, delta: int) -> None:
    stmt = update(Counter).where(Counter.name == CATALOGUE).values(value=Counter.value + delta)
    await session.execute(stmt.execution_options(synchronize_session=False))


async def delete_song(session: AsyncSession, song_id: uuid.UUID) -> list[str] | None:
    """Delete the row; the file keys it held at that moment, or None if it was gone."""
    stmt = delete(Song).where(Song.id == song_id).returning(Song.audio_key, Song.thumbnail_key)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else [row.audio_key, row.thumbnail_key]


async def swap_cover(
    session: AsyncSession, song_id: uuid.UUID, old: str, new: str, now: datetime
) -> bool:
    """Point the song at a new cover if it still has ``old``; False if it changed."""
    stmt = (
        update(Song)
        .where(Song.id == song_id, Song.thumbnail_key == old)
        .values(thumbnail_key=new, updated_at=now)
        .returning(Song.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def song_to_process(session: AsyncSession, song_id: uuid.UUID) -> Song | None:
    return await session.get(Song, song_id)


async def mark_ready(
    session: AsyncSession,
    song_id: uuid.UUID,
    *,
    hls_key: str,
    progressive_key: str,
    loudness_lufs: float | None,
    true_peak_dbtp: float | None,
    gain_db: float,
    peaks: str,
) -> bool:
    """Record what processing made; False if the song is gone or no longer processing."""
    stmt = (
        update(Song)
        .where(Song.id == song_id, Song.status == SongStatus.PROCESSING)
        .values(
            status=SongStatus.READY,
            hls_key=hls_key,
            progressive_key=progressive_key,
            loudness_lufs=loudness_lufs,
            true_peak_dbtp=true_peak_dbtp,
            gain_db=gain_db,
            failure_reason=None,
        )
        .returning(Song.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return False
    await session.merge(SongWaveform(song_id=song_id, peaks=peaks))
    return True


async def mark_failed(session: AsyncSession, song_id: uuid.UUID, reason: str) -> None:
    stmt = (
        update(Song)
        .where(Song.id == song_id, Song.status == SongStatus.PROCESSING)
        .values(status=SongStatus.FAILED, failure_reason=reason)
    )
    await session.execute(stmt.execution_options(synchronize_session=False))


async def stalled(session: AsyncSession, older_than_s: float) -> Sequence[uuid.UUID]:
    """Songs still processing that were uploaded longer ago than ``older_than_s``."""
    since = utcnow() - timedelta(seconds=older_than_s)
    stmt = select(Song.id).where(Song.status == SongStatus.PROCESSING, Song.created_at < since)
    return (await session.execute(stmt.limit(1000))).scalars().all()


async def waveform(session: AsyncSession, song_id: uuid.UUID) -> str | None:
    stmt = select(SongWaveform.peaks).where(SongWaveform.song_id == song_id)
    return (await session.execute(stmt)).scalar_one_or_none()
