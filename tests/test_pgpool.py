"""kit/pgpool: the one raw asyncpg pool a process keeps, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bandstand.kit.pgpool import DriverPool, driver_pool
from tests.services import POSTGRES_URL, missing


def test_sqlite_has_no_driver_pool() -> None:
    assert driver_pool("sqlite+aiosqlite:///data/bandstand.db") is None


def test_the_dsn_is_the_drivers_own() -> None:
    pool = driver_pool("postgresql+asyncpg://me:p%40ss@db.example:5433/music")
    assert pool is not None
    assert pool._dsn == "postgresql://me:p%40ss@db.example:5433/music"


async def _connected(made: DriverPool | None) -> DriverPool:
    assert made is not None
    try:
        await made()
    except (OSError, asyncpg.PostgresError) as exc:
        missing("PostgreSQL", str(exc))
    return made


@pytest.fixture
async def pool() -> AsyncIterator[DriverPool]:
    made = await _connected(driver_pool(POSTGRES_URL))
    yield made
    await made.close()


async def test_callers_at_once_share_one_pool(pool: DriverPool) -> None:
    await pool.close()
    pools = await asyncio.gather(*(pool() for _ in range(20)))
    assert all(p is pools[0] for p in pools)
    assert await pools[0].fetchval("SELECT 1") == 1


async def test_a_closed_pool_is_made_again_on_next_use(pool: DriverPool) -> None:
    first = await pool()
    await pool.close()
    second = await pool()
    assert second is not first
    assert await second.fetchval("SELECT 2") == 2


async def test_no_reset_round_trip_on_release(pool: DriverPool) -> None:
    # Single statements leave no session state, so nothing is reset on release: a
    # setting made outside a transaction is still there on the connection's next use.
    one = await _connected(DriverPool(pool._dsn, min_size=1, max_size=1))
    try:
        raw = await one()
        async with raw.acquire() as connection:
            await connection.execute("SET application_name = 'kept'")
        async with raw.acquire() as connection:
            assert await connection.fetchval("SHOW application_name") == "kept"
    finally:
        await one.close()
