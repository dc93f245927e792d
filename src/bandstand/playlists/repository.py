"""Every playlists query."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.models import Playlist, PlaylistSong, Song, User
from bandstand.songs.cards import CARD_COLUMNS as CARD_COLUMNS_OF_SONGS
from bandstand.songs.cards import OWNER as SONG_OWNER
from bandstand.songs.repository import listed

# A playlist's owner, under a name of its own (a statement may read ``users`` for a
# song's owner too): whether they are banned decides whether the playlist is seen.
OWNER = aliased(User, name="playlist_owner")


def readable_by(viewer_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The one rule for who may see a playlist: everyone if it is public, not hidden by a
    moderator and its owner not banned; its owner, always. ``None`` is anyone at all
    (lists meant for everybody: the public list, search). It joins the playlist's owner
    (``OWNER``) itself, so it fits any statement over ``playlists``."""
    everyone = and_(
        Playlist.is_public == true(), Playlist.hidden_at.is_(None), OWNER.banned_at.is_(None)
    )
    if viewer_id is not None:
        everyone = or_(everyone, Playlist.owner_id == viewer_id)
    return and_(OWNER.id == Playlist.owner_id, everyone)


def _song_count(viewer_id: uuid.UUID | None) -> ColumnElement[int]:
    """How many of its songs ``viewer_id`` may see (``songs.repository.listed``)."""
    return (
        select(func.count())
        .select_from(PlaylistSong)
        .join(Song, Song.id == PlaylistSong.song_id)
        .where(PlaylistSong.playlist_id == Playlist.id, listed(viewer_id))
        .correlate(Playlist)
        .scalar_subquery()
    )


def _cards(viewer_id: uuid.UUID | None, *extra: ColumnElement[Any]) -> Select[tuple[object, ...]]:
    """Playlists as answers show them: their columns, the owner's public summary flat, and
    how many of their songs ``viewer_id`` may see, read by Core in one statement."""
    return select(
        *Playlist.__table__.c,
        OWNER.username.label("owner_username"),
        OWNER.fullname.label("owner_fullname"),
        OWNER.avatar_key.label("owner_avatar_key"),
        _song_count(viewer_id).label("song_count"),
        *extra,
    ).join(OWNER, OWNER.id == Playlist.owner_id)


async def visible(
    session: AsyncSession, playlist_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Playlist | None:
    """The playlist if ``viewer_id`` (None: anyone) may see it; None whether it is
    missing or not theirs to see, so the two cannot be told apart."""
    stmt = select(Playlist).where(Playlist.id == playlist_id, readable_by(viewer_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def cards(
    session: AsyncSession, ids: Sequence[uuid.UUID], viewer_id: uuid.UUID | None
) -> list[Row[tuple[object, ...]]]:
    """Cards of these playlists, in the order given (missing ones left out), their songs
    as ``viewer_id`` sees them. Whoever chose the ids decided who may see them."""
    if not ids:
        return []
    rows = (await session.execute(_cards(viewer_id).where(Playlist.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found[ident] for ident in ids if ident in found]


def _listed(owner_id: uuid.UUID | None, viewer_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conditions = [readable_by(viewer_id)]
    if owner_id is not None:
        conditions.append(Playlist.owner_id == owner_id)
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
        .order_by(Playlist.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(Playlist.id < before)
    elif offset:
        stmt = stmt.offset(offset)
    return (await session.execute(stmt)).all()


async def count(
    session: AsyncSession, *, viewer_id: uuid.UUID | None, owner_id: uuid.UUID | None = None
) -> int:
    stmt = select(func.count()).select_from(Playlist).where(*_listed(owner_id, viewer_id))
    return int((await session.execute(stmt)).scalar_one())


async def song_ids(
    session: AsyncSession, playlist_ids: Collection[uuid.UUID], viewer_id: uuid.UUID | None
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each playlist's ids of the songs ``viewer_id`` may see, in order."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {ident: [] for ident in playlist_ids}
    if not playlist_ids:
        return found
    stmt = (
        select(PlaylistSong.playlist_id, PlaylistSong.song_id)
        .join(Song, Song.id == PlaylistSong.song_id)
        .where(PlaylistSong.playlist_id.in_(playlist_ids), listed(viewer_id))
        .order_by(PlaylistSong.playlist_id, PlaylistSong.position)
    )
    for playlist_id, song_id in await session.execute(stmt):
        found[playlist_id].append(song_id)
    return found


async def songs(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    viewer_id: uuid.UUID | None,
    *,
    limit: int,
    offset: int = 0,
    after: int | None = None,
) -> Sequence[Row[tuple[object, ...]]]:
    """Cards of the playlist's songs ``viewer_id`` may see, in order, each with its
    ``position``. ``after`` (a position) is a keyset cursor over the (playlist, position)
    index."""
    stmt: Select[tuple[object, ...]] = (
        select(*CARD_COLUMNS_OF_SONGS, PlaylistSong.position)
        .join(PlaylistSong, PlaylistSong.song_id == Song.id)
        .join(SONG_OWNER, SONG_OWNER.id == Song.owner_id)
        .where(PlaylistSong.playlist_id == playlist_id, listed(viewer_id))
        .order_by(PlaylistSong.position)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(PlaylistSong.position > after)
    elif offset:
        stmt = stmt.offset(offset)
    return (await session.execute(stmt)).all()


async def create(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    name: str,
    description: str,
    is_public: bool,
    thumbnail_key: str | None,
) -> Playlist:
    playlist = Playlist(
        owner_id=owner_id,
        name=name,
        description=description,
        is_public=is_public,
        thumbnail_key=thumbnail_key,
    )
    session.add(playlist)
    await session.flush()
    return playlist


async def lock(session: AsyncSession, playlist_id: uuid.UUID, now: datetime) -> bool:
    """Mark the playlist changed, holding its row until the transaction ends, so changes
    to its song list take turns; False if it is gone."""
    stmt = (
        update(Playlist)
        .where(Playlist.id == playlist_id)
        .values(updated_at=now)
        .returning(Playlist.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def existing_songs(
    session: AsyncSession, ids: Collection[uuid.UUID], viewer_id: uuid.UUID
) -> set[uuid.UUID]:
    """Which of these songs exist and ``viewer_id`` may see, kept from being deleted until
    the transaction ends (PostgreSQL; SQLite writes one transaction at a time anyway)."""
    stmt = (
        select(Song.id)
        .where(Song.id.in_(ids), listed(viewer_id))
        .with_for_update(of=Song, read=True, key_share=True)
    )
    return set((await session.scalars(stmt)).all())


async def contents(session: AsyncSession, playlist_id: uuid.UUID) -> tuple[set[uuid.UUID], int]:
    """The songs already in the playlist, and the last position taken (0 if none)."""
    stmt = select(PlaylistSong.song_id, PlaylistSong.position).where(
        PlaylistSong.playlist_id == playlist_id
    )
    rows = (await session.execute(stmt)).all()
    return {row.song_id for row in rows}, max((row.position for row in rows), default=0)


async def append(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    song_ids: Sequence[uuid.UUID],
    after: int,
    now: datetime,
) -> None:
    if not song_ids:
        return
    rows = [
        {"playlist_id": playlist_id, "song_id": song_id, "position": after + n, "added_at": now}
        for n, song_id in enumerate(song_ids, start=1)
    ]
    await session.execute(insert(PlaylistSong), rows)


async def remove_song(session: AsyncSession, playlist_id: uuid.UUID, song_id: uuid.UUID) -> bool:
    stmt = delete(PlaylistSong).where(
        PlaylistSong.playlist_id == playlist_id, PlaylistSong.song_id == song_id
    )
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def change(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    values: dict[str, Any],
    *,
    cover: tuple[str | None, str] | None = None,
) -> bool:
    """Write ``values`` (columns by name) and, with ``cover`` (old key, new key), point the
    playlist at the new cover if it still has the old one. False if the playlist is gone
    or its cover changed meanwhile."""
    stmt = update(Playlist).where(Playlist.id == playlist_id)
    if cover is not None:
        old, new = cover
        same = Playlist.thumbnail_key.is_(None) if old is None else Playlist.thumbnail_key == old
        stmt = stmt.where(same)
        values = {**values, "thumbnail_key": new}
    stmt = stmt.values(**values).returning(Playlist.id)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return result.scalar_one_or_none() is not None


async def delete_playlist(session: AsyncSession, playlist_id: uuid.UUID) -> list[str] | None:
    """Delete the row (its song list goes with it); the file keys it held at that moment
    (its cover, if any), or None if it was gone."""
    stmt = delete(Playlist).where(Playlist.id == playlist_id).returning(Playlist.thumbnail_key)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    return [row.thumbnail_key] if row.thumbnail_key else []
