from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bandstand.models import Base
from bandstand.models.base import UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy types, so migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Foreign keys SQLite was given inline, on a column added by ALTER TABLE (0010): SQLite
# keeps and enforces them, but SQLAlchemy reads a foreign key's name and ON DELETE only
# from table-level constraints, so they would compare as different when they are not.
INLINE_SQLITE_FOREIGN_KEYS = {("songs", "release_id")}


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any, *, sqlite: bool
) -> bool:
    """Search indexes are per-dialect (pg_trgm GIN, SQLite FTS5 tables): the migrations
    own them and the models do not describe them."""
    if sqlite and type_ == "foreign_key_constraint":
        columns = tuple(column.name for column in obj.columns)
        if len(columns) == 1 and (obj.table.name, columns[0]) in INLINE_SQLITE_FOREIGN_KEYS:
            return False
    return not (name or "").startswith("search_")


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=_render_item,
        include_object=partial(_include_object, sqlite=sqlite),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run() -> None:
    url = config.attributes["database_url"]
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_async(url))


run()
