"""A song's numbers for its artist: totals, how the comments feel, and day by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.comments.service import sentiment_breakdown
from bandstand.engagement import repository as engagement_repo
from bandstand.engagement.counters import COMMENTS, LIKES, VIEWS, Counters, Totals
from bandstand.errors import BadRequest
from bandstand.kit.time import utcnow
from bandstand.models import Song
from bandstand.songs.cards import read_card

MAX_DAYS = 365


@dataclass(frozen=True)
class Day:
    day: date
    plays: int
    likes: int
    comments: int


@dataclass(frozen=True)
class SongAnalytics:
    views: int
    likes: int
    comments: int
    sentiment: dict[str, int]
    days: list[Day]


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise BadRequest(
            "Invalid input.", errors=[{"field": "days", "message": f"From 1 to {MAX_DAYS}."}]
        )
    return days


async def song_analytics(
    session: AsyncSession, counters: Counters, song: Song, days: int
) -> SongAnalytics:
    """Totals with what is still pending, the comments' sentiment, and plays, likes and
    comments gained on each of the last ``days`` UTC days, today included. The series
    reads one daily row per day, so it costs the same for ten plays or ten million."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    card = await read_card(counters, song)
    stored = {row.day: row for row in await engagement_repo.daily(session, song.id, first)}
    waiting = await counters.pending_days(song.id)
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = stored.get(day)
        extra: Totals = waiting.get(day, {})
        series.append(
            Day(
                day=day,
                plays=(row.plays if row else 0) + extra.get(VIEWS, 0),
                likes=(row.likes if row else 0) + extra.get(LIKES, 0),
                comments=(row.comments if row else 0) + extra.get(COMMENTS, 0),
            )
        )
    return SongAnalytics(
        views=card.views,
        likes=card.like_count,
        comments=card.comment_count,
        sentiment=await sentiment_breakdown(session, song.id),
        days=series,
    )
