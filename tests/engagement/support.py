"""What the engagement tests share: listeners, a song to play, and the counter flush."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from bandstand.app import create_app
from bandstand.engagement.counters.flush import flush_counters
from bandstand.runtime import Runtime
from tests.conftest import Harness
from tests.songs.support import Artist, artist, uploaded

SONGS = "/api/v1/songs"
HISTORY = "/api/v1/users/watchHistory"


def runtime(harness: Harness) -> Runtime:
    rt: Runtime = harness.app.state.runtime
    return rt


async def listeners(harness: Harness, count: int, prefix: str = "fan") -> list[Artist]:
    return [await artist(harness, f"{prefix}{n}") for n in range(count)]


async def a_song(harness: Harness, owner: Artist, title: str = "A song") -> dict[str, Any]:
    song = await uploaded(owner, title=title)
    await harness.settle()
    return song


async def flush(harness: Harness) -> None:
    report = await flush_counters(runtime(harness))
    assert not report.skipped


async def song_row(harness: Harness, song_id: str) -> dict[str, int]:
    """The counters as the database holds them (without pending deltas)."""
    rows = await harness.sql(
        "SELECT views, like_count, comment_count FROM song_stats WHERE song_id = :id",
        id=_db_id(harness, song_id),
    )
    views, likes, comments = rows[0] if rows else (0, 0, 0)
    return {"views": views, "likeCount": likes, "commentCount": comments}


async def likes_in_table(harness: Harness, song_id: str) -> int:
    rows = await harness.sql(
        "SELECT count(*) FROM song_likes WHERE song_id = :id", id=_db_id(harness, song_id)
    )
    return int(rows[0][0])


def _db_id(harness: Harness, song_id: str) -> Any:
    """A song id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    import uuid

    value = uuid.UUID(song_id)
    return value.hex if harness.settings.is_embedded_database else value


async def shown(client: httpx.AsyncClient, auth: dict[str, str], song_id: str) -> dict[str, Any]:
    response = await client.get(f"{SONGS}/{song_id}", headers=auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def likes_then_stop(make_settings: Any) -> tuple[Any, str]:
    """A server that takes three likes and stops; the settings and the song's id."""
    settings = make_settings()
    app = create_app(settings, migrate=False)
    async with app.router.lifespan_context(app):
        harness = Harness(app=app, settings=settings)
        owner = await artist(harness, "owner")
        song = await a_song(harness, owner)
        fans = await listeners(harness, 3)
        for fan in fans:
            await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
        for client in harness.clients:
            await client.aclose()
        await app.state.runtime.limiter.reset()
    return settings, song["_id"]


async def stored_likes(settings: Any) -> int:
    rt = Runtime.build(settings)
    try:
        async with rt.sessionmaker() as session:
            total = text("SELECT coalesce(sum(like_count), 0) FROM song_stats")
            return int((await session.execute(total)).scalar_one())
    finally:
        await rt.close()
