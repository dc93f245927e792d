"""Every query of the ``/rest`` API.

Songs are read only through ``song_rows``: the songs table's card columns
(``songs.cards.CARD_COLUMNS``, which ``read_cards`` turns into cards with their pending
counts) joined to their owner under the one visibility rule (``songs.repository.listed``:
takedowns, bans), plus what an app is shown beside them (the release they are on, when
the caller liked and rated them). Artists, albums and genres are counted over the same
rows, so nothing an app is shown counts a song the caller may not see, and a release none
of whose songs may be seen does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import Release, Song, SongLike, SongRating, User
from bandstand.songs.cards import CARD_COLUMNS, OWNER, Owner
from bandstand.songs.repository import listed
from bandstand.subsonic.mapping import Kind, Ref

Rows = Sequence[Any]


def _of_release(column: Any) -> Any:
    """A column of the song's release, read by primary key inside the song's row (None for
    a song on no release)."""
    return select(column).where(Release.id == Song.release_id).scalar_subquery()


# What an app is shown of a song's release, beside the song: the card columns may carry
# some of it already (``songs.cards``); what they do not is added under the same names.
_RELEASE = {
    "release_title": Release.title,
    "release_kind": Release.kind,
    "release_year": Release.year,
    "release_created_at": Release.created_at,
    "release_thumbnail_key": Release.thumbnail_key,
}
_CARRIED = {column.name for column in CARD_COLUMNS}
RELEASE_COLUMNS = tuple(
    _of_release(column).label(name) for name, column in _RELEASE.items() if name not in _CARRIED
)


def song_rows(viewer_id: uuid.UUID | None) -> Select[Any]:
    """Songs ``viewer_id`` may see, as rows ``read_cards`` reads and ``mapping.child``
    shows: the card columns, the release's (``release_title`` ...), and ``starred_at``
    and ``user_rating`` (the viewer's like and rating). Add the ``where``, ``order_by``
    and ``limit`` of the list at hand."""
    starred = (
        select(SongLike.created_at)
        .where(SongLike.song_id == Song.id, SongLike.user_id == viewer_id)
        .correlate(Song)
        .scalar_subquery()
    )
    rating = (
        select(SongRating.rating)
        .where(SongRating.song_id == Song.id, SongRating.user_id == viewer_id)
        .correlate(Song)
        .scalar_subquery()
    )
    return (
        select(
            *CARD_COLUMNS,
            *RELEASE_COLUMNS,
            starred.label("starred_at"),
            rating.label("user_rating"),
        )
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(listed(viewer_id))
    )


def in_track_order(stmt: Select[Any]) -> Select[Any]:
    """Songs as an album lists them: by track number (unnumbered last), then as uploaded."""
    return stmt.order_by(Song.track.is_(None), Song.track, Song.id)


async def rows(session: AsyncSession, stmt: Select[Any]) -> Rows:
    found: Rows = (await session.execute(stmt)).all()
    return found


def one_song(viewer_id: uuid.UUID, song_id: uuid.UUID) -> Select[Any]:
    return song_rows(viewer_id).where(Song.id == song_id)


async def song(session: AsyncSession, viewer_id: uuid.UUID, song_id: uuid.UUID) -> Any | None:
    return (await session.execute(one_song(viewer_id, song_id))).first()


async def song_file(session: AsyncSession, viewer_id: uuid.UUID, song_id: uuid.UUID) -> Any | None:
    """What ``stream`` and ``download`` need of a song the viewer may hear, and nothing
    more: they run for every play and seek, and the card's counts and release are not
    theirs to show. None if the song is missing or hidden."""
    stmt = (
        select(
            Song.title,
            Song.audio_key,
            Song.audio_format,
            Song.codec,
            Song.bitrate,
            Song.progressive_key,
            OWNER.username.label("owner_username"),
            OWNER.fullname.label("owner_fullname"),
        )
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(Song.id == song_id, listed(viewer_id))
    )
    return (await session.execute(stmt)).first()


def album_songs(viewer_id: uuid.UUID, album: Ref) -> Select[Any]:
    """The songs of the album ``album`` names (a release, or a single), in track order."""
    stmt = song_rows(viewer_id)
    if album.kind is Kind.RELEASE:
        stmt = stmt.where(Song.release_id == album.id)
    else:
        stmt = stmt.where(Song.id == album.id, Song.release_id.is_(None))
    return in_track_order(stmt)


def artist_songs(viewer_id: uuid.UUID, owner_id: uuid.UUID) -> Select[Any]:
    """An artist's songs, album by album (newest release first, then the singles, newest
    first), each album's in track order."""
    created = func.coalesce(_of_release(Release.created_at), Song.created_at)
    return (
        song_rows(viewer_id)
        .where(Song.owner_id == owner_id)
        .order_by(
            created.desc(),
            func.coalesce(Song.release_id, Song.id),
            Song.track.is_(None),
            Song.track,
            Song.id,
        )
    )


# An album is a release, or a song on none: counted as distinct releases plus lone songs.
_ALBUMS = func.count(distinct(Song.release_id)) + func.coalesce(
    func.sum(case((Song.release_id.is_(None), 1), else_=0)), 0
)


@dataclass(frozen=True, slots=True)
class ArtistRow:
    owner: Owner
    album_count: int
    song_count: int
    changed: datetime | None


async def artists(session: AsyncSession, viewer_id: uuid.UUID) -> list[ArtistRow]:
    """Every account with a song ``viewer_id`` may see, with its album and song counts
    and when its newest change was."""
    stmt = (
        select(
            OWNER.id,
            OWNER.username,
            OWNER.fullname,
            OWNER.avatar_key,
            _ALBUMS.label("albums"),
            func.count().label("songs"),
            func.max(Song.updated_at).label("changed"),
        )
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(listed(viewer_id))
        .group_by(OWNER.id, OWNER.username, OWNER.fullname, OWNER.avatar_key)
    )
    return [
        ArtistRow(
            Owner(r.id, r.username, r.fullname, r.avatar_key),
            int(r.albums),
            int(r.songs),
            r.changed,
        )
        for r in (await session.execute(stmt)).all()
    ]


@dataclass(frozen=True, slots=True)
class GenreRow:
    name: str
    song_count: int
    album_count: int


async def genres(session: AsyncSession, viewer_id: uuid.UUID) -> list[GenreRow]:
    """Each genre of the songs ``viewer_id`` may see, with how many songs and albums."""
    stmt = (
        select(Song.genre, func.count().label("songs"), _ALBUMS.label("albums"))
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(listed(viewer_id), Song.genre.is_not(None), Song.genre != "")
        .group_by(Song.genre)
        .order_by(Song.genre)
    )
    return [
        GenreRow(r.genre, int(r.songs), int(r.albums)) for r in (await session.execute(stmt)).all()
    ]


async def song_count(session: AsyncSession, viewer_id: uuid.UUID) -> int:
    """How many songs ``viewer_id`` may see."""
    stmt = select(func.count()).select_from(Song).join(OWNER, OWNER.id == Song.owner_id)
    return int((await session.execute(stmt.where(listed(viewer_id)))).scalar_one())


async def cover_key(session: AsyncSession, viewer_id: uuid.UUID, ref: Ref) -> str | None:
    """The stored picture a cover art id (``mapping.parse_cover_art``) names, if the
    viewer may see what it pictures: a song's cover, a release's (its own, or its first
    song's), a single's, an artist's avatar. Playlists' covers are the playlists'."""
    if ref.kind is Kind.ARTIST:
        stmt = song_rows(viewer_id).where(Song.owner_id == ref.id).limit(1)
        found = (await session.execute(stmt)).first()
        return found.owner_avatar_key if found is not None else None
    if ref.kind is Kind.PLAYLIST:
        return None
    if ref.kind is Kind.SONG:
        found = await song(session, viewer_id, ref.id)
    else:
        found = (await session.execute(album_songs(viewer_id, ref).limit(1))).first()
    if found is None:
        return None
    if ref.kind is Kind.RELEASE and found.release_thumbnail_key:
        return str(found.release_thumbnail_key)
    return str(found.thumbnail_key)


async def user_named(session: AsyncSession, username: str) -> User | None:
    """The account whose username is ``username``, in any case."""
    stmt = select(User).where(User.username_key == username.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()
