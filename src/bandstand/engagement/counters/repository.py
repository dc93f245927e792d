"""Every query of the counter flush, the recounts and the rebuild: the counters on the
rows (``song_stats``, ``song_daily``, ``comments.like_count``), the batches applied
(``counter_batches``), and the truth they are counted from (``song_likes``, ``plays``,
``comments``, ``comment_likes``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.comments.repository import counted
from bandstand.models import (
    Comment,
    CommentLike,
    CounterBatch,
    Play,
    Song,
    SongDaily,
    SongLike,
    SongStats,
)

# (id, views, likes, comments) and (song id, day, plays, likes, comments)
SongTotals = tuple[uuid.UUID, int, int, int]
DailyTotals = tuple[uuid.UUID, date, int, int, int]

# A count moving is not an edit: a comment's ``updated_at`` (set on every UPDATE by the
# model) says when its author last changed it, and stays.
_UNEDITED = {"updated_at": Comment.updated_at}


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if _is_postgres(session) else sqlite.insert


# --- the flush ------------------------------------------------------------------------


async def claim_batch(session: AsyncSession, batch_id: str) -> bool:
    """Record the batch as applied in this transaction; False if it already was (by a
    flush that crashed before it could tell the counter store)."""
    stmt = (
        _insert(session)(CounterBatch)
        .values(id=batch_id)
        .on_conflict_do_nothing()
        .returning(CounterBatch.id)
    )
    return (await session.execute(stmt)).first() is not None


async def forget_batches(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(CounterBatch).where(CounterBatch.applied_at < before))


# PostgreSQL: songs' counters from arrays, made as needed; deleted songs skipped.
_STATS_SQL = (
    "INSERT INTO song_stats (song_id, views, like_count, comment_count) "
    "SELECT v.id, v.views, v.likes, v.comments "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:views AS bigint[]), "
    "CAST(:likes AS bigint[]), CAST(:comments AS bigint[])) "
    "AS v(id, views, likes, comments) JOIN songs ON songs.id = v.id ORDER BY v.id "
    "ON CONFLICT (song_id) DO UPDATE SET "
)
_ADD_STATS_SQL = _STATS_SQL + (
    "views = song_stats.views + excluded.views, "
    "like_count = song_stats.like_count + excluded.like_count, "
    "comment_count = song_stats.comment_count + excluded.comment_count"
)
_SET_STATS_SQL = _STATS_SQL + (
    "views = excluded.views, like_count = excluded.like_count, "
    "comment_count = excluded.comment_count"
)


async def add_song_totals(session: AsyncSession, rows: Sequence[SongTotals]) -> None:
    """Add to songs' counters (``song_stats``, made as needed); rows for songs deleted
    meanwhile change nothing. Sorted, so two writers lock rows in the same order."""
    await _song_totals(session, rows, add=True)


async def set_song_totals(session: AsyncSession, rows: Sequence[SongTotals]) -> None:
    """Set songs' counters to these values (a recount), as ``add_song_totals``."""
    await _song_totals(session, rows, add=False)


async def _song_totals(session: AsyncSession, rows: Sequence[SongTotals], *, add: bool) -> None:
    rows = sorted(rows)
    if not rows:
        return
    if _is_postgres(session):
        ids, views, likes, comments = (list(column) for column in zip(*rows, strict=True))
        await session.execute(
            text(_ADD_STATS_SQL if add else _SET_STATS_SQL),
            {"ids": ids, "views": views, "likes": likes, "comments": comments},
        )
        return
    present = await _present(session, [row[0] for row in rows])
    stmt = sqlite.insert(SongStats)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[SongStats.song_id],
        set_={
            "views": SongStats.views + excluded.views if add else excluded.views,
            "like_count": SongStats.like_count + excluded.like_count
            if add
            else excluded.like_count,
            "comment_count": SongStats.comment_count + excluded.comment_count
            if add
            else excluded.comment_count,
        },
    )
    params = [
        {"song_id": i, "views": v, "like_count": lk, "comment_count": c}
        for i, v, lk, c in rows
        if i in present
    ]
    if params:
        await (await session.connection()).execute(stmt, params)


async def _present(session: AsyncSession, song_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these songs exist (SQLite: the transaction is the only writer)."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(song_ids), 500):
        chunk = song_ids[start : start + 500]
        found.update((await session.execute(select(Song.id).where(Song.id.in_(chunk)))).scalars())
    return found


async def add_comment_likes(session: AsyncSession, rows: Sequence[tuple[uuid.UUID, int]]) -> None:
    rows = sorted(rows)
    if not rows:
        return
    if _is_postgres(session):
        ids, likes = (list(column) for column in zip(*rows, strict=True))
        await session.execute(
            text(
                "UPDATE comments SET like_count = comments.like_count + v.likes "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:likes AS bigint[])) AS v(id, likes) "
                "WHERE comments.id = v.id"
            ),
            {"ids": ids, "likes": likes},
        )
        return
    stmt = (
        update(Comment)
        .where(Comment.id == bindparam("b_id"))
        .values(like_count=Comment.like_count + bindparam("b_likes"), **_UNEDITED)
    )
    await (await session.connection()).execute(stmt, [{"b_id": i, "b_likes": n} for i, n in rows])


async def add_daily(session: AsyncSession, rows: Sequence[DailyTotals]) -> None:
    """Add to the songs' daily rows, made as needed; songs deleted meanwhile are skipped."""
    rows = sorted(rows)
    if not rows:
        return
    if _is_postgres(session):
        ids, days, plays, likes, comments = (list(c) for c in zip(*rows, strict=True))
        await session.execute(
            text(
                "INSERT INTO song_daily (song_id, day, plays, likes, comments) "
                "SELECT v.* FROM unnest(CAST(:ids AS uuid[]), CAST(:days AS date[]), "
                "CAST(:plays AS bigint[]), CAST(:likes AS bigint[]), "
                "CAST(:comments AS bigint[])) AS v(song_id, day, plays, likes, comments) "
                "JOIN songs ON songs.id = v.song_id ORDER BY v.song_id, v.day "
                "ON CONFLICT (song_id, day) DO UPDATE SET "
                "plays = song_daily.plays + excluded.plays, "
                "likes = song_daily.likes + excluded.likes, "
                "comments = song_daily.comments + excluded.comments"
            ),
            {"ids": ids, "days": days, "plays": plays, "likes": likes, "comments": comments},
        )
        return
    present = await _present(session, sorted({row[0] for row in rows}))
    stmt = sqlite.insert(SongDaily)
    stmt = stmt.on_conflict_do_update(
        index_elements=[SongDaily.song_id, SongDaily.day],
        set_={
            "plays": SongDaily.plays + stmt.excluded.plays,
            "likes": SongDaily.likes + stmt.excluded.likes,
            "comments": SongDaily.comments + stmt.excluded.comments,
        },
    )
    params = [
        {"song_id": i, "day": d, "plays": p, "likes": lk, "comments": c}
        for i, d, p, lk, c in rows
        if i in present
    ]
    if params:
        await (await session.connection()).execute(stmt, params)


# --- recounts -------------------------------------------------------------------------


def _day_of(session: AsyncSession, moment: Any) -> Any:
    """The UTC day of a stored moment (SQLite stores UTC as naive text)."""
    if _is_postgres(session):
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment)


async def recount_daily_plays(session: AsyncSession) -> None:
    """Every song's plays per day from its counted plays (likes and comments per day are
    kept as gained, and stay)."""
    await session.execute(update(SongDaily).values(plays=0).where(SongDaily.plays != 0))
    day = _day_of(session, Play.played_at)
    per_day = (
        select(Play.song_id, day, func.count(), literal(0), literal(0))
        .where(Play.counted.is_(True))
        .group_by(Play.song_id, day)
    )
    stmt = _insert(session)(SongDaily).from_select(
        ["song_id", "day", "plays", "likes", "comments"], per_day
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SongDaily.song_id, SongDaily.day],
            set_={"plays": stmt.excluded.plays},
        )
    )


async def song_truth(
    session: AsyncSession, song_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, int]]:
    """Each existing song's (views, likes, comments) as its rows say: counted plays,
    likes, comments not held."""
    found = {
        song_id: (0, 0, 0)
        for song_id in (await session.execute(select(Song.id).where(Song.id.in_(song_ids))))
        .scalars()
        .all()
    }
    if not found:
        return {}
    ids = list(found)
    counts: list[dict[uuid.UUID, int]] = []
    for stmt in (
        select(Play.song_id, func.count())
        .where(Play.song_id.in_(ids), Play.counted.is_(True))
        .group_by(Play.song_id),
        select(SongLike.song_id, func.count())
        .where(SongLike.song_id.in_(ids))
        .group_by(SongLike.song_id),
        select(Comment.song_id, func.count())
        .where(Comment.song_id.in_(ids), counted())
        .group_by(Comment.song_id),
    ):
        counts.append({row[0]: int(row[1]) for row in (await session.execute(stmt)).all()})
    views, likes, comments = counts
    return {i: (views.get(i, 0), likes.get(i, 0), comments.get(i, 0)) for i in ids}


async def plays_on(
    session: AsyncSession, song_ids: Sequence[uuid.UUID], day: date
) -> dict[uuid.UUID, int]:
    """Songs' counted plays on one UTC day."""
    start = datetime.combine(day, time(), UTC)
    stmt = (
        select(Play.song_id, func.count())
        .where(
            Play.song_id.in_(song_ids),
            Play.counted.is_(True),
            Play.played_at >= start,
            Play.played_at < start + timedelta(days=1),
        )
        .group_by(Play.song_id)
    )
    return {row[0]: int(row[1]) for row in (await session.execute(stmt)).all()}


async def daily_rows_on(
    session: AsyncSession, song_ids: Sequence[uuid.UUID], day: date
) -> set[uuid.UUID]:
    """Which of these songs have a daily row for ``day``."""
    stmt = select(SongDaily.song_id).where(SongDaily.song_id.in_(song_ids), SongDaily.day == day)
    return set((await session.execute(stmt)).scalars())


async def set_daily_plays(
    session: AsyncSession, day: date, plays: Sequence[tuple[uuid.UUID, int]]
) -> None:
    """Set songs' plays on ``day`` (a recount), making the row as needed; songs deleted
    meanwhile are skipped."""
    rows = sorted(plays)
    present = await _present(session, [song_id for song_id, _ in rows])
    params = [
        {"song_id": i, "day": day, "plays": n, "likes": 0, "comments": 0}
        for i, n in rows
        if i in present
    ]
    if not params:
        return
    stmt = _insert(session)(SongDaily)
    stmt = stmt.on_conflict_do_update(
        index_elements=[SongDaily.song_id, SongDaily.day], set_={"plays": stmt.excluded.plays}
    )
    await (await session.connection()).execute(stmt, params)


async def comment_likes_truth(
    session: AsyncSession, comment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each existing comment's likes, as ``comment_likes`` says."""
    found = dict.fromkeys(
        (await session.execute(select(Comment.id).where(Comment.id.in_(comment_ids))))
        .scalars()
        .all(),
        0,
    )
    if found:
        stmt = (
            select(CommentLike.comment_id, func.count())
            .where(CommentLike.comment_id.in_(list(found)))
            .group_by(CommentLike.comment_id)
        )
        found.update({row[0]: int(row[1]) for row in (await session.execute(stmt)).all()})
    return found


async def set_comment_likes(session: AsyncSession, rows: Sequence[tuple[uuid.UUID, int]]) -> None:
    rows = sorted(rows)
    if not rows:
        return
    stmt = (
        update(Comment)
        .where(Comment.id == bindparam("b_id"))
        .values(like_count=bindparam("b_likes"), **_UNEDITED)
    )
    await (await session.connection()).execute(stmt, [{"b_id": i, "b_likes": n} for i, n in rows])


async def recount(session: AsyncSession) -> None:
    """Every counter from the tables that are the truth: likes from the like tables,
    comments from the comments shown, views from the counted plays."""
    likes = (
        select(func.count()).select_from(SongLike).where(SongLike.song_id == Song.id)
    ).scalar_subquery()
    comments = (
        select(func.count()).select_from(Comment).where(Comment.song_id == Song.id, counted())
    ).scalar_subquery()
    plays = (
        select(func.count())
        .select_from(Play)
        .where(Play.song_id == Song.id, Play.counted.is_(True))
        .scalar_subquery()
    )
    truth = select(Song.id, plays, likes, comments).where(true())
    stmt = _insert(session)(SongStats).from_select(
        ["song_id", "views", "like_count", "comment_count"], truth
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SongStats.song_id],
            set_={
                "views": stmt.excluded.views,
                "like_count": stmt.excluded.like_count,
                "comment_count": stmt.excluded.comment_count,
            },
        )
    )
    comment_likes = (
        select(func.count()).select_from(CommentLike).where(CommentLike.comment_id == Comment.id)
    ).scalar_subquery()
    await session.execute(
        update(Comment)
        .where(Comment.like_count != comment_likes)
        .values(like_count=comment_likes, **_UNEDITED)
        .execution_options(synchronize_session=False)
    )
