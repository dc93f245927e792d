"""Reading an installation back, to compare one with another."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select, text

from bandstand.config import Settings
from bandstand.db import create_engine
from bandstand.models import Base
from bandstand.operations.backup import media_keys
from bandstand.storage import build_storage

# Rows that are the installation's bookkeeping, not its content: jobs are done and gone
# at different moments in two installations, and batch ids are the flush's own.
NOT_CONTENT = {"pending_jobs", "counter_batches"}


async def rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every content table's rows, in a stable order."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as connection:
            found = {}
            for table in Base.metadata.sorted_tables:
                if table.name not in NOT_CONTENT:
                    result = await connection.execute(select(*table.c))
                    found[table.name] = sorted((tuple(row) for row in result), key=repr)
            return found
    finally:
        await engine.dispose()


async def counters_and_truth(settings: Settings) -> list[tuple[Any, ...]]:
    """Each song's like and comment counters beside their truth; each comment's likes too."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as connection:
            songs = await connection.execute(
                text(
                    "SELECT s.id, st.like_count, "
                    "(SELECT count(*) FROM song_likes l WHERE l.song_id = s.id) "
                    "FROM songs s JOIN song_stats st ON st.song_id = s.id"
                )
            )
            comments = await connection.execute(
                text(
                    "SELECT c.id, c.like_count, "
                    "(SELECT count(*) FROM comment_likes l WHERE l.comment_id = c.id) "
                    "FROM comments c"
                )
            )
            return [tuple(row) for row in [*songs, *comments]]
    finally:
        await engine.dispose()


async def media(settings: Settings) -> dict[str, str]:
    """Each stored media file's key and sha256."""
    storage = build_storage(settings)
    return {
        key: hashlib.sha256(await storage.get(key)).hexdigest() for key in await media_keys(storage)
    }
