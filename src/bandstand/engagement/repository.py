"""Every query of plays, song likes and listening history, and the read of a song's
daily series (analytics). The counters' own queries are in ``counters/repository.py``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from bandstand.kit.ids import new_id
from bandstand.models import (
    Play,
    Song,
    SongDaily,
    SongLike,
    WatchEntry,
)
from bandstand.models.base import UTCDateTime
from bandstand.songs.cards import CARD_COLUMNS, OWNER
from bandstand.songs.repository import listed

# (id, views, likes, comments) and (song id, day, plays, likes, comments)
SongTotals = tuple[uuid.UUID, int, int, int]
DailyTotals = tuple[uuid.UUID, date, int, int, int]
# Rows of Core selects, read by attribute.
Rows = Sequence[Any]


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if _is_postgres(session) else sqlite.insert


# --- likes ---------------------------------------------------------------------------


def _seen_by_listener_sql() -> str:
    """The song of ``w.song_id``, if the listener ``w.user_id`` may see it, as PostgreSQL
    text: the one rule (``songs.repository.listed``) rendered into the statement below."""
    stmt: Select[Any] = select(literal_column("1")).where(
        Song.id == literal_column("w.song_id"), listed(literal_column("w.user_id"))
    )
    return str(stmt.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


# PostgreSQL (engagement/likes.py): a batch of likes and unlikes, at most one per listener
# and song, in one statement; for each whose song (and listener) exist, and the listener
# may see the song (404 to like or unlike one taken down, as to read it), whether it changed
# anything and the song's stored ``like_count``. $1 songs, $2 listeners, $3 whether each
# likes (else unlikes), $4 when. Inserts go in key order, so two batches adding the same
# likes wait for each other in one order; batches that still meet in a deadlock (one
# adding what the other removes) are tried again (``likes.py``).
# The rule is rendered in from SQLAlchemy's own statement, never from data.
WRITE_LIKES_SQL = f"""
WITH wanted AS (
    SELECT w.song_id, w.user_id, w.liking
    FROM unnest($1::uuid[], $2::uuid[], $3::bool[]) AS w(song_id, user_id, liking)
    WHERE EXISTS ({_seen_by_listener_sql()})
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = w.user_id)
),
added AS (
    INSERT INTO song_likes (song_id, user_id, created_at)
    SELECT song_id, user_id, $4 FROM wanted WHERE liking ORDER BY song_id, user_id
    ON CONFLICT DO NOTHING
    RETURNING song_id, user_id
),
removed AS (
    DELETE FROM song_likes l USING wanted w
    WHERE NOT w.liking AND l.song_id = w.song_id AND l.user_id = w.user_id
    RETURNING l.song_id, l.user_id
),
changed AS (SELECT * FROM added UNION ALL SELECT * FROM removed)
SELECT w.song_id, w.user_id, coalesce(t.like_count, 0) AS stored,
       EXISTS (SELECT 1 FROM changed c WHERE c.song_id = w.song_id AND c.user_id = w.user_id)
         AS changed
FROM wanted w LEFT JOIN song_stats t ON t.song_id = w.song_id
"""  # noqa: S608


async def add_like(
    session: AsyncSession, song_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> tuple[bool, int] | None:
    """Like the song unless already liked: (whether a like was added, the song's stored
    ``like_count``), or None if the song does not exist or the user may not see it.
    (SQLite; ``WRITE_LIKES_SQL`` does it for a batch on PostgreSQL.)"""
    values = select(
        literal(song_id, Uuid()), literal(user_id, Uuid()), literal(now, UTCDateTime())
    ).where(_seen(song_id, user_id))
    stmt = (
        _insert(session)(SongLike)
        .from_select(["song_id", "user_id", "created_at"], values)
        .on_conflict_do_nothing()
        .returning(SongLike.song_id)
    )
    return await _changed_with_count(session, stmt, song_id, user_id)


async def remove_like(
    session: AsyncSession, song_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[bool, int] | None:
    """Withdraw the like if there is one: as ``add_like``."""
    stmt = (
        delete(SongLike)
        .where(SongLike.song_id == song_id, SongLike.user_id == user_id, _seen(song_id, user_id))
        .returning(SongLike.song_id)
    )
    return await _changed_with_count(session, stmt, song_id, user_id)


def _seen(song_id: uuid.UUID, user_id: uuid.UUID) -> ColumnElement[bool]:
    return exists().where(Song.id == song_id, listed(user_id))


async def _changed_with_count(
    session: AsyncSession, change: Any, song_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[bool, int] | None:
    changed = (await session.execute(change)).first() is not None
    count = (
        await session.execute(select(Song.like_count).where(Song.id == song_id, listed(user_id)))
    ).scalar_one_or_none()
    return None if count is None else (changed, int(count))


def _liked(user_id: uuid.UUID, *columns: Any) -> Select[Any]:
    """The user's likes of songs they may see."""
    return (
        select(*columns)
        .select_from(SongLike)
        .join(Song, Song.id == SongLike.song_id)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(SongLike.user_id == user_id, listed(user_id))
    )


async def likes(session: AsyncSession, user_id: uuid.UUID, song_id: uuid.UUID) -> bool:
    """Whether the user likes the song (a primary-key look-up)."""
    stmt = select(SongLike.song_id).where(SongLike.user_id == user_id, SongLike.song_id == song_id)
    return (await session.execute(stmt)).first() is not None


async def liked(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Rows:
    """Song cards the user liked and may see, newest like first; ``after`` is a keyset
    cursor."""
    stmt = _liked(user_id, *CARD_COLUMNS, SongLike.created_at.label("liked_at")).order_by(
        SongLike.created_at.desc(), SongLike.song_id.desc()
    )
    if after is not None:
        stmt = stmt.where(tuple_(SongLike.created_at, SongLike.song_id) < tuple_(*after))
    elif offset:
        stmt = stmt.offset(offset)
    rows: Rows = (await session.execute(stmt.limit(limit))).all()
    return rows


async def count_liked(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int((await session.execute(_liked(user_id, func.count()))).scalar_one())


# --- history --------------------------------------------------------------------------


async def record_play(
    session: AsyncSession, user_id: uuid.UUID, song_id: uuid.UUID, now: datetime, *, counted: bool
) -> None:
    """Append the play to ``plays`` (the truth a counted view is kept from), and move the
    song to the top of the user's history (one row per song). One statement on
    PostgreSQL, where each costs a round trip."""
    play = _insert(session)(Play).values(
        id=new_id(), song_id=song_id, user_id=user_id, played_at=now, counted=counted
    )
    stmt = _insert(session)(WatchEntry).values(user_id=user_id, song_id=song_id, watched_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[WatchEntry.user_id, WatchEntry.song_id],
        set_={"watched_at": stmt.excluded.watched_at},
    )
    if _is_postgres(session):
        await session.execute(stmt.add_cte(play.cte("played")))
        return
    await session.execute(play)
    await session.execute(stmt)


async def trim_history(session: AsyncSession, user_id: uuid.UUID, keep: int) -> None:
    """Drop what is past the newest ``keep`` entries."""
    boundary = (
        await session.execute(
            select(WatchEntry.watched_at, WatchEntry.song_id)
            .where(WatchEntry.user_id == user_id)
            .order_by(WatchEntry.watched_at.desc(), WatchEntry.song_id.desc())
            .offset(keep)
            .limit(1)
        )
    ).one_or_none()
    if boundary is not None:
        await session.execute(
            delete(WatchEntry).where(
                WatchEntry.user_id == user_id,
                tuple_(WatchEntry.watched_at, WatchEntry.song_id) <= tuple_(*boundary),
            )
        )


async def history(
    session: AsyncSession,
    user_id: uuid.UUID,
    since: datetime,
    *,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Rows:
    """Song cards of the user's history since ``since`` that they may see, latest play
    first."""
    stmt = _watched(user_id, since, *CARD_COLUMNS, WatchEntry.watched_at).order_by(
        WatchEntry.watched_at.desc(), WatchEntry.song_id.desc()
    )
    if after is not None:
        stmt = stmt.where(tuple_(WatchEntry.watched_at, WatchEntry.song_id) < tuple_(*after))
    elif offset:
        stmt = stmt.offset(offset)
    rows: Rows = (await session.execute(stmt.limit(limit))).all()
    return rows


def _watched(user_id: uuid.UUID, since: datetime, *columns: Any) -> Select[Any]:
    """The user's history since ``since``, of songs they may see."""
    return (
        select(*columns)
        .select_from(WatchEntry)
        .join(Song, Song.id == WatchEntry.song_id)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(WatchEntry.user_id == user_id, WatchEntry.watched_at > since, listed(user_id))
    )


async def count_history(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> int:
    return int((await session.execute(_watched(user_id, since, func.count()))).scalar_one())


async def prune_history(session: AsyncSession, before: datetime) -> int:
    stmt = delete(WatchEntry).where(WatchEntry.watched_at <= before)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the daily series -----------------------------------------------------------------


async def daily(session: AsyncSession, song_id: uuid.UUID, since: date) -> Rows:
    stmt = (
        select(SongDaily.day, SongDaily.plays, SongDaily.likes, SongDaily.comments)
        .where(SongDaily.song_id == song_id, SongDaily.day >= since)
        .order_by(SongDaily.day)
    )
    return (await session.execute(stmt)).all()
