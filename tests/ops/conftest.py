"""What the operations tests share: a second, empty installation to restore into, and a
persistent Redis of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bandstand.config import Settings
from bandstand.migrations import upgrade
from tests import services
from tests.processes import RedisServer, own_database, redis_server  # noqa: F401  (fixture)


@pytest.fixture
async def empty_installation(
    make_settings: Callable[..., Settings], redis_namespace: str, tmp_path: Path
) -> AsyncIterator[Settings]:
    """A new installation on the run's backend, migrated and never used: its own data
    folder, database (SQLite file, or a PostgreSQL database made for the test) and Redis
    namespace (under the run's, so its keys go with the run's)."""
    folder = tmp_path / "target"
    folder.mkdir()
    async with contextlib.AsyncExitStack() as stack:
        if services.DATABASE_URL is None:
            url = f"sqlite+aiosqlite:///{folder / 'bandstand.db'}"
        else:
            url = await stack.enter_async_context(own_database("bandstand_restore"))
        await asyncio.to_thread(upgrade, url)
        yield make_settings(
            data_dir=folder, database_url=url, redis_namespace=f"{redis_namespace}:target"
        )


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of the test's own that keeps its data (an append-only file)."""
    server = RedisServer(folder=tmp_path, persistent=True)
    server.start()
    try:
        yield server.url
    finally:
        server.kill()
