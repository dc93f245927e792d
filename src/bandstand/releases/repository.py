"""Every releases query. A release's songs are the songs that point at it
(``Song.release_id``), in ``Song.track`` order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.models import Release, Song, User
from bandstand.songs.cards import CARD_COLUMNS as CARD_COLUMNS_OF_SONGS
from bandstand.songs.cards import OWNER as SONG_OWNER
from bandstand.songs.repository import listed

# A release's owner, under a name of its own (a statement may read ``users`` for a song's
# owner too): whether they are banned decides whether the release is seen.
OWNER = aliased(User, name="release_owner")


def _songs_seen(viewer_id: uuid.UUID | None) -> ColumnElement[bool]:
    """A song is on the release and ``viewer_id`` may see it (``songs.repository.listed``)."""
    return and_(Song.release_id == Release.id, listed(viewer_id))


def readable_by(viewer_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The one rule for who may see a release: its owner, always; everyone else when its
    owner is not banned and at least one of its songs is theirs to see (a release of
    songs all taken down, or of none yet, is nothing to show). ``None`` is anyone at all.
    It joins the release's owner (``OWNER``) itself, so it fits any statement over
    ``releases``."""
    any_seen = select(Song.id).where(_songs_seen(None)).correlate(Release).exists()
    everyone = and_(OWNER.banned_at.is_(None), any_seen)
    if viewer_id is not None:
        everyone = or_(Release.owner_id == viewer_id, everyone)
    return and_(OWNER.id == Release.owner_id, everyone)


def _song_count(viewer_id: uuid.UUID | None) -> ColumnElement[int]:
    stmt = select(func.count()).select_from(Song).where(_songs_seen(viewer_id))
    return stmt.correlate(Release).scalar_subquery()


def _duration(viewer_id: uuid.UUID | None) -> ColumnElement[float]:
    stmt = select(func.coalesce(func.sum(Song.duration), 0.0)).where(_songs_seen(viewer_id))
    return stmt.correlate(Release).scalar_subquery()


def _cover_key(viewer_id: uuid.UUID | None) -> ColumnElement[str | None]:
    """The release's own cover, or else its first song's that ``viewer_id`` may see."""
    first = (
        select(Song.thumbnail_key)
        .where(_songs_seen(viewer_id))
        .order_by(Song.track, Song.id)
        .limit(1)
        .correlate(Release)
        .scalar_subquery()
    )
    return func.coalesce(Release.thumbnail_key, first)


def _cards(viewer_id: uuid.UUID | None) -> Select[tuple[object, ...]]:
    """Releases as answers show them: their columns, the owner's public summary flat, and
    what of their songs ``viewer_id`` may see (how many, how long, the first one's cover),
    read by Core in one statement."""
    return select(
        *Release.__table__.c,
        OWNER.username.label("owner_username"),
        OWNER.fullname.label("owner_fullname"),
        OWNER.avatar_key.label("owner_avatar_key"),
        _song_count(viewer_id).label("song_count"),
        _duration(viewer_id).label("duration"),
        _cover_key(viewer_id).label("cover_key"),
    ).join(OWNER, OWNER.id == Release.owner_id)


async def visible(
    session: AsyncSession, release_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Release | None:
    """The release if ``viewer_id`` (None: anyone) may see it; None whether it is missing
    or hidden, so the two cannot be told apart."""
    stmt = select(Release).where(Release.id == release_id, readable_by(viewer_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def card(
    session: AsyncSession, release_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Row[tuple[object, ...]] | None:
    """The release's card, its songs as ``viewer_id`` sees them. Whoever chose the id
    decided who may see the release."""
    stmt = _cards(viewer_id).where(Release.id == release_id)
    return (await session.execute(stmt)).one_or_none()


def _listed(owner_id: uuid.UUID | None, viewer_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conditions = [readable_by(viewer_id)]
    if owner_id is not None:
        conditions.append(Release.owner_id == owner_id)
    return conditions


async def newest(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID | None,
    owner_id: uuid.UUID | None = None,
    limit: int,
    offset: int = 0,
    before: uuid.UUID | None = None,
) -> Sequence[Row[tuple[object, ...]]]:
    """Cards readable by ``viewer_id`` (of ``owner_id``'s, if given), newest first. Ids
    are time-ordered, so ``before`` is a keyset cursor; ``offset`` serves page numbers."""
    stmt = (
        _cards(viewer_id)
        .where(*_listed(owner_id, viewer_id))
        .order_by(Release.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(Release.id < before)
    elif offset:
        stmt = stmt.offset(offset)
    return (await session.execute(stmt)).all()


async def count(
    session: AsyncSession, *, viewer_id: uuid.UUID | None, owner_id: uuid.UUID | None = None
) -> int:
    stmt = (
        select(func.count())
        .select_from(Release)
        .join(OWNER, OWNER.id == Release.owner_id)
        .where(*_listed(owner_id, viewer_id))
    )
    return int((await session.execute(stmt)).scalar_one())


async def songs(
    session: AsyncSession, release_id: uuid.UUID, viewer_id: uuid.UUID | None, limit: int
) -> Sequence[Row[tuple[object, ...]]]:
    """Cards of the release's songs ``viewer_id`` may see, in track order."""
    stmt = (
        select(*CARD_COLUMNS_OF_SONGS)
        .join(SONG_OWNER, SONG_OWNER.id == Song.owner_id)
        .where(Song.release_id == release_id, listed(viewer_id))
        .order_by(Song.track, Song.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def singles(
    session: AsyncSession, owner_id: uuid.UUID, limit: int
) -> Sequence[Row[tuple[object, ...]]]:
    """Cards of the owner's newest songs on no release (taken-down ones too: they are
    theirs to place), newest first."""
    stmt = (
        select(*CARD_COLUMNS_OF_SONGS)
        .join(SONG_OWNER, SONG_OWNER.id == Song.owner_id)
        .where(Song.owner_id == owner_id, Song.release_id.is_(None), listed(owner_id))
        .order_by(Song.id.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def create(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    title: str,
    kind: str,
    year: int | None,
    thumbnail_key: str | None,
) -> Release:
    release = Release(
        owner_id=owner_id, title=title, kind=kind, year=year, thumbnail_key=thumbnail_key
    )
    session.add(release)
    await session.flush()
    return release


async def lock(session: AsyncSession, release_id: uuid.UUID, now: datetime) -> bool:
    """Mark the release changed, holding its row until the transaction ends, so changes
    to its track list take turns; False if it is gone."""
    stmt = (
        update(Release)
        .where(Release.id == release_id)
        .values(updated_at=now)
        .returning(Release.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


@dataclass(frozen=True)
class Placed:
    """Where a song is: whose it is, and the release it is on (None: a single)."""

    owner_id: uuid.UUID
    release_id: uuid.UUID | None


async def placing(
    session: AsyncSession, song_ids: Sequence[uuid.UUID], owner_id: uuid.UUID
) -> dict[uuid.UUID, Placed]:
    """The songs among ``song_ids`` that ``owner_id`` may see, by id, each with its owner
    and the release it is on (a song they may not see is as missing as one that does not
    exist)."""
    stmt = (
        select(Song.id, Song.owner_id, Song.release_id)
        .join(SONG_OWNER, SONG_OWNER.id == Song.owner_id)
        .where(Song.id.in_(song_ids), listed(owner_id))
    )
    rows = (await session.execute(stmt)).all()
    return {ident: Placed(owner, release) for ident, owner, release in rows}


async def tracks(session: AsyncSession, release_id: uuid.UUID) -> list[uuid.UUID]:
    """Every song on the release, hidden ones too, in track order."""
    stmt = select(Song.id).where(Song.release_id == release_id).order_by(Song.track, Song.id)
    return list((await session.execute(stmt)).scalars())


async def last_track(session: AsyncSession, release_id: uuid.UUID) -> tuple[int, int]:
    """How many songs the release has, and its highest track number (0 for none)."""
    stmt = select(func.count(), func.coalesce(func.max(Song.track), 0)).where(
        Song.release_id == release_id
    )
    found, last = (await session.execute(stmt)).one()
    return int(found), int(last or 0)


def _numbered(song_ids: Sequence[uuid.UUID], first: int) -> ColumnElement[int]:
    return case({song_id: n for n, song_id in enumerate(song_ids, start=first)}, value=Song.id)


async def place(
    session: AsyncSession,
    release_id: uuid.UUID,
    owner_id: uuid.UUID,
    song_ids: Sequence[uuid.UUID],
    after: int,
) -> set[uuid.UUID]:
    """Put the owner's songs on the release, as tracks ``after + 1`` onwards in the order
    given, each only if it is on no release yet (another change may have placed it since
    it was read); the ids of those placed."""
    if not song_ids:
        return set()
    stmt = (
        update(Song)
        .where(Song.id.in_(song_ids), Song.owner_id == owner_id, Song.release_id.is_(None))
        .values(release_id=release_id, track=_numbered(song_ids, after + 1))
        .returning(Song.id)
        .execution_options(synchronize_session=False)
    )
    return set((await session.execute(stmt)).scalars())


async def renumber(
    session: AsyncSession, release_id: uuid.UUID, song_ids: Sequence[uuid.UUID]
) -> None:
    """Give the release's songs tracks 1 to n in the order given."""
    if not song_ids:
        return
    stmt = (
        update(Song)
        .where(Song.release_id == release_id, Song.id.in_(song_ids))
        .values(track=_numbered(song_ids, 1))
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def take_off(session: AsyncSession, release_id: uuid.UUID, song_id: uuid.UUID) -> bool:
    """Make the song a single again, and close the gap its track leaves; False if it was
    not on the release. (The caller holds the release: ``lock``.)"""
    on_it = select(Song.track).where(Song.id == song_id, Song.release_id == release_id)
    found = (await session.execute(on_it)).one_or_none()
    if found is None:
        return False
    off = (
        update(Song)
        .where(Song.id == song_id)
        .values(release_id=None, track=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(off)
    if found.track is not None:
        closed = (
            update(Song)
            .where(Song.release_id == release_id, Song.track > found.track)
            .values(track=Song.track - 1)
            .execution_options(synchronize_session=False)
        )
        await session.execute(closed)
    return True


async def change(
    session: AsyncSession,
    release_id: uuid.UUID,
    values: dict[str, Any],
    *,
    cover: tuple[str | None, str] | None = None,
) -> bool:
    """Write ``values`` (columns by name) and, with ``cover`` (old key, new key), point the
    release at the new cover if it still has the old one. False if the release is gone or
    its cover changed meanwhile."""
    stmt = update(Release).where(Release.id == release_id)
    if cover is not None:
        old, new = cover
        same = Release.thumbnail_key.is_(None) if old is None else Release.thumbnail_key == old
        stmt = stmt.where(same)
        values = {**values, "thumbnail_key": new}
    stmt = stmt.values(**values).returning(Release.id)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return result.scalar_one_or_none() is not None


async def delete_release(session: AsyncSession, release_id: uuid.UUID) -> list[str] | None:
    """Delete the row; its songs stay, as singles (the foreign key sets their
    ``release_id`` to NULL; their tracks are cleared here). The file keys it held at that
    moment (its cover, if any), or None if it was gone."""
    untracked = (
        update(Song)
        .where(Song.release_id == release_id)
        .values(track=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(untracked)
    stmt = delete(Release).where(Release.id == release_id).returning(Release.thumbnail_key)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    return [row.thumbnail_key] if row.thumbnail_key else []
