"""The engagement section: likes under load, the counter flush, a song's comments, on
PostgreSQL + Redis after ``seed.py`` loads 100 000 songs and 2 000 users.

- The flush, in this process: every song gets a pending view and like in Redis (200 000
  deltas, each also on today's daily row), then one ``flush_counters`` writes them all
  (target ≤ 5 s); ``bandstand counters rebuild`` then puts the truth back, timed.
- Likes under load: 64 seeded listeners, each with a token of their own, like and unlike 50
  songs in turn under wrk (every request changes a like), beside ``GET /api/v1/ping`` in
  the same run (target ≥ 40 % of ping's req/s, no error); after ``bandstand counters
  flush`` each song's ``likeCount`` is compared with its rows in ``song_likes``.
- Comments: 100 000 on one song (5 % of them replies in the newest 200 threads), copied in;
  ``GET /api/v1/comments/:songId/comments`` on page 1 and deep by cursor (target p99 ≤
  50 ms).

Alone, from the repository root: ``.venv/bin/python bench/run.py --only engagement
[--quick]`` (``--quick``: 10 000 songs and 10 000 comments).
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
import httpx
import uuid_utils
from harness import (
    BANDSTAND,
    OUT_DIR,
    PAGE_LIMIT,
    PG_URL,
    PING,
    REDIS_NAMESPACE,
    REDIS_URL,
    SECRET_KEY,
    UNLIMITED,
    BenchError,
    Load,
    Report,
    Section,
    bench_psql,
    encode_cursor,
    expect,
    load_table,
    lua_load,
    lua_script,
    measure_lua,
    met,
    postgresql_env,
    preamble,
    reproduce,
    run_checked,
    running_server,
    seed,
    seeded_tokens,
    wrk_options,
)

from bandstand.config import Settings
from bandstand.engagement.counters import LIKES, SONG, VIEWS, Delta
from bandstand.engagement.counters.flush import flush_counters
from bandstand.runtime import Runtime

ENGAGEMENT = "engagement"
TITLE = "## Engagement: likes under load, the counter flush, a song's comments"
FLUSH_COUNTERS, QUICK_FLUSH_COUNTERS = 100_000, 10_000
COMMENTS, QUICK_COMMENTS = 100_000, 10_000
REPLY_SHARE = 20  # one comment in this many is a reply in one of the newest threads
LIKERS, LIKED_SONGS = 64, 50
# Each listener plays each of these once: 128,000 plays, more than a run makes.
PLAYED_SONGS = 2_000
LIKE_RATIO = 0.4
COMMENTS_P99_MS = 50
FLUSH_LIMIT_S = 5.0
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


@dataclass(frozen=True)
class EngagementResult:
    users: int
    songs: int
    comments: int
    replies: int
    deep_page: int
    flush: FlushResult
    rebuild_s: float
    ping: Load
    likes: Load
    plays: Load
    # Plays counted, after a flush: (views added to the played songs, plays answered 200).
    counted: tuple[int, int]
    comments_first: Load
    comments_deep: Load
    # After the like storm and a flush: (songs checked, songs whose likeCount ≠ the truth).
    drift: tuple[int, int]

    @property
    def loads(self) -> list[Load]:
        return [self.ping, self.likes, self.plays, self.comments_first, self.comments_deep]

    @property
    def like_ratio(self) -> float:
        return self.likes.requests_per_s / self.ping.requests_per_s


# --- in this process: the flush and the comments' rows ------------------------------------


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
        raise BenchError(f"the database holds {len(ids)} songs, fewer than {counters}")
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-flush-") as tmp:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            redis_url=redis_url,
            redis_namespace=namespace,
            data_dir=Path(tmp),
            secret_key=SECRET_KEY,
        )
        rt = Runtime.build(settings)
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
        raise BenchError(f"the flush wrote {report.counters} counters, not {counters}")
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


# --- through the API ----------------------------------------------------------------------


def likes_lua(tokens: list[str], songs: list[str]) -> str:
    """Each listener in turn likes each song, round after round; every other round
    unlikes them instead. Every request changes something, so each is a real write."""
    quoted_tokens = ", ".join(f'"{t}"' for t in tokens)
    quoted_songs = ", ".join(f'"{s}"' for s in songs)
    return (
        f"local tokens = {{{quoted_tokens}}}\n"
        f"local songs = {{{quoted_songs}}}\n"
        "local i = -1\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local user = i % #tokens + 1\n"
        "  local song = math.floor(i / #tokens) % #songs + 1\n"
        "  local round = math.floor(i / (#tokens * #songs))\n"
        '  local verb = round % 2 == 0 and "like" or "unlike"\n'
        '  local path = "/api/v1/songs/" .. songs[song] .. "/" .. verb\n'
        '  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. tokens[user]})\n'
        "end\n"
    )


def plays_lua(tokens: list[str], songs: list[str]) -> str:
    """Each listener plays each song once (listener after listener, song after song),
    from a place drawn at random: the warm-up's wrk and the measured one start apart, so
    nearly every request is a play the window counts, not a repeat it ignores."""
    quoted_tokens = ", ".join(f'"{t}"' for t in tokens)
    quoted_songs = ", ".join(f'"{s}"' for s in songs)
    return (
        f"local tokens = {{{quoted_tokens}}}\n"
        f"local songs = {{{quoted_songs}}}\n"
        "math.randomseed(os.time())\n"
        "local i = math.random(0, #tokens * #songs - 1)\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local user = i % #tokens + 1\n"
        "  local song = math.floor(i / #tokens) % #songs + 1\n"
        '  local path = "/api/v1/songs/" .. songs[song]\n'
        '  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. tokens[user]})\n'
        "end\n"
    )


def views_of(songs: list[str]) -> int:
    """The played songs' views, as the database holds them after a flush."""
    listed = ", ".join(f"'{song}'" for song in songs)
    total = bench_psql(
        f"SELECT coalesce(sum(views), 0) FROM song_stats WHERE song_id IN ({listed})"
    )
    return int(total or 0)


def like_drift(songs: list[str]) -> tuple[int, int]:
    """How many of ``songs`` have a stored likeCount other than their rows of likes."""
    ids = ", ".join(f"'{song}'" for song in songs)
    wrong = bench_psql(
        f"SELECT count(*) FROM songs s LEFT JOIN song_stats t ON t.song_id = s.id "
        f"WHERE s.id IN ({ids}) AND coalesce(t.like_count, 0) <> "
        "(SELECT count(*) FROM song_likes l WHERE l.song_id = s.id)"
    )
    return len(songs), int(wrong)


def comments_cursor(song_id: str, page: int) -> str:
    """The ``nextCursor`` of page ``page - 1`` of the song's comments."""
    offset = (page - 1) * PAGE_LIMIT - 1
    return encode_cursor(
        bench_psql(
            f"SELECT id FROM comments WHERE song_id = '{song_id}' AND root_id IS NULL "
            f"ORDER BY id DESC OFFSET {offset} LIMIT 1"
        )
    )


def check_comments(client: httpx.Client, first: str, deep: str) -> None:
    """The pages wrk loads answer what they should: threads with their replies."""
    page = expect(client.get(first), 200).json()["data"]
    if len(page["docs"]) != PAGE_LIMIT or not any(d["replies"] for d in page["docs"]):
        raise BenchError(f"the first page of comments is not what was seeded: {page}")
    if len(expect(client.get(deep), 200).json()["data"]["docs"]) != PAGE_LIMIT:
        raise BenchError("the deep page of comments is short")


# --- the section -------------------------------------------------------------------------


def bench_engagement(args: argparse.Namespace) -> EngagementResult:
    counters = QUICK_FLUSH_COUNTERS if args.quick else FLUSH_COUNTERS
    comments = QUICK_COMMENTS if args.quick else COMMENTS
    replies = comments // REPLY_SHARE
    users = max(LIKERS, 2_000)
    deep_page = (comments - replies) // PAGE_LIMIT - 10
    print(f"engagement: {counters:,} songs, {comments:,} comments on one song", flush=True)
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-engagement-") as tmp:
        data_dir = Path(tmp)
        with postgresql_env(data_dir) as env:
            seed(env, data_dir, users, counters)
            flush = asyncio.run(bench_flush(PG_URL, REDIS_URL, REDIS_NAMESPACE, counters))
            print(
                f"  flush of {flush.counters:,} counters ({flush.deltas:,} deltas) in "
                f"{flush.batches} batches: {flush.seconds:.2f} s",
                flush=True,
            )
            # The flush's likes had no rows behind them: the rebuild puts the truth back
            # (and is timed, over every song).
            started = time.monotonic()
            run_checked([str(BANDSTAND), "counters", "rebuild"], env=env, cwd=data_dir)
            rebuild_s = time.monotonic() - started
            print(f"  counters rebuild over {counters:,} songs: {rebuild_s:.1f} s", flush=True)
            song = bench_psql("SELECT id FROM songs ORDER BY id DESC LIMIT 1")
            asyncio.run(seed_comments(PG_URL, song, comments, replies))
            liked = bench_psql(f"SELECT id FROM songs ORDER BY id LIMIT {LIKED_SONGS}").split()
            played = bench_psql(
                f"SELECT id FROM songs ORDER BY id DESC OFFSET 1 LIMIT {PLAYED_SONGS}"
            ).split()
            views_before = views_of(played)
            first = f"/api/v1/comments/{song}/comments?limit={PAGE_LIMIT}"
            deep = f"{first}&cursor={comments_cursor(song, deep_page)}"
            # Logging the listeners in is set-up, not what is measured.
            server_env = (
                env
                | UNLIMITED
                | {
                    "BANDSTAND_LOGIN_PER_CLIENT": "100000/minute",
                    "BANDSTAND_LOGIN_PER_ACCOUNT": "100000/minute",
                    "BANDSTAND_LOGIN_PER_PAIR": "100000/minute",
                }
            )
            server_log = OUT_DIR / "server-engagement.log"
            with running_server(server_env, data_dir, server_log, args.api_workers) as base_url:
                tokens = seeded_tokens(base_url, LIKERS)
                headers = [f"Authorization: Bearer {tokens[0]}"]
                with httpx.Client(
                    base_url=base_url, headers={"Authorization": f"Bearer {tokens[0]}"}
                ) as client:
                    check_comments(client, first, deep)
                plain = lua_script("stats")
                ping = measure_lua("GET /api/v1/ping", f"{base_url}{PING}", plain, args, [])
                likes = measure_lua(
                    "POST /api/v1/songs/:id/like and /unlike",
                    base_url,
                    lua_script("likes", likes_lua(tokens, liked)),
                    args,
                    [],
                )
                plays = measure_lua(
                    "POST /api/v1/songs/:id (a counted play)",
                    base_url,
                    lua_script("plays", plays_lua(tokens, played)),
                    args,
                    [],
                )
                comments_first = measure_lua(
                    "GET /api/v1/comments/:songId/comments, page 1",
                    f"{base_url}{first}",
                    plain,
                    args,
                    headers,
                )
                comments_deep = measure_lua(
                    f"GET /api/v1/comments/:songId/comments, page {deep_page:,} by cursor",
                    f"{base_url}{deep}",
                    plain,
                    args,
                    headers,
                )
            run_checked([str(BANDSTAND), "counters", "flush"], env=env, cwd=data_dir)
            drift = like_drift(liked)
            counted = (views_of(played) - views_before, plays.requests - plays.non_2xx)
    return EngagementResult(
        users=users,
        songs=counters,
        comments=comments,
        replies=replies,
        deep_page=deep_page,
        flush=flush,
        rebuild_s=rebuild_s,
        ping=ping,
        likes=likes,
        plays=plays,
        counted=counted,
        comments_first=comments_first,
        comments_deep=comments_deep,
        drift=drift,
    )


def markdown(r: EngagementResult, args: argparse.Namespace, machine_load: float) -> str:
    more = [
        f"- Data: {r.songs:,} songs and {r.users:,} users from `bench/seed.py`; "
        f"{r.comments:,} comments on one song ({r.replies:,} of them replies in the newest "
        "threads) copied in by `bench/engagement.py`",
        f"- Likes: {LIKERS} listeners, each with a token of their own, like and unlike "
        f"{LIKED_SONGS} songs in turn (every request changes a like, and records a delta)",
        f"- Plays: the same listeners each play {PLAYED_SONGS:,} other songs once, one after "
        "another (every request is a play the 30-minute window counts: a row in `plays` "
        "and a view)",
    ]
    command = reproduce(ENGAGEMENT, *(["--quick"] if args.quick else []), *wrk_options(args))
    checked, wrong = r.drift
    flush = r.flush
    lines = [
        *preamble(command, lua_load(args), machine_load, more),
        *load_table(r.loads),
    ]
    likes_ok = r.likes.errors == 0 and r.ping.errors == 0 and r.like_ratio >= LIKE_RATIO
    lines += [
        "",
        f"After the storm and `bandstand counters flush`, {checked - wrong} of the {checked} "
        "liked songs have a `likeCount` equal to their rows in `song_likes`.",
        "",
        f"Plays: {r.counted[1]:,} answered 200 in the measured run, after a warm-up of the "
        f"same script; after the flush the played songs' views had risen by "
        f"{r.counted[0]:,} (the warm-up's plays included, and any repeat of a listener and "
        "song within the window not).",
        "",
        f"The flush: {flush.counters:,} songs each with a pending view and like "
        f"({flush.deltas:,} deltas, each also on today's daily row), written by one "
        f"`flush_counters` in {flush.batches} batches. Then `bandstand counters rebuild` "
        f"recomputed every counter from the truth tables in {r.rebuild_s:.1f} s (the "
        "flush's likes had no rows behind them).",
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        f"| like/unlike req/s ≥ {LIKE_RATIO:.0%} of ping's, no errors | {r.like_ratio:.0%} | "
        f"{'yes' if likes_ok and not wrong else '**no**'} |",
        f"| flush of {flush.counters:,} pending counters ≤ {FLUSH_LIMIT_S:.0f} s | "
        f"{flush.seconds:.2f} s | {'yes' if flush.seconds <= FLUSH_LIMIT_S else '**no**'} |",
        f"| comments page 1: p99 ≤ {COMMENTS_P99_MS} ms | {r.comments_first.p99_ms:.1f} ms | "
        f"{met(r.comments_first, r.comments_first.p99_ms, COMMENTS_P99_MS)} |",
        f"| comments page {r.deep_page:,} by cursor: p99 ≤ {COMMENTS_P99_MS} ms | "
        f"{r.comments_deep.p99_ms:.1f} ms | "
        f"{met(r.comments_deep, r.comments_deep.p99_ms, COMMENTS_P99_MS)} |",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    result = bench_engagement(args)
    return Report(
        markdown(result, args, machine_load), failed=[x.label for x in result.loads if x.errors]
    )


SECTION = Section(ENGAGEMENT, TITLE, run)
