"""Where a database stands against the migrations this code carries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bandstand.db import create_engine
from bandstand.migrations import alembic_config
from bandstand.operations import Refused


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no migration applied yet (a new database)
    head: str
    pending: int

    @property
    def at_head(self) -> bool:
        return self.pending == 0


def _scripts() -> ScriptDirectory:
    # The URL is not used to read the scripts.
    return ScriptDirectory.from_config(alembic_config(""))


def head() -> str:
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def known(revision: str) -> bool:
    """Whether this code has the migration ``revision`` (a newer version's is unknown)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def pending_after(revision: str | None) -> int:
    """How many migrations ``upgrade`` would apply to a database at ``revision``."""
    return len(list(_scripts().iterate_revisions("head", revision or "base")))


def _read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(connection: AsyncConnection) -> str | None:
    return await connection.run_sync(_read_revision)


async def schema_state(database_url: str) -> SchemaState:
    """The database's revision and what is left to apply. A SQLite file that is not there
    yet is a database with nothing applied (it is not made by looking)."""
    current: str | None = None
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or _exists(url.database):
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                current = await current_revision(connection)
        finally:
            await engine.dispose()
    if current is not None and not known(current):
        raise UnknownRevision(current)
    return SchemaState(current=current, head=head(), pending=pending_after(current))


def _exists(path: str | None) -> bool:
    return path is not None and Path(path).is_file()


class UnknownRevision(Refused):
    """The database was migrated by a newer Bandstand than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"the database is at migration {revision}, which this version of Bandstand "
            "does not have: it was migrated by a newer version"
        )
