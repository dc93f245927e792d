"""The songs section: the catalogue at scale, search, and Range requests, on PostgreSQL +
Redis.

``seed.py`` loads 100 000 users and 1 000 000 songs into a fresh ``bandstand_bench``
database. The home page on top and 5 000 pages deep (by cursor; by page number, OFFSET,
for contrast) and search over five queries are timed one request at a time, then loaded
by wrk at 32 connections on ``bandstand serve --workers 2``, and the home page again with
the one-second page cache off. Then random 256 KiB ranges of a 10 MB uploaded WAV are asked
of nginx alone, of Bandstand's in-process Range responder, and of nginx in front of
Bandstand as ``bandstand proxy-config`` sets it up (the stream route answered with
X-Accel-Redirect; the signed link checked by nginx itself). Targets: home p99 ≤ 50 ms,
search p95 ≤ 50 ms, Range MB/s ≥ 50 % of nginx's.

Alone, from the repository root:
``.venv/bin/python bench/run.py --only songs [--songs 200000 --users 20000]``.
"""

from __future__ import annotations

import argparse
import array
import io
import math
import statistics
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from harness import (
    OUT_DIR,
    PAGE_LIMIT,
    PG_DATABASE,
    UNLIMITED,
    WRK_TIMEOUT_S,
    BenchError,
    Load,
    Report,
    Section,
    bench_psql,
    encode_cursor,
    ensure_nginx,
    expect,
    load_table,
    lua_load,
    lua_script,
    measure_lua,
    met,
    nginx_version,
    png_avatar,
    postgresql_env,
    preamble,
    production_site,
    reproduce,
    running_nginx,
    running_server,
    seed,
    seeded_tokens,
    wrk_options,
)

SONGS = "songs"
TITLE = "## Songs at scale: the catalogue, search and Range requests on PostgreSQL"
FULL_USERS, FULL_SONGS = 100_000, 1_000_000
QUICK_USERS, QUICK_SONGS = 2_000, 20_000
HOME = "/api/v1/songs/home"
SEARCH = "/api/v1/songs/search"
UPLOAD = "/api/v1/songs/upload"
DEEP_PAGE = 5_000
# What listeners type: whole words, two words, a typo, a genre, a place.
SEARCH_QUERIES = ("midnight", "neon dreams", "midnigth train", "deep house", "tokyo")
WAV_SECONDS = 57  # 44.1 kHz stereo 16-bit: about 10 MB
RANGE_BYTES = 256 * 1024
HOME_P99_MS = 50
SEARCH_P95_MS = 50
RANGE_RATIO = 0.5
UNLOADED_HOME = 20  # sequential requests per catalogue route
UNLOADED_SEARCH = 20  # sequential requests per search query


@dataclass(frozen=True)
class SongsResult:
    users: int
    songs: int
    seed_s: float
    database_size: str
    deep_page: int
    search_hits: dict[str, str]
    # One request at a time: the median time of each route, no queue in front of it.
    unloaded: list[tuple[str, float, float, int]]
    search_p95_unloaded: float
    uncached: list[Load]
    file_size: int
    nginx_version: str
    home: Load
    deep_cursor: Load
    search: Load
    range_nginx: Load
    range_bandstand: Load
    range_offload: Load
    range_signed: Load

    @property
    def loads(self) -> list[Load]:
        return [self.home, self.deep_cursor, self.search]

    @property
    def ranges(self) -> list[Load]:
        return [self.range_nginx, self.range_bandstand, self.range_offload, self.range_signed]


# --- the catalogue and search -------------------------------------------------------------


def rotating_paths_lua(paths: list[str]) -> str:
    """Each request takes the next path; the -H headers (the token) go with every one."""
    quoted = ", ".join(f'"{path}"' for path in paths)
    return (
        f"local paths = {{{quoted}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n"
    )


def deep_cursor(page: int) -> str:
    """The ``nextCursor`` of page ``page - 1``: the id of that page's last song."""
    offset = (page - 1) * PAGE_LIMIT - 1
    return encode_cursor(
        bench_psql(f"SELECT id FROM songs ORDER BY id DESC OFFSET {offset} LIMIT 1")
    )


def song_ids(client: httpx.Client, params: dict[str, str | int]) -> list[str]:
    data = expect(client.get(HOME, params=params), 200).json()["data"]
    return [doc["_id"] for doc in data["docs"]]


def check_deep_page(client: httpx.Client, page: int, cursor: str) -> None:
    """The cursor must land on the same songs as the page number does."""
    by_cursor = song_ids(client, {"cursor": cursor, "limit": PAGE_LIMIT})
    by_number = song_ids(client, {"page": page, "limit": PAGE_LIMIT})
    if len(by_cursor) != PAGE_LIMIT or by_cursor != by_number:
        raise BenchError(f"page {page} by cursor and by number differ: {by_cursor} {by_number}")


def search_hits(client: httpx.Client) -> dict[str, str]:
    """What page 1 of each query says it found: exact, or a lower bound (1,000 at most)."""
    hits = {}
    for query in SEARCH_QUERIES:
        songs = expect(client.get(SEARCH, params={"q": query}), 200).json()["data"]["songs"]
        hits[query] = f"{songs['totalDocs']:,}" + ("" if songs.get("totalExact") else "+")
    return hits


def unloaded_ms(client: httpx.Client, path: str, count: int) -> list[float]:
    """The times (ms) of ``count`` requests made one after another."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        expect(client.get(path), 200)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


@dataclass(frozen=True)
class Catalogue:
    loads: list[Load]
    search_hits: dict[str, str]
    unloaded: list[tuple[str, float, float, int]]
    search_p95_unloaded: float


def bench_catalogue(
    base_url: str, token: str, deep_page: int, cursor: str, args: argparse.Namespace
) -> Catalogue:
    """The home page on top and deep by cursor, and search: one request at a time, then
    under wrk. Page numbers that deep (OFFSET) only run one at a time, for contrast."""
    home = f"{HOME}?limit={PAGE_LIMIT}"
    deep = f"{home}&cursor={cursor}"
    searches = [f"{SEARCH}?{urlencode({'q': q})}" for q in SEARCH_QUERIES]
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=WRK_TIMEOUT_S) as client:
        check_deep_page(client, deep_page, cursor)
        hits = search_hits(client)
        timed = [
            (label, unloaded_ms(client, path, UNLOADED_HOME))
            for label, path in (
                ("home page 1", home),
                (f"home page {deep_page:,} by cursor", deep),
                (f"home page {deep_page:,} by page number (OFFSET)", f"{home}&page={deep_page}"),
            )
        ]
        searched = [
            (f"search `{q}`", unloaded_ms(client, path, UNLOADED_SEARCH))
            for q, path in zip(SEARCH_QUERIES, searches, strict=True)
        ]
    unloaded = [
        (label, statistics.median(times), p95(times), len(times))
        for label, times in [*timed, *searched]
    ]
    search_p95 = p95([t for _, times in searched for t in times])
    for label, median, tail, count in unloaded:
        print(f"  {label}, one at a time: median {median:.1f} ms, p95 {tail:.1f} ms of {count}")
    print(f"  search, one at a time: p95 {search_p95:.1f} ms over every query", flush=True)
    headers = [f"Authorization: Bearer {token}"]
    plain = lua_script("stats")
    rotate = lua_script("search", rotating_paths_lua(searches))
    loads = [
        measure_lua("home page 1", f"{base_url}{home}", plain, args, headers),
        measure_lua(
            f"home page {deep_page:,} by cursor", f"{base_url}{deep}", plain, args, headers
        ),
        measure_lua("search", f"{base_url}{SEARCH}", rotate, args, headers),
    ]
    return Catalogue(loads, hits, unloaded, search_p95)


def bench_uncached(
    base_url: str, token: str, cursor: str, deep_page: int, args: argparse.Namespace
) -> list[Load]:
    home = f"{HOME}?limit={PAGE_LIMIT}"
    headers = [f"Authorization: Bearer {token}"]
    plain = lua_script("stats")
    return [
        measure_lua("home page 1, no cache", f"{base_url}{home}", plain, args, headers),
        measure_lua(
            f"home page {deep_page:,} by cursor, no cache",
            f"{base_url}{home}&cursor={cursor}",
            plain,
            args,
            headers,
        ),
    ]


# --- Range requests on a 10 MB file, Bandstand and nginx -----------------------------------


def random_ranges_lua(size: int, chunk: int) -> str:
    """Ranges of ``chunk`` bytes at random offsets; the same sequence for every server."""
    return (
        f"local size, chunk = {size}, {chunk}\n"
        "math.randomseed(42)\n"
        "request = function()\n"
        "  local first = math.random(0, size - chunk)\n"
        '  local range = "bytes=" .. first .. "-" .. (first + chunk - 1)\n'
        '  return wrk.format(nil, nil, {["Range"] = range})\n'
        "end\n"
    )


def tone_wav(seconds: int) -> bytes:
    """A 441 Hz sine (100 samples a period at 44.1 kHz), stereo 16-bit: ~10 MB a minute."""
    rate, frequency = 44_100, 441
    period = array.array("h")
    for i in range(rate // frequency):
        sample = int(12_000 * math.sin(2 * math.pi * i * frequency / rate))
        period.extend((sample, sample))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(period.tobytes() * (seconds * frequency))
    return buffer.getvalue()


def upload_song(base_url: str, token: str, audio: bytes) -> dict[str, Any]:
    files = {
        "songFile": ("tone.wav", audio, "audio/wav"),
        "thumbnail": ("cover.png", png_avatar(), "image/png"),
    }
    form = {"title": "Bench Tone", "description": "A 441 Hz sine.", "Genre": "Test"}
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        answer = expect(client.post(UPLOAD, data=form, files=files, headers=auth), 201)
        song: dict[str, Any] = answer.json()["data"]
        return song


def check_range(url: str, content: bytes) -> None:
    """A Range request answers 206 with exactly those bytes, before wrk relies on it."""
    first, last = 1_000_003, 1_000_003 + RANGE_BYTES - 1
    answer = httpx.get(url, headers={"Range": f"bytes={first}-{last}"}, timeout=30)
    if answer.status_code != 206 or answer.content != content[first : last + 1]:
        raise BenchError(f"GET {url} with a Range answered {answer.status_code}, not the bytes")


def measure_ranges(
    label: str, url: str, content: bytes, args: argparse.Namespace, script: Path
) -> Load:
    check_range(url, content)
    return measure_lua(label, url, script, args, [])


# --- the section -------------------------------------------------------------------------


def bench_songs(args: argparse.Namespace) -> SongsResult:
    print(f"songs: {args.songs:,} songs and {args.users:,} users on PostgreSQL", flush=True)
    nginx = ensure_nginx()
    deep_page = min(DEEP_PAGE, args.songs // PAGE_LIMIT)
    if deep_page < 2:
        raise BenchError(f"--songs must be at least {2 * PAGE_LIMIT} for a deep page")
    audio = tone_wav(WAV_SECONDS)
    ranges = lua_script("ranges", random_ranges_lua(len(audio), RANGE_BYTES))
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-songs-") as tmp:
        data_dir = Path(tmp)
        media_dir = data_dir / "media"
        with postgresql_env(data_dir) as env:
            env = env | UNLIMITED
            seed_s = seed(env, data_dir, args.users, args.songs)
            size = bench_psql(f"SELECT pg_size_pretty(pg_database_size('{PG_DATABASE}'))")
            cursor = deep_cursor(deep_page)
            server_log = OUT_DIR / "server-songs.log"
            with running_server(env, data_dir, server_log, args.api_workers) as base_url:
                (token,) = seeded_tokens(base_url, 1)
                catalogue = bench_catalogue(base_url, token, deep_page, cursor, args)
                song = upload_song(base_url, token, audio)
                audio_key = bench_psql(f"SELECT audio_key FROM songs WHERE id = '{song['_id']}'")
                with running_nginx(nginx, "nginx-static", media_dir) as static_url:
                    range_nginx = measure_ranges(
                        "nginx", f"{static_url}/{audio_key}", audio, args, ranges
                    )
                range_bandstand = measure_ranges(
                    "Bandstand, in-process Range responder", song["songFile"], audio, args, ranges
                )
            # The same catalogue routes with no page reused: what the database and the views
            # cost under load.
            uncached_env = env | {"BANDSTAND_CATALOGUE_CACHE_S": "0"}
            uncached_log = OUT_DIR / "server-songs-uncached.log"
            with running_server(
                uncached_env, data_dir, uncached_log, args.api_workers
            ) as uncached_url:
                uncached = bench_uncached(uncached_url, token, cursor, deep_page, args)
            # Production, as `bandstand proxy-config` sets nginx up: the stream route answers
            # with X-Accel-Redirect; the signed link to the file never reaches Bandstand.
            stream = urlsplit(song["songFile"])
            (original,) = [r for r in song["renditions"] if r["kind"] == "original"]
            signed = urlsplit(original["url"])
            offload_env = env | {"BANDSTAND_MEDIA_OFFLOAD": "true"}
            offload_log = OUT_DIR / "server-songs-offload.log"
            with running_server(offload_env, data_dir, offload_log) as offload_url:
                upstream = urlsplit(offload_url).port or 0

                def site(port: int) -> str:
                    return production_site(offload_env, data_dir, port, upstream)

                with running_nginx(nginx, "nginx-production", media_dir, site) as proxy_url:
                    range_offload = measure_ranges(
                        "Bandstand behind nginx: stream route, X-Accel-Redirect",
                        f"{proxy_url}{stream.path}?{stream.query}",
                        audio,
                        args,
                        ranges,
                    )
                    range_signed = measure_ranges(
                        "Bandstand behind nginx: signed link, checked by nginx",
                        f"{proxy_url}{signed.path}",
                        audio,
                        args,
                        ranges,
                    )
    return SongsResult(
        users=args.users,
        songs=args.songs,
        seed_s=seed_s,
        database_size=size,
        deep_page=deep_page,
        search_hits=catalogue.search_hits,
        unloaded=catalogue.unloaded,
        search_p95_unloaded=catalogue.search_p95_unloaded,
        uncached=uncached,
        file_size=len(audio),
        nginx_version=nginx_version(nginx),
        home=catalogue.loads[0],
        deep_cursor=catalogue.loads[1],
        search=catalogue.loads[2],
        range_nginx=range_nginx,
        range_bandstand=range_bandstand,
        range_offload=range_offload,
        range_signed=range_signed,
    )


def markdown(r: SongsResult, args: argparse.Namespace, machine_load: float) -> str:
    queries = ", ".join(f"`{q}` ({n} songs)" for q, n in r.search_hits.items())
    more = [
        f"- Data: {r.songs:,} songs and {r.users:,} users loaded by `bench/seed.py` in "
        f"{r.seed_s:.0f} s (database {r.database_size} after `VACUUM (ANALYZE)`)",
        f"- Routes: `GET {HOME}?limit={PAGE_LIMIT}` on page 1 and on page {r.deep_page:,} by "
        f"`cursor` (the `nextCursor` of page {r.deep_page - 1:,}); `GET {SEARCH}?q=` rotating "
        f"over {queries}",
    ]
    command = reproduce(
        SONGS, "--users", str(args.users), "--songs", str(args.songs), *wrk_options(args)
    )
    lines = [
        *preamble(command, lua_load(args), machine_load, more),
        "One request at a time (what a request costs with no queue in front of it; the home "
        "rows are mostly answers reused from the last second, see the no-cache rows below):",
        "",
        "| route | median ms | p95 ms | requests |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {median:.1f} | {tail:.1f} | {count} |"
        for label, median, tail, count in r.unloaded
    ]
    lines += [f"| search, every query above | | {r.search_p95_unloaded:.1f} | |"]
    lines += ["", f"Under load, {args.connections} connections:", ""]
    lines += load_table([*r.loads, *r.uncached])
    lines += [
        "",
        f"Range requests of {RANGE_BYTES // 1024} KiB at random offsets of a "
        f"{r.file_size / 1e6:.1f} MB WAV uploaded through `POST {UPLOAD}`: the same file and "
        f"the same sequence of ranges for each server; {r.nginx_version} with one worker and "
        "sendfile, alone, and in front of Bandstand as `bandstand proxy-config` sets it up "
        "(`BANDSTAND_MEDIA_OFFLOAD=true`; the signed link in the song's `renditions` is "
        "checked by nginx itself with njs, the stream route by Bandstand):",
        "",
        "| server | req/s | MB/s | p50 ms | p99 ms | bytes/response | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {x.label} | {x.requests_per_s:,.0f} | {x.mb_per_s:,.1f} | {x.p50_ms:.1f} | "
        f"{x.p99_ms:.1f} | {x.bytes_per_response:,.0f} | {x.non_2xx} | {x.socket_errors} |"
        for x in r.ranges
    ]
    nginx_mb = r.range_nginx.mb_per_s
    limit = HOME_P99_MS
    lines += [
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        f"| home page 1: p99 ≤ {limit} ms | {r.home.p99_ms:.1f} ms | "
        f"{met(r.home, r.home.p99_ms, limit)} |",
        f"| home page {r.deep_page:,} by cursor: p99 ≤ {limit} ms | "
        f"{r.deep_cursor.p99_ms:.1f} ms | {met(r.deep_cursor, r.deep_cursor.p99_ms, limit)} |",
        f"| search: p95 ≤ {SEARCH_P95_MS} ms, one request at a time | "
        f"{r.search_p95_unloaded:.1f} ms | "
        f"{'yes' if r.search_p95_unloaded <= SEARCH_P95_MS else '**no**'} |",
        f"| search: p95 ≤ {SEARCH_P95_MS} ms, {args.connections} connections | "
        f"{r.search.p95_ms:.1f} ms | {met(r.search, r.search.p95_ms, SEARCH_P95_MS)} |",
    ]
    for label, x in (
        ("signed link behind nginx (production)", r.range_signed),
        ("stream route behind nginx", r.range_offload),
        ("Bandstand's own responder (embedded)", r.range_bandstand),
    ):
        ratio = x.mb_per_s / nginx_mb
        ok = x.errors == 0 and r.range_nginx.errors == 0 and ratio >= RANGE_RATIO
        lines.append(
            f"| Range MB/s ≥ {RANGE_RATIO:.0%} of nginx's: {label} | {ratio:.1%} | "
            f"{'yes' if ok else '**no**'} |"
        )
    lines += [
        "",
        f"wrk keeps {args.connections} requests in flight, so a route's mean latency is about "
        f"{args.connections} ÷ its req/s: a p99 of {limit} ms takes well over "
        f"{args.connections * 1000 // limit:,} req/s.",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    result = bench_songs(args)
    loads = [*result.loads, *result.uncached, *result.ranges]
    return Report(markdown(result, args, machine_load), failed=[x.label for x in loads if x.errors])


SECTION = Section(SONGS, TITLE, run)
