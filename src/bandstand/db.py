"""Engine and session factories, and the per-request session that owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bandstand.errors import AppError
from bandstand.kit.pgpool import POSTGRES_SESSION
from bandstand.kit.trigrams import similarity

log = structlog.get_logger(__name__)

Hook = Callable[[], Awaitable[Any]]


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_recycle=1800)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=20,
        max_overflow=20,
        pool_recycle=1800,
        connect_args={"server_settings": POSTGRES_SESSION},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dbapi_connection.create_function("bandstand_similarity", 2, similarity, deterministic=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for routes that only read: each statement runs on its own (autocommit),
    so a page costs its query and no BEGIN/COMMIT round trips. One statement sees one
    consistent snapshot; a route that needs two to agree uses the request transaction."""
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(reader, expire_on_commit=False, autoflush=False)


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run ``hook`` once the transaction has committed (enqueue jobs, delete old files)."""
    session.info.setdefault("after_commit", []).append(hook)


def on_rollback(session: AsyncSession, hook: Hook) -> None:
    """Run ``hook`` if the transaction does not commit (remove files written for it)."""
    session.info.setdefault("on_rollback", []).append(hook)


async def _run_hooks(session: AsyncSession, name: str) -> None:
    hooks: list[Hook] = session.info.pop(name, [])
    session.info.pop("on_rollback" if name == "after_commit" else "after_commit", None)
    for hook in hooks:
        try:
            await hook()
        except Exception:
            log.exception("transaction_hook_failed", hook=name)


async def commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except BaseException:
        await rollback(session)
        raise
    await _run_hooks(session, "after_commit")


async def rollback(session: AsyncSession) -> None:
    await session.rollback()
    await _run_hooks(session, "on_rollback")


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that commits if the body succeeds and rolls back (running hooks) if not."""
    async with sessionmaker() as session:
        try:
            yield session
        except AppError as exc:
            await (commit(session) if exc.keep_changes else rollback(session))
            raise
        except BaseException:
            await rollback(session)
            raise
        await commit(session)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with transaction(request.app.state.runtime.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.read_sessionmaker() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
"""A session for reading only: never commits, never holds a transaction open."""
