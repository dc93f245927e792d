from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests import services
from tests.processes import redis_server  # noqa: F401  (a fixture)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A database of the test's own, for processes that share it (dropped after)."""
    if services.DATABASE_URL is None:
        pytest.skip("the PostgreSQL run's deployment")
    base = make_url(services.DATABASE_URL)
    name = f"bandstand_metrics_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        services.missing("PostgreSQL", str(exc))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
