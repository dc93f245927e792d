"""The engagement benchmark's in-process parts: a flush of many pending counter deltas, and
a song with a great many comments to list.

``bench/run.py --only engagement`` calls these against its PostgreSQL bench database and
Redis; they can also run alone against a seeded database:
``.venv/bin/python bench/engagement.py --database-url ... --redis-url ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import uuid_utils

from bandstand.config import Settings
from bandstand.engagement.counters import LIKES, SONG, VIEWS, Delta
from bandstand.engagement.flush import flush_counters
from bandstand.runtime import Runtime

# A few words of every mood, so the sentiment columns look like real ones.
WORDS = (
    "love this track",
    "great bassline",
    "not my thing",
    "the mix is muddy",
    "beautiful vocals",
    "heard it on the radio",
    "boring chorus",
    "this made my day",
)


@dataclass(frozen=True)
class FlushResult:
    counters: int
    deltas: int
    batches: int
    seconds: float


def _settings(database_url: str, redis_url: str, namespace: str, data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        redis_namespace=namespace,
        data_dir=data_dir,
        secret_key="bench-secret-key-not-for-production-0123456789",
    )


def _asyncpg_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def bench_flush(
    database_url: str, redis_url: str, namespace: str, counters: int
) -> FlushResult:
    """``counters`` songs each get a pending view and like (two deltas, each also on
    today's daily row); the time is that of one ``flush_counters`` writing them all."""
    connection = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        ids = [r["id"] for r in await connection.fetch(f"SELECT id FROM songs LIMIT {counters}")]
    finally:
        await connection.close()
    if len(ids) < counters:
        raise ValueError(f"the database holds {len(ids)} songs, fewer than {counters}")
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-flush-") as tmp:
        rt = Runtime.build(_settings(database_url, redis_url, namespace, Path(tmp)))
        try:
            today = datetime.now(UTC).date()
            for start in range(0, len(ids), 5000):
                await rt.counters.add(
                    Delta(SONG, song_id, field, 1, today)
                    for song_id in ids[start : start + 5000]
                    for field in (VIEWS, LIKES)
                )
            started = time.perf_counter()
            report = await flush_counters(rt)
            seconds = time.perf_counter() - started
        finally:
            await rt.close()
    if report.counters != counters:
        raise ValueError(f"the flush wrote {report.counters} counters, not {counters}")
    return FlushResult(counters, 2 * counters, report.batches, seconds)


async def seed_comments(database_url: str, song_id: str, count: int, replies: int) -> None:
    """``count`` comments on one song by seeded users, ``replies`` of them replies in the
    newest threads (so the first page nests), with ids in time order like real ones."""
    rng = random.Random(7)
    connection = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        users = [r["id"] for r in await connection.fetch("SELECT id FROM users LIMIT 2000")]
        song = uuid.UUID(song_id)
        now = datetime.now(UTC)
        top = [uuid.UUID(bytes=uuid_utils.uuid7().bytes) for _ in range(count - replies)]
        rows = [_comment(rng, c, song, rng.choice(users), None, None, now) for c in top]
        newest = top[-200:]
        for _ in range(replies):
            root = rng.choice(newest)
            reply = uuid.UUID(bytes=uuid_utils.uuid7().bytes)
            rows.append(_comment(rng, reply, song, rng.choice(users), root, root, now))
        await connection.copy_records_to_table(
            "comments",
            records=rows,
            columns=[
                "id",
                "song_id",
                "user_id",
                "parent_id",
                "root_id",
                "content",
                "timestamp_s",
                "sentiment_score",
                "is_flagged",
                "is_held",
                "like_count",
                "created_at",
                "updated_at",
            ],
        )
        await connection.execute(
            "INSERT INTO song_stats (song_id, views, like_count, comment_count) "
            "VALUES ($2, 0, 0, $1) ON CONFLICT (song_id) DO UPDATE SET comment_count = $1",
            count,
            song,
        )
        await connection.execute("VACUUM (ANALYZE) comments")
    finally:
        await connection.close()


def _comment(
    rng: random.Random,
    comment_id: uuid.UUID,
    song: uuid.UUID,
    user: uuid.UUID,
    parent: uuid.UUID | None,
    root: uuid.UUID | None,
    now: datetime,
) -> tuple[object, ...]:
    score = round(rng.uniform(-0.5, 0.9), 4)
    return (
        comment_id,
        song,
        user,
        parent,
        root,
        rng.choice(WORDS),
        None,
        score,
        False,
        False,
        rng.randrange(0, 50),
        now,
        now,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--namespace", default="bandstand-bench")
    parser.add_argument("--counters", type=int, default=100_000)
    args = parser.parse_args()
    result = asyncio.run(
        bench_flush(args.database_url, args.redis_url, args.namespace, args.counters)
    )
    print(result)


if __name__ == "__main__":
    main()
