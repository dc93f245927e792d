"""What the operations tests share: a second, empty installation to restore into, a
persistent Redis of the test's own, and the command line run in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bandstand.cli import app
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


def environment(settings: Settings, **more: Any) -> dict[str, str]:
    """The variables that give a command ``settings``' installation."""
    env = {
        "BANDSTAND_ENV": "test",
        "BANDSTAND_DATA_DIR": str(settings.data_dir),
        "BANDSTAND_DATABASE_URL": settings.effective_database_url,
        "BANDSTAND_REDIS_URL": settings.redis_url or "",
        "BANDSTAND_REDIS_NAMESPACE": settings.redis_namespace,
        "BANDSTAND_SECRET_KEY": settings.secret_key.get_secret_value()
        if settings.secret_key
        else "",
    }
    env.update({f"BANDSTAND_{k.upper()}": str(v) for k, v in more.items()})
    return {k: v for k, v in env.items() if v != ""}


def bandstand(env: dict[str, str], *args: str) -> Result:
    """``bandstand ARGS`` in this process, with exactly ``env``'s settings."""
    cleared = {
        name: None for name in Settings.model_fields if f"BANDSTAND_{name.upper()}" not in env
    }
    cleared_env: dict[str, str | None] = {f"BANDSTAND_{k.upper()}": v for k, v in cleared.items()}
    return CliRunner().invoke(app, list(args), env={**cleared_env, **env})
