"""Every songs query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    ScalarSelect,
    Select,
    and_,
    delete,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bandstand.kit.time import utcnow
from bandstand.media.audio import FORMATS
from bandstand.models import Counter, Song, SongStatus, SongWaveform, User
from bandstand.songs.cards import CARD_COLUMNS, OWNER

CATALOGUE = "songs"
# Who reads: a user's id, None for anyone at all, or a column holding the reader's id
# (a statement that writes for many users at once: engagement's likes).
Viewer = uuid.UUID | ColumnElement[Any] | None


def _seen(viewer_id: Viewer) -> ColumnElement[bool]:
    """``listed`` without the join to the owner, which the statement then makes."""
    everyone = and_(Song.taken_down_at.is_(None), OWNER.banned_at.is_(None))
    if viewer_id is None:
        return everyone
    return or_(everyone, Song.owner_id == viewer_id)


def listed(viewer_id: Viewer) -> ColumnElement[bool]:
    """The one rule for who may see a song, which every query that reads songs for
    someone applies: everyone, unless a moderator took it down or its owner is banned;
    its owner, always. ``None`` is anyone at all (lists the same for everybody: the
    catalogue, search). It joins the song's owner (``OWNER``) itself, so it fits any
    statement over ``songs``; one that joins ``OWNER`` already is not slowed by it."""
    return and_(OWNER.id == Song.owner_id, _seen(viewer_id))


def _cards(viewer_id: uuid.UUID | None, *extra: ColumnElement[int]) -> Select[tuple[object, ...]]:
    return (
        select(*CARD_COLUMNS, *extra)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(listed(viewer_id))
    )


async def song(
    session: AsyncSession, song_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Song | None:
    """The song if ``viewer_id`` may see it; None whether it is missing or hidden, so the
    two cannot be told apart."""
    stmt = select(Song).options(joinedload(Song.owner)).where(Song.id == song_id, listed(viewer_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID | None,
    limit: int,
    offset: int = 0,
    before: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> Sequence[Row[tuple[object, ...]]]:
    """Newest cards ``viewer_id`` may see first. Ids are time-ordered, so ``before`` is a
    keyset cursor whose cost does not grow with depth; ``offset`` serves page numbers."""
    stmt = _cards(viewer_id).order_by(Song.id.desc()).limit(limit)
    if owner_id is not None:
        stmt = stmt.where(Song.owner_id == owner_id)
    if before is not None:
        stmt = stmt.where(Song.id < before)
    elif offset:
        stmt = stmt.offset(offset)
    return (await session.execute(stmt)).all()


def _owned(owner_id: uuid.UUID, viewer_id: uuid.UUID | None) -> Select[int]:
    return (
        select(func.count()).select_from(Song).where(Song.owner_id == owner_id, listed(viewer_id))
    )


def _total(owner_id: uuid.UUID | None, viewer_id: uuid.UUID | None) -> ScalarSelect[int]:
    if owner_id is None:
        return select(Counter.value).where(Counter.name == CATALOGUE).scalar_subquery()
    # Counted on its own, never correlated to the page's songs it is read beside.
    return _owned(owner_id, viewer_id).correlate(None).scalar_subquery()


async def newest_with_total(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID | None,
    limit: int,
    before: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> tuple[Sequence[Row[tuple[object, ...]]], int | None]:
    """``newest`` from the top or from a cursor, with the total it is a page of (the
    catalogue's counter, or the owner's songs ``viewer_id`` may see) read by the same
    query: one round trip instead of two on the busiest route. The total is None when
    no song came back."""
    total = _total(owner_id, viewer_id).label("total")
    stmt = _cards(viewer_id, total).order_by(Song.id.desc()).limit(limit)
    if owner_id is not None:
        stmt = stmt.where(Song.owner_id == owner_id)
    if before is not None:
        stmt = stmt.where(Song.id < before)
    rows = (await session.execute(stmt)).all()
    return rows, (int(rows[0].total or 0) if rows else None)


async def count_owned(
    session: AsyncSession, owner_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> int:
    """How many of the owner's songs ``viewer_id`` may see."""
    return int((await session.execute(_owned(owner_id, viewer_id))).scalar_one())


async def catalogue_size(session: AsyncSession) -> int:
    stmt = select(Counter.value).where(Counter.name == CATALOGUE)
    return int((await session.execute(stmt)).scalar_one_or_none() or 0)


async def add_to_catalogue(session: AsyncSession, delta: int) -> None:
    stmt = update(Counter).where(Counter.name == CATALOGUE).values(value=Counter.value + delta)
    await session.execute(stmt.execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Deleted:
    # The file keys the row held at that moment: the original, the cover.
    keys: list[str]
    # Whether it was in the catalogue (not taken down, its owner not banned).
    listed: bool
    owner_id: uuid.UUID
    # Its original's bytes, which leave the owner's quota.
    size: int


async def delete_song(session: AsyncSession, song_id: uuid.UUID) -> Deleted | None:
    """Delete the row; what it held at that moment, or None if it was gone. The owner's
    row is read after the delete, under a share lock on PostgreSQL, so a ban committing
    meanwhile has either counted the song out of the catalogue already or waits."""
    stmt = (
        delete(Song)
        .where(Song.id == song_id)
        .returning(
            Song.audio_key, Song.thumbnail_key, Song.taken_down_at, Song.owner_id, Song.audio_size
        )
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    banned = select(User.banned_at).where(User.id == row.owner_id)
    if session.get_bind().dialect.name == "postgresql":
        banned = banned.with_for_update(read=True)
    owner_banned = (await session.execute(banned)).scalar_one_or_none() is not None
    listed = row.taken_down_at is None and not owner_banned
    return Deleted(
        keys=[row.audio_key, row.thumbnail_key],
        listed=listed,
        owner_id=row.owner_id,
        size=row.audio_size,
    )


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


async def files_seen(session: AsyncSession, folder: str, viewer_id: uuid.UUID | None) -> bool:
    """Whether ``viewer_id`` may see the song whose files are in ``songs/<folder>/``
    (where its original is, under a name of one of ``FORMATS``' extensions)."""
    originals = [f"songs/{folder}/original.{fmt.extension}" for fmt in FORMATS.values()]
    stmt = select(Song.id).where(Song.audio_key.in_(originals), listed(viewer_id)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def withheld_files(
    session: AsyncSession, *, owner_id: uuid.UUID | None = None, song_id: uuid.UUID | None = None
) -> list[tuple[str, str, bool]]:
    """The original's and the cover's keys of the owner's songs (or of the one song), each
    with whether only its owner may see it (``media/withheld.py``)."""
    stmt = select(Song.audio_key, Song.thumbnail_key, not_(_seen(None))).join(
        OWNER, OWNER.id == Song.owner_id
    )
    if owner_id is not None:
        stmt = stmt.where(Song.owner_id == owner_id)
    if song_id is not None:
        stmt = stmt.where(Song.id == song_id)
    rows = (await session.execute(stmt)).all()
    return [(audio, cover, bool(withheld)) for audio, cover, withheld in rows]


async def cover_hidden(
    session: AsyncSession, keys: Sequence[str], viewer_id: uuid.UUID | None
) -> bool:
    """Whether a song ``viewer_id`` may not see has one of ``keys`` as its cover (a cover
    nobody's song has, a playlist's, is not a song's to hide)."""
    stmt = (
        select(Song.id)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(Song.thumbnail_key.in_(keys), not_(_seen(viewer_id)))
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def waveform(session: AsyncSession, song_id: uuid.UUID) -> str | None:
    stmt = select(SongWaveform.peaks).where(SongWaveform.song_id == song_id)
    return (await session.execute(stmt)).scalar_one_or_none()
