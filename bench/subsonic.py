"""The subsonic section: what music apps ask of the OpenSubsonic API at ``/rest``, on
PostgreSQL + Redis, after ``seed.py`` loads 100 000 songs and 2 000 users and every third
run of ten songs of an artist is made a release (an album of ten tracks).

- A whole library's sync, as apps make it: ``search3`` with an empty query, 500 songs a
  page (``songOffset`` 0, 500, 1 000 ...; ``artistCount=0``, ``albumCount=0``), from one
  client, one request after another, until a short page; every song id must come exactly
  once, and all the catalogue's songs (``seed.py``'s placeholders are catalogue entries)
  must come. Timed in JSON and in XML, then once more with artists and albums paged
  beside the songs (500 of each a page). Target: the JSON sync in ≤ 30 s.
- ``getAlbumList2?type=newest&size=20`` under wrk at 32 connections (target p99 ≤
  50 ms), beside ``ping`` through the same authentication (the floor of a ``/rest`` call).
- ``stream`` with Range: random 256 KiB ranges of a 10 MB WAV uploaded through the REST
  API and processed by ``bandstand worker``, asked of ``/rest/stream`` and of the REST
  stream route (``songFile``, the signed ``GET /api/v1/songs/:songId/stream``), the same
  sequence of ranges, in the same run (target: ``/rest`` MB/s within 20 % of the REST
  route's).

``/rest`` is authenticated as apps do it by default: ``u`` + ``t`` + ``s`` in the query
string, with an app password made through ``POST /api/v1/users/app-passwords``. Subsonic
answers refusals with HTTP 200, so every wrk run here also reads each answer (``"status":
"ok"`` in the JSON, or a 206) and counts the others as errors.

Alone, from the repository root: ``.venv/bin/python bench/run.py --only subsonic
[--quick]`` (``--quick``: 10 000 songs and 200 users).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from harness import (
    LUA_DONE,
    OUT_DIR,
    PG_DATABASE,
    UNLIMITED,
    WARMUP_S,
    WRK_TIMEOUT_S,
    BenchError,
    Load,
    Report,
    Section,
    bench_psql,
    expect,
    load_table,
    lua_load,
    parse_lua,
    postgresql_env,
    preamble,
    reproduce,
    run_checked,
    running_server,
    running_worker,
    seed,
    seeded_tokens,
    wrk_options,
)

from songs import RANGE_BYTES, check_range, random_ranges_lua, tone_wav, upload_song

SUBSONIC = "subsonic"
TITLE = "## Music apps: the OpenSubsonic API at /rest on PostgreSQL"
FULL_SONGS, FULL_USERS = 100_000, 2_000
QUICK_SONGS, QUICK_USERS = 10_000, 200
PAGE = 500  # songs (and artists, albums) a sync page asks for
RELEASE_TRACKS = 10  # songs on each seeded release
RELEASE_EVERY = 3  # every third run of ten songs of an artist is a release
ALBUM_LIST_SIZE = 20
UNLOADED = 20  # sequential requests for the one-at-a-time figures
WAV_SECONDS = 57  # 44.1 kHz stereo 16-bit: about 10 MB
SYNC_LIMIT_S = 30.0
ALBUMS_P99_MS = 50.0
STREAM_RATIO = 0.8  # /rest within 20 % of the REST route
API_VERSION = "1.16.1"
CLIENT = "bandstand-bench"
NS = "{http://subsonic.org/restapi}"


# --- seeding releases ---------------------------------------------------------------------

# Each artist's songs in id order, in runs of ten; every third full run becomes an album
# whose id is its newest song's (UUIDv7, so "newest" interleaves albums and singles the
# way real uploads would) and whose tracks follow the songs' order. Half the albums carry
# a year of their own; the others show the year they were made.
RELEASES_SQL = f"""
CREATE TEMP TABLE grouped AS
SELECT id, owner_id, title, created_at, track,
       first_value(id) OVER w AS release_id,
       max(created_at) OVER w AS release_created_at
FROM (
    SELECT id, owner_id, title, created_at,
           n / {RELEASE_TRACKS} AS run, n % {RELEASE_TRACKS} + 1 AS track, total
    FROM (
        SELECT id, owner_id, title, created_at,
               row_number() OVER (PARTITION BY owner_id ORDER BY id) - 1 AS n,
               count(*) OVER (PARTITION BY owner_id) AS total
        FROM songs
    ) numbered
) runs
WHERE run % {RELEASE_EVERY} = 0 AND (run + 1) * {RELEASE_TRACKS} <= total
WINDOW w AS (PARTITION BY owner_id, run ORDER BY id DESC
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);
INSERT INTO releases (id, owner_id, title, kind, year, thumbnail_key, created_at, updated_at)
SELECT release_id, owner_id, 'Album of ' || min(title), 'album',
       CASE WHEN get_byte(uuid_send(release_id), 15) % 2 = 0
            THEN extract(year FROM min(created_at))::int END,
       NULL, release_created_at, release_created_at
FROM grouped GROUP BY release_id, owner_id, release_created_at;
UPDATE songs SET release_id = g.release_id, track = g.track
FROM grouped g WHERE songs.id = g.id;
"""


def seed_releases() -> tuple[int, int]:
    """Make the releases (``RELEASES_SQL``), refresh the planner's statistics; returns
    (releases, songs on one)."""
    bench_psql(RELEASES_SQL)
    bench_psql("VACUUM (ANALYZE) songs, releases")
    releases = int(bench_psql("SELECT count(*) FROM releases"))
    on_one = int(bench_psql("SELECT count(*) FROM songs WHERE release_id IS NOT NULL"))
    return releases, on_one


@dataclass(frozen=True)
class Catalogue:
    """What ``/rest`` should list, counted in the database (nobody banned, nothing taken
    down: every row is listed)."""

    songs: int
    albums: int  # releases with a song, and songs on none
    artists: int  # accounts with a song
    releases: int
    on_release: int


def catalogue(releases: int, on_release: int) -> Catalogue:
    songs = int(bench_psql("SELECT count(*) FROM songs"))
    singles = int(bench_psql("SELECT count(*) FROM songs WHERE release_id IS NULL"))
    artists = int(bench_psql("SELECT count(DISTINCT owner_id) FROM songs"))
    return Catalogue(songs, releases + singles, artists, releases, on_release)


# --- /rest as an app calls it ---------------------------------------------------------------


@dataclass(frozen=True)
class AppLogin:
    """An app password, as an app keeps it: the username and the secret."""

    username: str
    secret: str

    def params(self, salt: str | None = None) -> dict[str, str]:
        """``u`` + ``t`` + ``s`` (a fresh salt unless given), the version, the client."""
        salt = salt or secrets.token_hex(6)
        token = hashlib.md5((self.secret + salt).encode(), usedforsecurity=False).hexdigest()
        return {"u": self.username, "t": token, "s": salt, "v": API_VERSION, "c": CLIENT}


def app_password(base_url: str, access_token: str) -> AppLogin:
    """``POST /api/v1/users/app-passwords``, as a user does it before setting up an app."""
    answer = httpx.post(
        f"{base_url}/api/v1/users/app-passwords",
        json={"name": "bench"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    data = expect(answer, 201).json()["data"]
    return AppLogin(data["username"], data["secret"])


def rest_json(client: httpx.Client, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A ``/rest`` method in JSON; its answer inside ``subsonic-response``, which must be
    ``ok``."""
    answer = expect(client.get(f"/rest/{method}.view", params={**params, "f": "json"}), 200)
    body: dict[str, Any] = answer.json()["subsonic-response"]
    if body.get("status") != "ok":
        raise BenchError(f"/rest/{method} answered {body}")
    return body


def rest_url(base_url: str, method: str, login: AppLogin, **params: Any) -> str:
    """A ``/rest`` URL with a fixed salt, for wrk (which cannot hash): apps may reuse one."""
    query = urlencode({**login.params("benchsalt"), **params})
    return f"{base_url}/rest/{method}.view?{query}"


# --- the sync --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sync:
    label: str
    pages: int
    seconds: float  # the whole sync, answers read and parsed
    page_ms: list[float]  # each request, from sending it to its last byte
    songs: int
    duplicates: int
    artists: int | None = None
    albums: int | None = None
    bytes: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.page_ms)

    @property
    def p95_ms(self) -> float:
        return p95(self.page_ms)


def p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0]
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def _json_page(body: bytes) -> dict[str, list[str]]:
    answer = json.loads(body)["subsonic-response"]
    if answer.get("status") != "ok":
        raise BenchError(f"search3 answered {answer}")
    found = answer["searchResult3"]
    return {kind: [x["id"] for x in found.get(kind, [])] for kind in ("song", "album", "artist")}


def _xml_page(body: bytes) -> dict[str, list[str]]:
    root = ET.fromstring(body)
    if root.get("status") != "ok":
        raise BenchError(f"search3 answered {body[:500]!r}")
    found = root.find(f"{NS}searchResult3")
    if found is None:
        raise BenchError(f"search3 answered no searchResult3: {body[:500]!r}")
    return {
        kind: [x.get("id", "") for x in found.findall(f"{NS}{kind}")]
        for kind in ("song", "album", "artist")
    }


def sync(client: httpx.Client, login: AppLogin, label: str, fmt: str, with_albums: bool) -> Sync:
    """Page through ``search3`` with an empty query as an app copying the library does,
    a fresh salt each request, until every kind asked for came back short."""
    parse: Callable[[bytes], dict[str, list[str]]] = _json_page if fmt == "json" else _xml_page
    kinds = ("song", "album", "artist") if with_albums else ("song",)
    seen: dict[str, list[str]] = {kind: [] for kind in kinds}
    done = {kind: False for kind in kinds}
    page_ms: list[float] = []
    received = 0
    started = time.perf_counter()
    page = 0
    while not all(done.values()):
        params: dict[str, Any] = {**login.params(), "query": ""}
        if fmt == "json":
            params["f"] = "json"
        for kind in ("song", "album", "artist"):
            wanted = kind in kinds and not done[kind]
            params[f"{kind}Count"] = PAGE if wanted else 0
            params[f"{kind}Offset"] = page * PAGE if wanted else 0
        sent = time.perf_counter()
        answer = client.get("/rest/search3.view", params=params)
        page_ms.append((time.perf_counter() - sent) * 1000)
        expect(answer, 200)
        received += len(answer.content)
        found = parse(answer.content)
        for kind in kinds:
            if done[kind]:
                continue
            seen[kind] += found[kind]
            done[kind] = len(found[kind]) < PAGE
        page += 1
    seconds = time.perf_counter() - started
    duplicates = sum(n - 1 for ids in seen.values() for n in Counter(ids).values() if n > 1)
    result = Sync(
        label=label,
        pages=page,
        seconds=seconds,
        page_ms=page_ms,
        songs=len(set(seen["song"])),
        duplicates=duplicates,
        artists=len(set(seen["artist"])) if with_albums else None,
        albums=len(set(seen["album"])) if with_albums else None,
        bytes=received,
    )
    print(
        f"  sync {label}: {result.pages} pages in {seconds:.1f} s, page median "
        f"{result.median_ms:.0f} ms, p95 {result.p95_ms:.0f} ms; {result.songs:,} songs, "
        f"{duplicates} duplicates",
        flush=True,
    )
    return result


def check_sync(result: Sync, expected: Catalogue) -> list[str]:
    """What the sync got wrong: a duplicate, a song (or album, artist) missing."""
    wrong = []
    if result.duplicates:
        wrong.append(f"{result.duplicates} ids came more than once")
    if result.songs != expected.songs:
        wrong.append(f"{result.songs:,} songs of {expected.songs:,}")
    if result.albums is not None and result.albums != expected.albums:
        wrong.append(f"{result.albums:,} albums of {expected.albums:,}")
    if result.artists is not None and result.artists != expected.artists:
        wrong.append(f"{result.artists:,} artists of {expected.artists:,}")
    return wrong


# --- wrk, reading every answer ---------------------------------------------------------------

# Subsonic refuses with HTTP 200, which wrk would count as a success: each answer is read
# (``ok`` is the condition on ``status`` and ``body``) and the others counted, per thread.
_LUA_CHECKED = """
threads = {}
failed = 0
setup = function(thread) table.insert(threads, thread) end
response = function(status, headers, body)
  if not (%s) then failed = failed + 1 end
end
"""
_LUA_FAILED = """
local harness_done = done
done = function(summary, latency, requests)
  harness_done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failed") end
  io.write(string.format("bench failed %d\\n", total))
end
"""
JSON_OK = 'status == 200 and body:find(\'"status":"ok"\', 1, true) ~= nil'
PARTIAL = "status == 206"
_FAILED_LINE = re.compile(r"^bench failed (\d+)$", re.MULTILINE)


def checked_script(name: str, ok: str, body: str = "") -> Path:
    """A wrk script: ``body`` (a ``request()``), the check ``ok`` of every answer, the
    harness's ``done()`` and the count of answers that failed it."""
    path = OUT_DIR / f"{name}.lua"
    path.write_text(body + _LUA_CHECKED % ok + LUA_DONE + _LUA_FAILED)
    return path


@dataclass(frozen=True)
class Checked:
    load: Load
    refused: int  # answers wrk counted as fine that were not what was asked

    @property
    def errors(self) -> int:
        return self.load.errors + self.refused


def measure(label: str, url: str, script: Path, args: argparse.Namespace) -> Checked:
    """As ``harness.measure_lua`` (a warm-up, then ``args.duration`` seconds), keeping the
    count of answers the script refused."""
    base = ["wrk", "-t1", f"-c{args.connections}", f"--timeout={WRK_TIMEOUT_S}s", "--latency"]
    base += ["-s", str(script)]
    run_checked([*base, f"-d{WARMUP_S}s", url])
    output = run_checked([*base, f"-d{args.duration}s", url])
    load = parse_lua(label, output)
    found = _FAILED_LINE.search(output)
    if found is None:
        raise BenchError(f"could not read wrk's count of refused answers for {label}:\n{output}")
    refused = int(found.group(1))
    print(
        f"  {label}: {load.requests_per_s:,.0f} req/s, {load.mb_per_s:,.1f} MB/s, "
        f"p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
        f"errors {load.errors}, refused {refused}",
        flush=True,
    )
    return Checked(load, refused)


def unloaded_ms(client: httpx.Client, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = expect(client.get(url), 200)
        times.append((time.perf_counter() - started) * 1000)
        if '"status":"ok"' not in answer.text:
            raise BenchError(f"{url} answered {answer.text[:500]}")
    return times


def check_album_list(client: httpx.Client, login: AppLogin) -> tuple[int, int]:
    """The newest albums are there: a full page, releases and singles among them."""
    params = {**login.params(), "type": "newest", "size": ALBUM_LIST_SIZE}
    albums = rest_json(client, "getAlbumList2", params)["albumList2"].get("album", [])
    if len(albums) != ALBUM_LIST_SIZE:
        raise BenchError(f"getAlbumList2 newest answered {len(albums)} albums")
    releases = sum(1 for album in albums if album["id"].startswith("al-"))
    return releases, len(albums) - releases


# --- the section -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsonicResult:
    users: int
    seeded: int
    seed_s: float
    database_size: str
    expected: Catalogue
    syncs: list[Sync]
    sync_errors: list[str]
    newest_mix: tuple[int, int]  # releases, singles on the first page
    unloaded: list[tuple[str, float, float, int]]
    ping: Checked
    albums: Checked
    file_size: int
    stream_rest: Checked
    stream_api: Checked
    load_after: float

    @property
    def loads(self) -> list[Checked]:
        return [self.ping, self.albums, self.stream_rest, self.stream_api]

    @property
    def ratio(self) -> float:
        return self.stream_rest.load.mb_per_s / self.stream_api.load.mb_per_s


def wait_ready(base_url: str, token: str, song_id: str) -> None:
    """Until the worker has processed the upload (its renditions, loudness, waveform)."""
    deadline = time.monotonic() + 600
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        answer = expect(httpx.get(f"{base_url}/api/v1/songs/{song_id}", headers=headers), 200)
        status = answer.json()["data"]["status"]
        if status == "ready":
            return
        if status == "failed":
            raise BenchError(f"the bench song failed to process: {answer.text[:500]}")
        time.sleep(0.5)
    raise BenchError("the bench song was not processed within 600 s")


def bench_subsonic(args: argparse.Namespace) -> SubsonicResult:
    songs = QUICK_SONGS if args.quick else FULL_SONGS
    users = QUICK_USERS if args.quick else FULL_USERS
    print(f"subsonic: {songs:,} songs and {users:,} users on PostgreSQL", flush=True)
    audio = tone_wav(WAV_SECONDS)
    ranges = random_ranges_lua(len(audio), RANGE_BYTES)
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-subsonic-") as tmp:
        data_dir = Path(tmp)
        with postgresql_env(data_dir) as env:
            env = env | UNLIMITED
            seed_s = seed(env, data_dir, users, songs)
            releases, on_release = seed_releases()
            print(f"  {releases:,} releases holding {on_release:,} songs", flush=True)
            server_log = OUT_DIR / "server-subsonic.log"
            with running_server(env, data_dir, server_log, args.api_workers) as base_url:
                (token,) = seeded_tokens(base_url, 1)
                # The song to stream, processed as every upload is; the worker stops before
                # anything is measured.
                with running_worker(env, data_dir, OUT_DIR / "worker-subsonic.log"):
                    song = upload_song(base_url, token, audio)
                    wait_ready(base_url, token, song["_id"])
                expected = catalogue(releases, on_release)
                size = bench_psql(f"SELECT pg_size_pretty(pg_database_size('{PG_DATABASE}'))")
                login = app_password(base_url, token)
                with httpx.Client(base_url=base_url, timeout=WRK_TIMEOUT_S) as client:
                    rest_json(client, "ping", login.params())
                    syncs = [
                        sync(client, login, "JSON, songs only", "json", with_albums=False),
                        sync(client, login, "XML, songs only", "xml", with_albums=False),
                        sync(client, login, "JSON, artists + albums + songs", "json", True),
                    ]
                    # Each page on a new connection, to whichever server process takes it
                    # (as behind a proxy): a page may not find where the last one ended.
                    fresh = httpx.Limits(max_keepalive_connections=0)
                    with httpx.Client(
                        base_url=base_url, timeout=WRK_TIMEOUT_S, limits=fresh
                    ) as apart:
                        label = "JSON, songs only, a new connection per page"
                        syncs.append(sync(apart, login, label, "json", with_albums=False))
                    newest_mix = check_album_list(client, login)
                    ping_url = rest_url(base_url, "ping", login, f="json")
                    albums_url = rest_url(
                        base_url,
                        "getAlbumList2",
                        login,
                        type="newest",
                        size=ALBUM_LIST_SIZE,
                        f="json",
                    )
                    unloaded = [
                        (label, unloaded_ms(client, url, UNLOADED))
                        for label, url in (
                            ("`ping`", ping_url),
                            (f"`getAlbumList2` newest, size {ALBUM_LIST_SIZE}", albums_url),
                        )
                    ]
                sync_errors = [
                    f"{s.label}: {wrong}" for s in syncs for wrong in check_sync(s, expected)
                ]
                json_ok = checked_script("subsonic-json", JSON_OK)
                ping = measure("/rest/ping", ping_url, json_ok, args)
                albums = measure(
                    f"/rest/getAlbumList2 newest, size {ALBUM_LIST_SIZE}", albums_url, json_ok, args
                )
                stream_url = rest_url(base_url, "stream", login, id=song["_id"])
                check_range(stream_url, audio)
                check_range(song["songFile"], audio)
                partial = checked_script("subsonic-ranges", PARTIAL, ranges)
                stream_rest = measure("/rest/stream", stream_url, partial, args)
                stream_api = measure(
                    "REST stream route (songFile)", song["songFile"], partial, args
                )
    return SubsonicResult(
        users=users,
        seeded=songs,
        seed_s=seed_s,
        database_size=size,
        expected=expected,
        syncs=syncs,
        sync_errors=sync_errors,
        newest_mix=newest_mix,
        unloaded=[(label, statistics.median(t), p95(t), len(t)) for label, t in unloaded],
        ping=ping,
        albums=albums,
        file_size=len(audio),
        stream_rest=stream_rest,
        stream_api=stream_api,
        load_after=os.getloadavg()[0],
    )


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown(r: SubsonicResult, args: argparse.Namespace, machine_load: float) -> str:
    e = r.expected
    more = [
        f"- Data: {e.songs:,} songs ({r.seeded:,} from `bench/seed.py`, placeholders, and "
        f"the one uploaded below) by {r.users:,} users, seeded in {r.seed_s:.0f} s; "
        f"{e.releases:,} releases of {RELEASE_TRACKS} tracks (one run of {RELEASE_TRACKS} "
        f"songs of an artist in {RELEASE_EVERY}, made by SQL) hold {e.on_release:,} of them, so "
        f"there are {e.albums:,} albums (releases and singles) by {e.artists:,} artists; "
        f"database {r.database_size}; load average {r.load_after:.2f} when the section ended",
        f"- Authentication: `u` + `t` + `s` (`t = md5(secret + s)`) with an app password made "
        f"by `POST /api/v1/users/app-passwords`; a fresh salt per sync request, a fixed one "
        f"under wrk; `v={API_VERSION}`; JSON (`f=json`) unless said",
        '- Every wrk run reads each answer: a `/rest` answer without `"status":"ok"`, or '
        "a Range answer other than 206, counts as refused (Subsonic refuses with HTTP 200)",
    ]
    command = reproduce(SUBSONIC, *(["--quick"] if args.quick else []), *wrk_options(args))
    lines = [
        *preamble(command, lua_load(args), machine_load, more),
        f"A whole library's sync, as apps make it: `GET /rest/search3.view?query=` with "
        f"`songCount={PAGE}` and `songOffset` 0, {PAGE}, {2 * PAGE:,} ... "
        "(`artistCount=0&albumCount=0`), one request after another from one client (httpx, "
        "one kept-alive connection) until a short page; the time is the whole sync, answers "
        f"parsed. One row also pages artists and albums, {PAGE} of each a request, beside "
        "the songs; the last opens a new connection for each page, so each goes to whichever "
        f"of the {args.api_workers} server processes takes it, as behind a proxy (a page read "
        "past the last id of the one before only when the same process served that one, "
        "else by its offset):",
        "",
        "| sync | pages | total s | page median ms | page p95 ms | MB | songs | albums "
        "| artists | duplicates |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in r.syncs:
        albums = f"{s.albums:,}" if s.albums is not None else ""
        artists = f"{s.artists:,}" if s.artists is not None else ""
        lines.append(
            f"| {s.label} | {s.pages} | {s.seconds:.1f} | {s.median_ms:.0f} | {s.p95_ms:.0f} "
            f"| {s.bytes / 1e6:.1f} | {s.songs:,} | {albums} | {artists} | {s.duplicates} |"
        )
    verdict = (
        "; ".join(r.sync_errors)
        if r.sync_errors
        else (
            f"every sync listed each of the {e.songs:,} songs exactly once (and the last each "
            f"album and artist), placeholders included"
        )
    )
    lines += [
        "",
        f"Checked against the database: {verdict}.",
        "",
        "One request at a time:",
        "",
        "| method | median ms | p95 ms | requests |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {label} | {m:.1f} | {t:.1f} | {n} |" for label, m, t, n in r.unloaded),
        "",
        f"Under load, {args.connections} connections (the first page of `newest`: "
        f"releases {r.newest_mix[0]}, singles {r.newest_mix[1]}):",
        "",
        *load_table([r.ping.load, r.albums.load]),
        "",
        f"`stream` with Range: random {RANGE_BYTES // 1024} KiB ranges (the same sequence for "
        f"both) of a {r.file_size / 1e6:.1f} MB WAV uploaded through `POST "
        "/api/v1/songs/upload` and processed by `bandstand worker`; `/rest/stream.view?id=` "
        "serves its original, the REST route is the signed `songFile` "
        "(`GET /api/v1/songs/:songId/stream`); both answer from the in-process Range "
        "responder here (local storage, no offload: no redirect to follow):",
        "",
        "| route | req/s | MB/s | p50 ms | p99 ms | bytes/response | non-2xx | socket errors "
        "| refused |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in (r.stream_rest, r.stream_api):
        x = c.load
        lines.append(
            f"| {x.label} | {x.requests_per_s:,.0f} | {x.mb_per_s:,.1f} | {x.p50_ms:.1f} | "
            f"{x.p99_ms:.1f} | {x.bytes_per_response:,.0f} | {x.non_2xx} | {x.socket_errors} "
            f"| {c.refused} |"
        )
    json_sync = r.syncs[0]
    sync_ok = not r.sync_errors and json_sync.seconds <= SYNC_LIMIT_S
    albums_ok = r.albums.errors == 0 and r.albums.load.p99_ms <= ALBUMS_P99_MS
    stream_ok = r.stream_rest.errors == 0 and r.stream_api.errors == 0
    stream_ok = stream_ok and r.ratio >= STREAM_RATIO
    lines += [
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        f"| full sync of {e.songs:,} songs, {PAGE} a page (JSON): ≤ {SYNC_LIMIT_S:.0f} s, "
        f"each song once | {json_sync.seconds:.1f} s | {_yes(sync_ok)} |",
        f"| `getAlbumList2` newest: p99 ≤ {ALBUMS_P99_MS:.0f} ms at {args.connections} "
        f"connections | {r.albums.load.p99_ms:.1f} ms | {_yes(albums_ok)} |",
        f"| `stream` Range MB/s ≥ {STREAM_RATIO:.0%} of the REST route's | {r.ratio:.1%} | "
        f"{_yes(stream_ok)} |",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    result = bench_subsonic(args)
    failed = [c.load.label for c in result.loads if c.errors]
    failed += [f"sync ({wrong})" for wrong in result.sync_errors]
    summary = [
        f"subsonic: sync {result.syncs[0].seconds:.1f} s, getAlbumList2 newest p99 "
        f"{result.albums.load.p99_ms:.1f} ms, stream {result.ratio:.0%} of the REST route"
    ]
    return Report(markdown(result, args, machine_load), failed=failed, summary=summary)


SECTION = Section(SUBSONIC, TITLE, run)
