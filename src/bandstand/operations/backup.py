"""``bandstand backup DEST``: the database and the media, consistent with each other.

The database is copied first, as one snapshot: SQLite's online backup API (a running
server keeps writing meanwhile; the copy is the database as of one moment), or
``pg_dump`` inside a transaction whose snapshot also gives the manifest's counts and
revision. The media come after, key by key through the storage interface (a local
folder or an S3 prefix alike): a file uploaded meanwhile is copied too and belongs to
nothing (``bandstand storage-check`` lists such files), a file deleted meanwhile was its
row's to lose.

Counters: views, likes and comment counts reach the database in batches, so a copy taken
while listeners like songs holds like rows whose counts are not yet in ``song_stats``, and
the deltas waiting in Redis (or in the embedded server's memory) are not in the backup by
design: they would count twice or not at all against the rows. The truth tables (likes,
comments, plays) are in the copy; ``restore`` rebuilds every counter from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import bandstand
from bandstand.config import Settings
from bandstand.db import create_engine
from bandstand.operations import Refused, postgres
from bandstand.operations import manifest as files
from bandstand.operations.schema import current_revision
from bandstand.storage import InvalidKey, Storage, StorageError, check_key


async def back_up(settings: Settings, storage: Storage, dest: Path) -> files.Manifest:
    """Write a backup of this installation to the new (or empty) folder ``dest``. It
    takes no lock: the server may run meanwhile. A backup that fails is removed."""
    if not settings.is_embedded_database:
        postgres.tool("pg_dump")  # before anything is written
    made = await asyncio.to_thread(_prepare, settings, dest)
    try:
        return await _write(settings, storage, dest)
    except BaseException:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        raise


def _prepare(settings: Settings, dest: Path) -> bool:
    """Make ``dest`` (the owner's alone: it will hold password hashes and keys); whether
    it was made, so that a failed backup removes only what it made."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(f"{dest} is not an empty folder: give a new one for each backup")
    source = settings.sqlite_file
    if settings.is_embedded_database and (source is None or not source.is_file()):
        raise Refused(f"there is no database at {source} to back up")
    made = not dest.exists()
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    return made


async def _write(settings: Settings, storage: Storage, dest: Path) -> files.Manifest:
    if settings.is_embedded_database:
        assert settings.sqlite_file is not None
        name = files.SQLITE_FILE
        revision, counts = await asyncio.to_thread(_sqlite_copy, settings.sqlite_file, dest / name)
    else:
        name = files.PG_DUMP_FILE
        revision, counts = await _pg_dump(settings.effective_database_url, dest / name)
    if revision is None:
        raise Refused("the database has no migrations applied: run `bandstand migrate` first")
    database = await asyncio.to_thread(files.entry, dest, name)
    # Read (made, in a data folder that has none yet) before the key file is copied.
    secret = settings.signing_secret()
    if settings.secret_key is None:
        # The data folder's own key: without it, a restore could not open two-factor
        # secrets and app passwords.
        key_file = settings.data_dir / "secret_key"
        if key_file.is_file():
            await asyncio.to_thread(_private_copy, key_file, dest / files.SECRET_FILE)
    media = await _copy_media(storage, dest / files.MEDIA)
    manifest = files.Manifest(
        format=files.FORMAT,
        bandstand_version=bandstand.__version__,
        alembic_revision=revision,
        backend="sqlite" if settings.is_embedded_database else "postgresql",
        created_at=dt.datetime.now(dt.UTC),
        counts=counts,
        database=database,
        secret_fingerprint=files.secret_fingerprint(secret),
        media=media,
    )
    await asyncio.to_thread(files.write, dest, manifest)
    return manifest


def _sqlite_copy(source: Path, target: Path) -> tuple[str | None, dict[str, int]]:
    """Copy ``source`` as of one moment (writers wait for the copy, not the reverse of a
    file copy's torn pages), then read the revision and counts from the copy."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as reader,
        contextlib.closing(sqlite3.connect(target)) as writer,
    ):
        reader.backup(writer)
    os.chmod(target, 0o600)
    with contextlib.closing(sqlite3.connect(target)) as copy:
        row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {
            label: int(copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for label, table in files.COUNTED.items()
        }
    return (row[0] if row else None), counts


async def _pg_dump(database_url: str, target: Path) -> tuple[str | None, dict[str, int]]:
    """Dump the database from an exported snapshot, and read the counts in that same
    snapshot: the manifest describes exactly the rows in the dump."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                snapshot = (await connection.execute(text("SELECT pg_export_snapshot()"))).scalar()
                revision = await current_revision(connection)
                counts = await _counts(connection)
                args, env = postgres.connection(database_url)
                await postgres.run(
                    "pg_dump",
                    [*args, "--format=custom", f"--snapshot={snapshot}", "--file", str(target)],
                    env,
                )
    finally:
        await engine.dispose()
    os.chmod(target, 0o600)
    return revision, counts


async def _counts(connection: AsyncConnection) -> dict[str, int]:
    return {
        label: int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608
        for label, table in files.COUNTED.items()
    }


def _private_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


async def media_keys(storage: Storage) -> list[str]:
    """Every stored media file: what the storage lists, without the marks nginx reads
    (``media/withheld.py``), which the database decides and a restore writes again."""
    found = []
    for key in await storage.keys():
        with contextlib.suppress(InvalidKey):
            found.append(check_key(key))
    return found


async def _copy_media(storage: Storage, root: Path) -> list[files.FileEntry]:
    copied = []
    for key in await media_keys(storage):
        target = root / key
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        try:
            await storage.get_file(key, target)
        except (FileNotFoundError, StorageError):
            if await storage.exists(key):
                raise
            continue  # deleted since it was listed
        copied.append(await asyncio.to_thread(files.entry, root, key))
    return copied
