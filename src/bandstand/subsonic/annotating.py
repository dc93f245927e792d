"""The queries of the ``/rest`` methods that annotate and keep things: ratings, what a
listener is playing now, the songs a scrobble plays, and playlists as apps list them.

Songs are read under the one visibility rule (``songs.repository.listed``, which
``repository.song_rows`` applies too), playlists under theirs
(``playlists.repository.readable_by``, the rule the REST API's ``visible_to`` reads by):
nothing here shows an app what the REST API hides. Likes, plays and playlist changes are
not written here: the shared services write them (``engagement``, ``playlists``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import NowPlaying, Playlist, PlaylistSong, Song, SongRating
from bandstand.playlists.repository import OWNER as PLAYLIST_OWNER
from bandstand.playlists.repository import readable_by, visible
from bandstand.songs.repository import listed
from bandstand.subsonic.repository import song_rows


def _insert(session: AsyncSession) -> Any:
    """An INSERT that can say ON CONFLICT, in the session's dialect."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- songs --------------------------------------------------------------------------


async def seen_songs(
    session: AsyncSession, viewer_id: uuid.UUID, ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these songs ``viewer_id`` may see."""
    if not ids:
        return set()
    stmt = select(Song.id).where(Song.id.in_(ids), listed(viewer_id))
    return set((await session.scalars(stmt)).all())


async def songs_to_play(
    session: AsyncSession, viewer_id: uuid.UUID, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Song]:
    """The songs ``viewer_id`` may see of these, by id, as the play service takes them
    (what the REST play route's ``ExistingSong`` reads)."""
    if not ids:
        return {}
    stmt = select(Song).where(Song.id.in_(ids), listed(viewer_id))
    return {song.id: song for song in (await session.scalars(stmt)).all()}


# --- ratings ------------------------------------------------------------------------


async def rate(
    session: AsyncSession, user_id: uuid.UUID, song_id: uuid.UUID, rating: int, now: datetime
) -> None:
    """Set the listener's rating of the song (1 to 5), or remove it (0)."""
    if rating == 0:
        await session.execute(
            delete(SongRating).where(SongRating.user_id == user_id, SongRating.song_id == song_id)
        )
        return
    stmt = _insert(session)(SongRating).values(
        user_id=user_id, song_id=song_id, rating=rating, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[SongRating.user_id, SongRating.song_id],
        set_={"rating": rating, "updated_at": now},
    )
    await session.execute(stmt)


# --- now playing --------------------------------------------------------------------


async def now_playing(
    session: AsyncSession, user_id: uuid.UUID, song_id: uuid.UUID, client: str, now: datetime
) -> None:
    """The listener's app started playing the song: their one row, replaced."""
    stmt = _insert(session)(NowPlaying).values(
        user_id=user_id, song_id=song_id, client=client, started_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[NowPlaying.user_id],
        set_={"song_id": song_id, "client": client, "started_at": now},
    )
    await session.execute(stmt)


def playing(viewer_id: uuid.UUID, listener_id: uuid.UUID, since: datetime) -> Select[Any]:
    """What ``listener_id``'s app said it started since ``since``, as rows of
    ``song_rows`` (for ``viewer_id``) with ``playing_since`` and ``player``."""
    return (
        song_rows(viewer_id)
        .add_columns(
            NowPlaying.started_at.label("playing_since"), NowPlaying.client.label("player")
        )
        .join(NowPlaying, NowPlaying.song_id == Song.id)
        .where(NowPlaying.user_id == listener_id, NowPlaying.started_at >= since)
        .order_by(NowPlaying.started_at.desc())
    )


# --- playlists ----------------------------------------------------------------------


def _of_songs_seen(viewer_id: uuid.UUID, column: Any) -> Select[Any]:
    """``column`` over the playlist's songs ``viewer_id`` may see, correlated to the
    playlist of the statement it sits in."""
    return (
        select(column)
        .select_from(PlaylistSong)
        .join(Song, Song.id == PlaylistSong.song_id)
        .where(PlaylistSong.playlist_id == Playlist.id, listed(viewer_id))
        .correlate(Playlist)
    )


def _playlists(viewer_id: uuid.UUID) -> Select[Any]:
    """Playlists ``viewer_id`` may see, as apps list them: their columns, the owner's
    username, how many of their songs the viewer may see and how long those last, and the
    cover they show (their own, or their first such song's)."""
    first_cover = (
        _of_songs_seen(viewer_id, Song.thumbnail_key)
        .order_by(PlaylistSong.position)
        .limit(1)
        .scalar_subquery()
    )
    return select(
        Playlist.id,
        Playlist.owner_id,
        Playlist.name,
        Playlist.description,
        Playlist.is_public,
        Playlist.created_at,
        Playlist.updated_at,
        PLAYLIST_OWNER.username.label("owner_username"),
        _of_songs_seen(viewer_id, func.count()).scalar_subquery().label("song_count"),
        _of_songs_seen(viewer_id, func.coalesce(func.sum(Song.duration), 0.0))
        .scalar_subquery()
        .label("seconds"),
        func.coalesce(Playlist.thumbnail_key, first_cover).label("cover_key"),
    ).where(readable_by(viewer_id))


async def playlist(session: AsyncSession, viewer_id: uuid.UUID, playlist_id: uuid.UUID) -> Any:
    """The playlist as apps list it, if ``viewer_id`` may see it (public and not hidden,
    its owner not banned; or theirs); None whether missing or not theirs to see."""
    stmt = _playlists(viewer_id).where(Playlist.id == playlist_id)
    return (await session.execute(stmt)).first()


async def playlists(
    session: AsyncSession,
    viewer_id: uuid.UUID,
    *,
    owner_id: uuid.UUID | None = None,
    not_owner_id: uuid.UUID | None = None,
    limit: int,
) -> Sequence[Any]:
    """Playlists ``viewer_id`` may see, of ``owner_id`` or of anyone but ``not_owner_id``,
    newest first."""
    stmt = _playlists(viewer_id).order_by(Playlist.id.desc()).limit(limit)
    if owner_id is not None:
        stmt = stmt.where(Playlist.owner_id == owner_id)
    if not_owner_id is not None:
        stmt = stmt.where(Playlist.owner_id != not_owner_id)
    found: Sequence[Any] = (await session.execute(stmt)).all()
    return found


def playlist_songs(viewer_id: uuid.UUID, playlist_id: uuid.UUID) -> Select[Any]:
    """The playlist's songs ``viewer_id`` may see, in its order, as rows of
    ``song_rows``."""
    return (
        song_rows(viewer_id)
        .join(PlaylistSong, PlaylistSong.song_id == Song.id)
        .where(PlaylistSong.playlist_id == playlist_id)
        .order_by(PlaylistSong.position)
    )


async def playlist_song_ids(
    session: AsyncSession, viewer_id: uuid.UUID, playlist_id: uuid.UUID
) -> list[uuid.UUID]:
    """The ids of ``playlist_songs``, in order: what an app's song indexes count."""
    stmt = (
        select(PlaylistSong.song_id)
        .join(Song, Song.id == PlaylistSong.song_id)
        .where(PlaylistSong.playlist_id == playlist_id, listed(viewer_id))
        .order_by(PlaylistSong.position)
    )
    return list((await session.scalars(stmt)).all())


async def playlist_to_change(
    session: AsyncSession, viewer_id: uuid.UUID, playlist_id: uuid.UUID
) -> Playlist | None:
    """The playlist as the playlists service takes it, if ``viewer_id`` may see it (the
    REST API's ``visible_to`` reads it by the same function)."""
    return await visible(session, playlist_id, viewer_id)
