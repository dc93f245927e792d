from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.fixture(autouse=True)
async def catalogue_counter(database_url: str) -> None:
    """The migration seeds the catalogue's song counter; the shared clean-up between tests
    empties every table, that row included, so put it back before each songs test."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            seeded = await connection.execute(text("SELECT 1 FROM counters WHERE name = 'songs'"))
            if seeded.first() is None:
                await connection.execute(text("INSERT INTO counters (name, value) VALUES ('songs', 0)"))
    finally:
        await engine.dispose()
