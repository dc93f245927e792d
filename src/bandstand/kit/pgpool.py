"""The process's one raw asyncpg pool, for the few statements too hot for the ORM.

The login check and the song likes' writer run one statement each, on every request or
like, where SQLAlchemy's overhead would cost more than the statement. They share this
pool: each pool holds connections, and PostgreSQL allows only so many. Only single
statements that commit on their own run here (no transactions, no session state), which
is why a connection goes back to the pool without asyncpg's RESET ALL round trip.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

# Every statement Bandstand sends runs in milliseconds. PostgreSQL compiles one with JIT
# when the planner's estimate passes ``jit_above_cost``, which a stale or skewed estimate
# does: hundreds of milliseconds of compiling (367 ms for a comments page that ran in 30).
POSTGRES_SESSION = {"jit": "off"}


class DriverPool:
    """``await pool()``: the asyncpg pool, made on first use."""

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 20) -> None:
        self._dsn = dsn
        self._sizes = (min_size, max_size)
        self._pool: asyncpg.Pool[Any] | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> asyncpg.Pool[Any]:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                min_size, max_size = self._sizes
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=min_size,
                    max_size=max_size,
                    reset=_keep_session_state,
                    server_settings=POSTGRES_SESSION,
                )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _keep_session_state(connection: asyncpg.Connection[Any]) -> None:
    """Nothing to reset: this pool runs single statements that leave no session state."""


def driver_pool(database_url: str) -> DriverPool | None:
    """The pool for ``database_url`` (a SQLAlchemy URL), or None on SQLite, which has no
    server to pool connections to. Its TLS is the engine's: the dialect's ``ssl=`` is
    ``sslmode=`` in a DSN (asyncpg would send an unknown ``ssl`` to the server as a
    setting)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return None
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    dsn = url.set(drivername="postgresql", query=query)
    return DriverPool(dsn.render_as_string(hide_password=False))
