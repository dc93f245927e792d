"""GET /analytics/:songId: a song's numbers, for its owner only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Harness
from tests.engagement.support import SONGS, a_song, flush, listeners
from tests.songs.support import Artist, artist, assert_error

ANALYTICS = "/api/v1/analytics"


async def _analytics(who: Artist, song_id: str, query: str = "") -> dict[str, Any]:
    response = await who.client.get(f"{ANALYTICS}/{song_id}{query}", headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_totals_sentiment_and_a_day_by_day_series(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    fans = await listeners(harness, 3)
    song = await a_song(harness, owner)
    for fan in fans:
        await fan.client.post(f"{SONGS}/{song['_id']}", headers=fan.auth)
    for fan in fans[:2]:
        await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
    for fan, words in zip(
        fans,
        ("I love this song, wonderful!", "Not my taste, a bit boring.", "Heard it."),
        strict=True,
    ):
        posted = await fan.client.post(
            f"/api/v1/comments/{song['_id']}", json={"content": words}, headers=fan.auth
        )
        assert posted.status_code == 201, posted.text

    today = datetime.now(UTC).date()
    for moment in ("before the flush", "after it"):
        data = await _analytics(owner, song["_id"])
        assert data["totals"] == {"views": 3, "likes": 2, "comments": 3}, moment
        assert data["sentiment"] == {"Total": 3, "Positive": 1, "Negative": 1, "Neutral": 1}
        assert data["days"] == 30 and len(data["series"]) == 30
        assert data["series"][-1] == {
            "date": today.isoformat(),
            "plays": 3,
            "likes": 2,
            "comments": 3,
        }
        assert all(d["plays"] == 0 for d in data["series"][:-1])
        assert data["series"][0]["date"] == (today - timedelta(days=29)).isoformat()
        await flush(harness)


async def test_the_series_reaches_back_as_far_as_asked(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    song = await a_song(harness, owner)
    long_ago = datetime.now(UTC).date() - timedelta(days=200)
    song_id = uuid.UUID(song["_id"])
    await harness.sql(
        "INSERT INTO song_daily (song_id, day, plays, likes, comments) VALUES (:id, :day, 7, 1, 0)",
        id=song_id.hex if harness.settings.is_embedded_database else song_id,
        day=long_ago,
    )
    assert sum(d["plays"] for d in (await _analytics(owner, song["_id"]))["series"]) == 0
    year = await _analytics(owner, song["_id"], "?days=365")
    assert len(year["series"]) == 365
    (day,) = [d for d in year["series"] if d["plays"]]
    assert day == {"date": long_ago.isoformat(), "plays": 7, "likes": 1, "comments": 0}
    assert len((await _analytics(owner, song["_id"], "?days=1"))["series"]) == 1


async def test_only_the_owner_sees_a_songs_analytics(harness: Harness) -> None:
    owner = await artist(harness, "owner")
    (other,) = await listeners(harness, 1)
    song = await a_song(harness, owner)
    mine = await a_song(harness, other, "the attacker's own")
    url = f"{ANALYTICS}/{song['_id']}"
    assert_error(await other.client.get(url, headers=other.auth), 403)
    assert_error(await other.client.get(f"{url}?songId={mine['_id']}", headers=other.auth), 403)
    assert_error(await other.client.get(url), 401)
    assert_error(await owner.client.get(f"{ANALYTICS}/{uuid.uuid4()}", headers=owner.auth), 404)
    assert_error(await owner.client.get(f"{ANALYTICS}/nope", headers=owner.auth), 400)
    for days in ("0", "366", "-1", "abc", "1e9"):
        assert_error(await owner.client.get(f"{url}?days={days}", headers=owner.auth), 400)
