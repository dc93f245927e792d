"""HTTP for ``/api/v1/analytics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bandstand.analytics import service
from bandstand.analytics.schemas import AnalyticsRead
from bandstand.db import SessionDep
from bandstand.kit.envelope import Envelope, envelope
from bandstand.runtime import RuntimeDep
from bandstand.songs.deps import OwnedSong

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get(
    "/{songId}",
    response_model=Envelope[AnalyticsRead],
    summary="How my song does: totals, comment sentiment, and a day-by-day series",
)
async def song_analytics(
    rt: RuntimeDep, session: SessionDep, song: OwnedSong, days: int = 30
) -> JSONResponse:
    """``days``: how many UTC days the series covers, today included (1 to 365)."""
    found = await service.song_analytics(rt, session, song, service.check_days(days))
    data = {
        "songId": str(song.id),
        "totals": {"views": found.views, "likes": found.likes, "comments": found.comments},
        "sentiment": found.sentiment,
        "days": days,
        "series": [
            {"date": d.day.isoformat(), "plays": d.plays, "likes": d.likes, "comments": d.comments}
            for d in found.days
        ],
    }
    return envelope(data, "Song analytics fetched.")
