"""``bandstand restore SRC``: a backup into an empty installation.

Safe by default, and with no way around it: a restore replaces the database, so it goes
only where there is nothing to lose (no user in the database, no file in the storage).
To restore over an installation, empty it first (a new database, a new data folder).
Everything that can refuse does so before anything is written: the manifest, every
file's checksum, the migration (a backup from a newer Bandstand is refused; an older
one is migrated forward after loading), the backend, the secret, the emptiness.

On the embedded database the restore holds the data folder (``kit/datalock.py``, taken by
the command), so it refuses while a server runs there. On PostgreSQL no lock exists: stop
the servers and workers of the target installation first.

After loading, every counter is rebuilt from the truth tables: the backup holds the
likes, comments and plays, not the deltas that were on their way (``backup.py``). A
counter store left from a lost installation (the same Redis and namespace) would add its
deltas on top: restore with a new Redis, or after ``FLUSHDB``, or under another
BANDSTAND_REDIS_NAMESPACE.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bandstand.config import Settings
from bandstand.db import create_engine, create_sessionmaker
from bandstand.engagement.counters import build_counters
from bandstand.engagement.counters.flush import FlushParts, rebuild_counters
from bandstand.media.links import CONTENT_TYPES
from bandstand.migrations import upgrade
from bandstand.models import Base
from bandstand.moderation.tasks import withhold_media
from bandstand.operations import Refused, postgres
from bandstand.operations import manifest as files
from bandstand.operations.backup import media_keys
from bandstand.operations.schema import known
from bandstand.storage import Storage, build_storage


async def restore(settings: Settings, src: Path) -> files.Manifest:
    """Check the backup in ``src``, then load it into this (empty) installation: the
    database, migrated forward to this code's head, the media, the counters rebuilt."""
    manifest = files.read(src)
    await asyncio.to_thread(files.verify, src, manifest)
    if not known(manifest.alembic_revision):
        raise Refused(
            f"the backup was made by Bandstand {manifest.bandstand_version} at migration "
            f"{manifest.alembic_revision}, which this version does not have: upgrade "
            "Bandstand first"
        )
    backend = "sqlite" if settings.is_embedded_database else "postgresql"
    if manifest.backend != backend:
        raise Refused(
            f"the backup is of a {manifest.backend} database and this installation uses "
            f"{backend}: restore it into a {manifest.backend} installation"
        )
    if backend == "postgresql":
        postgres.tool("pg_restore")
    storage = build_storage(settings)
    await _refuse_unless_empty(settings, storage)
    secret = _secret_of(settings, src)
    if files.secret_fingerprint(secret) != manifest.secret_fingerprint:
        raise Refused(
            "the backup was made under another secret key: set BANDSTAND_SECRET_KEY to "
            "the one it was made with (two-factor logins and app passwords need it)"
        )
    if settings.secret_key is None:
        await asyncio.to_thread(_write_secret, settings.data_dir / "secret_key", secret)
    if backend == "sqlite":
        assert settings.sqlite_file is not None
        await asyncio.to_thread(_sqlite_load, src / manifest.database.key, settings.sqlite_file)
    else:
        await _pg_load(settings.effective_database_url, src / manifest.database.key)
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    for item in manifest.media:
        content_type = CONTENT_TYPES.get(item.key.rsplit(".", 1)[-1], "application/octet-stream")
        await storage.put_file(item.key, src / files.MEDIA / item.key, content_type)
    await _settle(settings)
    return manifest


async def _refuse_unless_empty(settings: Settings, storage: Storage) -> None:
    users = await _users(settings)
    if users:
        raise Refused(
            f"this installation is not empty (its database has {users:,} users): "
            "restore into a new database and data folder"
        )
    if await media_keys(storage):
        where = settings.storage_url or settings.media_dir
        raise Refused(
            f"this installation is not empty ({where} holds media files): "
            "restore into a new database and data folder"
        )


async def _users(settings: Settings) -> int:
    if settings.is_embedded_database:
        assert settings.sqlite_file is not None
        if not settings.sqlite_file.is_file():
            return 0  # not made by looking
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as connection:
            if not await connection.run_sync(lambda c: inspect(c).has_table("users")):
                return 0
            return int((await connection.execute(text("SELECT count(*) FROM users"))).scalar_one())
    finally:
        await engine.dispose()


def _secret_of(settings: Settings, src: Path) -> str:
    """The secret the restored installation will sign with: the configured one, else
    the backup's own key file, else the data folder's."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    kept = src / files.SECRET_FILE
    if kept.is_file():
        return kept.read_text().strip()
    return settings.signing_secret()


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret)


def _sqlite_load(source: Path, target: Path) -> None:
    """The backup's pages over the target's, through the backup API: the target's own
    write-ahead log is part of what is replaced, not left to replay over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as reader,
        contextlib.closing(sqlite3.connect(target)) as writer,
    ):
        reader.backup(writer)


async def _pg_load(database_url: str, dump: Path) -> None:
    """Drop the (empty) tables the migrations may have made, then restore the dump in one
    transaction: it fails whole or not at all."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_drop_tables)
    finally:
        await engine.dispose()
    args, env = postgres.connection(database_url)
    listing = await postgres.run("pg_restore", ["--list", str(dump)], env)
    # An extension's comment belongs to its owner (a superuser): restoring it as the
    # installation's role fails, and it says nothing Bandstand needs.
    kept = [line for line in listing.decode().splitlines() if "COMMENT - EXTENSION" not in line]
    with tempfile.TemporaryDirectory() as scratch:
        plan = Path(scratch) / "restore.list"
        plan.write_text("\n".join(kept) + "\n")
        options = ["--single-transaction", "--no-owner", "--no-privileges"]
        await postgres.run("pg_restore", [*args, *options, "--use-list", str(plan), str(dump)], env)


def _drop_tables(connection: Connection) -> None:
    present = set(inspect(connection).get_table_names())
    for table in [*reversed(Base.metadata.sorted_tables)]:
        if table.name in present:
            connection.execute(text(f'DROP TABLE "{table.name}" CASCADE'))
    if "alembic_version" in present:
        connection.execute(text("DROP TABLE alembic_version"))


async def _settle(settings: Settings) -> None:
    """Counters from the truth tables, and the marks nginx reads for withheld songs."""
    engine = create_engine(settings.effective_database_url)
    counters = build_counters(settings)
    try:
        sessions = create_sessionmaker(engine)
        await rebuild_counters(FlushParts(counters, sessions, settings))
        await withhold_media(None, None, sessions, settings)
    finally:
        await counters.close()
        await engine.dispose()
