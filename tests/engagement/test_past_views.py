"""Migration 0006 on data from before it. Views counted before plays were rows: each
becomes a play, on the day ``song_daily`` counted it and the rest at the song's creation,
so a rebuild keeps them. Gains computed before the true-peak limit get the limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bandstand.config import Settings
from bandstand.engagement.counters.flush import rebuild_counters
from bandstand.migrations import upgrade
from bandstand.runtime import Runtime
from tests import services
from tests.processes import own_database

CREATED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAYS = {date(2026, 12, 1): 2, date(2026, 12, 3): 1}
VIEWS = 5  # two more than the daily series: views from before it, at the song's creation


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own, on the run's backend."""
    if services.DATABASE_URL is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'past.db'}"
        return
    async with own_database("bandstand_past") as url:
        yield url


def _filler(column: sa.Column[Any]) -> Any:
    """A plausible value for a required column of the schema as revision 0005 left it."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.DateTime):
        return CREATED
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return 1.0
    return "x"


async def _insert(connection: AsyncConnection, name: str, **values: Any) -> None:
    table = await connection.run_sync(
        lambda sync: sa.Table(name, sa.MetaData(), autoload_with=sync)
    )
    sqlite = connection.dialect.name == "sqlite"
    values = {  # SQLite keeps UUIDs as 32 hex digits
        k: v.hex if sqlite and isinstance(v, uuid.UUID) else v for k, v in values.items()
    }
    row = {
        column.name: values.get(column.name, _filler(column))
        for column in table.columns
        if column.name in values or not (column.nullable or column.server_default is not None)
    }
    await connection.execute(table.insert().values(row))


def _day(moment: Any) -> str:
    """A stored moment's UTC day (SQLite answers raw SQL with text)."""
    return moment[:10] if isinstance(moment, str) else moment.astimezone(UTC).date().isoformat()


async def test_views_from_before_plays_become_plays(fresh_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(upgrade, fresh_url, "0005")
    owner, song = uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            await _insert(connection, "users", id=owner, email="a@example.com")
            await _insert(connection, "songs", id=song, owner_id=owner, created_at=CREATED)
            await _insert(connection, "song_stats", song_id=song, views=VIEWS)
            for day, plays in DAYS.items():
                await _insert(connection, "song_daily", song_id=song, day=day, plays=plays, likes=0)
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade, fresh_url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, env="test", data_dir=tmp_path / "data", database_url=fresh_url
    )
    rt = Runtime.build(settings)
    try:
        async with rt.engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT played_at, counted, user_id FROM plays ORDER BY played_at")
                )
            ).all()
        days = [_day(moment) for moment, _, _ in rows]
        assert days == ["2026-11-30"] * 2 + ["2026-12-01"] * 2 + ["2026-12-03"]
        assert all(counted and user is None for _, counted, user in rows)

        await rebuild_counters(rt)  # views come from the plays now
        async with rt.engine.connect() as connection:
            views = (await connection.execute(text("SELECT views FROM song_stats"))).scalar_one()
            daily = (
                await connection.execute(text("SELECT day, plays FROM song_daily ORDER BY day"))
            ).all()
        assert views == VIEWS
        assert [(str(day), plays) for day, plays in daily] == [
            ("2026-11-30", 2),
            ("2026-12-01", 2),
            ("2026-12-03", 1),
        ]
    finally:
        await rt.close()


# A library large enough that joining every day-row with a series up to the largest count
# (the first backfill) takes minutes, while writing the rows takes about a second.
MANY_DAYS = 6_000
MOST_VIEWS = 200_000
BACKFILL_LIMIT_S = 20.0


async def test_the_backfill_grows_with_the_rows_it_writes(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url, "0005")
    owner, busy, quiet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            await _insert(connection, "users", id=owner, email="a@example.com")
            for song in (busy, quiet):
                await _insert(connection, "songs", id=song, owner_id=owner, created_at=CREATED)
            await _insert(connection, "song_stats", song_id=busy, views=MOST_VIEWS)
            await _insert(connection, "song_stats", song_id=quiet, views=MANY_DAYS)
            daily = await connection.run_sync(
                lambda sync: sa.Table("song_daily", sa.MetaData(), autoload_with=sync)
            )
            quiet_id = quiet.hex if connection.dialect.name == "sqlite" else quiet
            first = date(2010, 1, 1).toordinal()
            zeros = {c.name: 0 for c in daily.columns if c.name not in ("song_id", "day")}
            await connection.execute(
                daily.insert(),
                [
                    zeros | {"song_id": quiet_id, "day": date.fromordinal(first + n), "plays": 1}
                    for n in range(MANY_DAYS)
                ],
            )
    finally:
        await engine.dispose()

    started = time.perf_counter()
    await asyncio.to_thread(upgrade, fresh_url)
    took = time.perf_counter() - started
    engine = create_async_engine(fresh_url)
    try:
        async with engine.connect() as connection:
            counts = (await connection.execute(text("SELECT count(*) FROM plays"))).scalar_one()
    finally:
        await engine.dispose()
    assert counts == MOST_VIEWS + MANY_DAYS
    assert took < BACKFILL_LIMIT_S, f"the upgrade took {took:.1f} s"


async def test_gains_from_before_the_true_peak_limit_are_limited(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url, "0005")
    owner = uuid.uuid4()
    # (true peak, gain before, gain after): the song, one already under the
    # ceiling, one with no measurement.
    cases = {uuid.uuid4(): (-0.33, 5.64, -0.67), uuid.uuid4(): (-6.0, 2.0, 2.0)}
    unmeasured = uuid.uuid4()
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            await _insert(connection, "users", id=owner, email="a@example.com")
            for song, (peak, gain, _) in cases.items():
                await _insert(
                    connection, "songs", id=song, owner_id=owner, true_peak_dbtp=peak, gain_db=gain
                )
            await _insert(connection, "songs", id=unmeasured, owner_id=owner, gain_db=0.0)
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade, fresh_url)
    engine = create_async_engine(fresh_url)
    try:
        async with engine.connect() as connection:
            gains = {
                str(song): gain
                for song, gain in (await connection.execute(text("SELECT id, gain_db FROM songs")))
            }
    finally:
        await engine.dispose()
    by_hex = {key.replace("-", ""): value for key, value in gains.items()}
    for song, (_, _, after) in cases.items():
        assert by_hex[song.hex] == pytest.approx(after, abs=1e-9)
    assert by_hex[unmeasured.hex] == 0.0
