"""A song's analytics as the route answers them."""

from __future__ import annotations

from bandstand.analytics.schemas import AnalyticsRead, DayRead, Sentiment, Totals
from bandstand.analytics.service import SongAnalytics
from bandstand.models import Song


def analytics_view(song: Song, days: int, found: SongAnalytics) -> AnalyticsRead:
    return AnalyticsRead(
        songId=song.id,
        totals=Totals(views=found.views, likes=found.likes, comments=found.comments),
        sentiment=Sentiment(**found.sentiment),
        days=days,
        series=[
            DayRead(date=d.day, plays=d.plays, likes=d.likes, comments=d.comments)
            for d in found.days
        ],
    )
