"""Plays, song likes and listening history.

A like or a play is a row of its truth table (``song_likes``, ``plays``), written before
the answer; the song's ``like_count`` and ``views`` move later, by the counter flush,
which also recounts them from those rows (``counters/flush.py``). Likes and plays record a delta
in the counter store only when they change something, so no sequence of requests moves
a counter further than the truth.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.config import Settings
from bandstand.db import after_commit
from bandstand.engagement import repository as repo
from bandstand.engagement.counters import SONG, VIEWS, Counters, Delta
from bandstand.engagement.likes import Likes
from bandstand.errors import NotFound
from bandstand.kit.cursors import decode_moment, encode_moment
from bandstand.kit.time import utcnow
from bandstand.models import Song
from bandstand.observability.metrics import EVENTS, on_commit
from bandstand.songs.cards import SongCard, read_cards


@dataclass(frozen=True)
class Listing:
    """A page of songs as the one reader gives them (``songs.cards.read_cards``), each
    with the moment it entered the list (``liked_at`` or ``watched_at`` on its row)."""

    cards: Sequence[SongCard]
    total: int
    next_cursor: str | None
    by_cursor: bool


@dataclass(frozen=True)
class LikeState:
    song_id: uuid.UUID
    liked: bool
    like_count: int


@dataclass(frozen=True)
class Played:
    counted: bool
    # Not counted because the listener owns the song (else: a view counted in the window).
    own: bool


async def play(
    session: AsyncSession,
    counters: Counters,
    settings: Settings,
    listener_id: uuid.UUID,
    song: Song,
) -> Played:
    """A listener plays a song: it tops their history (kept to ``history_max`` songs), and
    counts as a view unless they own it or a view of theirs counted within
    ``view_window_s``. Every play is appended to ``plays`` in this transaction, so a
    counted view is durable before its answer; its delta is recorded (and its counter
    marked) first, so the answer shows it, and should the transaction not commit, the
    flush recounts the views from the rows."""
    now = utcnow()
    own = listener_id == song.owner_id
    counted = not own and await counters.first_play(song.id, listener_id, settings.view_window_s)
    if counted:
        await counters.add_marked([Delta(SONG, song.id, VIEWS, 1, now.date())])
        # Committed: the delta recorded above is the play's; the mark can go.
        after_commit(session, lambda: counters.settle(SONG, [song.id]))
    await repo.record_play(session, listener_id, song.id, now, counted=counted)
    after_commit(session, on_commit("play"))
    await repo.trim_history(session, listener_id, settings.history_max)
    return Played(counted=counted, own=own)


async def like(likes: Likes, user_id: uuid.UUID, song_id: uuid.UUID) -> LikeState:
    """Like a song; liking it again changes nothing. The like is committed before this
    returns (it is durable before the answer)."""
    state = _state(song_id, await likes.like(song_id, user_id), liked=True)
    EVENTS.labels("like").inc()
    return state


async def unlike(likes: Likes, user_id: uuid.UUID, song_id: uuid.UUID) -> LikeState:
    """Withdraw a like; withdrawing one that is not there changes nothing."""
    return _state(song_id, await likes.unlike(song_id, user_id), liked=False)


def _state(song_id: uuid.UUID, like_count: int | None, *, liked: bool) -> LikeState:
    if like_count is None:
        raise NotFound("Song not found.")
    return LikeState(song_id, liked, like_count)


async def liked_songs(
    session: AsyncSession,
    counters: Counters,
    user_id: uuid.UUID,
    *,
    page: int,
    limit: int,
    cursor: str | None,
) -> Listing:
    """The songs a user liked, newest like first, by page or by cursor."""
    after = decode_moment(cursor) if cursor else None
    total = await repo.count_liked(session, user_id)
    rows = await repo.liked(
        session, user_id, limit=limit + 1, offset=(page - 1) * limit, after=after
    )
    return await _listing(counters, rows, total, limit, after is not None, "liked_at")


async def history(
    session: AsyncSession,
    counters: Counters,
    settings: Settings,
    user_id: uuid.UUID,
    *,
    page: int,
    limit: int,
    cursor: str | None,
) -> Listing:
    """A listener's history: each song once at its latest play, newest first, from the
    last ``history_days`` days and at most ``history_max`` songs."""
    after = decode_moment(cursor) if cursor else None
    since = utcnow() - timedelta(days=settings.history_days)
    offset = (page - 1) * limit
    cap = settings.history_max
    total = min(await repo.count_history(session, user_id, since), cap)
    if after is None and offset >= total:
        return Listing([], total, None, False)
    rows = await repo.history(session, user_id, since, limit=limit + 1, offset=offset, after=after)
    return await _listing(counters, rows, total, limit, after is not None, "watched_at")


async def _listing(
    counters: Counters,
    rows: Sequence[Row[Any]],
    total: int,
    limit: int,
    by_cursor: bool,
    moment: str,
) -> Listing:
    shown = rows[:limit]
    last = shown[-1] if shown else None
    next_cursor = (
        encode_moment(getattr(last, moment), last.id)
        if last is not None and len(rows) > limit
        else None
    )
    return Listing(await read_cards(counters, shown), total, next_cursor, by_cursor)


async def prune_history(sessions: async_sessionmaker[AsyncSession], history_days: int) -> int:
    """Forget plays older than ``history_days`` (reads skip them anyway)."""
    before = utcnow() - timedelta(days=history_days)
    async with sessions() as session, session.begin():
        return await repo.prune_history(session, before)
