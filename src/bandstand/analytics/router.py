"""HTTP for ``/api/v1/analytics``."""

from __future__ import annotations

from fastapi import APIRouter

from bandstand.analytics import service
from bandstand.analytics.schemas import AnalyticsRead
from bandstand.analytics.views import analytics_view
from bandstand.db import SessionDep
from bandstand.kit.envelope import Envelope, answer
from bandstand.resources import CountersDep
from bandstand.songs.deps import OwnedSong

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get(
    "/{songId}",
    response_model=Envelope[AnalyticsRead],
    summary="How my song does: totals, comment sentiment, and a day-by-day series",
)
async def song_analytics(
    session: SessionDep, counters: CountersDep, song: OwnedSong, days: int = 30
) -> Envelope[AnalyticsRead]:
    """``days``: how many UTC days the series covers, today included (1 to 365)."""
    found = await service.song_analytics(session, counters, song, service.check_days(days))
    return answer(analytics_view(song, days, found), "Song analytics fetched.")
