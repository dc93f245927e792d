"""Load tests of a real ``bandstand serve`` (one uvicorn worker) with wrk, in two sections.

- accounts: throughput of a constant route and an authenticated one, on SQLite and on
  PostgreSQL + Redis;
- songs: the catalogue at scale on PostgreSQL + Redis (``bandstand seed`` loads 100 000
  users and 1 000 000 songs): the home page first and 5 000 pages deep, search, and Range
  requests on a 10 MB upload against nginx serving the same file.

Run from the repository root with the project's venv:
``.venv/bin/python bench/run.py [--only accounts|songs] [--quick] [--duration 15]``.
Writes ``bench/RESULTS.md`` (``--quick``: ``bench/out/RESULTS-quick.md``); logs, Lua
scripts and nginx configurations go to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import contextlib
import io
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import redis
from PIL import Image

from bandstand.seed import SEED_PASSWORD

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
BANDSTAND = Path(sys.prefix) / "bin" / "bandstand"

HOST = "127.0.0.1"
WARMUP_S = 3
TARGET_RATIO = 0.5
PING = "/api/v1/ping"
CURRENT_USER = "/api/v1/users/current-user"

SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
PASSWORD = "bench-password-42!"
PG_DATABASE = "bandstand_bench"
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_NAMESPACE = "bandstand-bench"
BACKENDS = ("sqlite", "postgresql")
ACCOUNTS, SONGS, MEDIA, ENGAGEMENT = "accounts", "songs", "media", "engagement"
SECTIONS = (ACCOUNTS, SONGS, MEDIA, ENGAGEMENT)

# songs section
FULL_USERS, FULL_SONGS = 100_000, 1_000_000
QUICK_USERS, QUICK_SONGS = 2_000, 20_000
HOME = "/api/v1/songs/home"
SEARCH = "/api/v1/songs/search"
UPLOAD = "/api/v1/songs/upload"
PAGE_LIMIT = 20
DEEP_PAGE = 5_000
# What listeners type: whole words, two words, a typo, a genre, a place.
SEARCH_QUERIES = ("midnight", "neon dreams", "midnigth train", "deep house", "tokyo")
WAV_SECONDS = 57  # 44.1 kHz stereo 16-bit: about 10 MB
RANGE_BYTES = 256 * 1024
NGINX = "/usr/sbin/nginx"
NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
HOME_P99_MS = 50
SEARCH_P95_MS = 50
RANGE_RATIO = 0.5
# engagement section
FLUSH_COUNTERS, QUICK_FLUSH_COUNTERS = 100_000, 10_000
COMMENTS, QUICK_COMMENTS = 100_000, 10_000
REPLY_SHARE = 20  # one comment in this many is a reply in one of the newest threads
LIKERS, LIKED_SONGS = 64, 50
LIKE_RATIO = 0.4
COMMENTS_P99_MS = 50
FLUSH_LIMIT_S = 5.0
# Slow routes are measured, not counted as errors at wrk's default of 2 s.
WRK_TIMEOUT_S = 60
UNLOADED_HOME = 20  # sequential requests per catalogue route
UNLOADED_SEARCH = 20  # sequential requests per search query
PSQL = ["psql", "-h", HOST, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]

_OTP = re.compile(r"verification code is (\d{6})")
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


@dataclass(frozen=True)
class WrkResult:
    route: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


@dataclass(frozen=True)
class BackendResult:
    backend: str
    ping: WrkResult
    current_user: WrkResult

    @property
    def ratio(self) -> float:
        return self.current_user.requests_per_s / self.ping.requests_per_s


# --- tools -------------------------------------------------------------------------------


def ensure_wrk() -> None:
    """Install wrk from Debian if it is missing (refreshing the package lists only if needed)."""
    if shutil.which("wrk"):
        return
    print("wrk not found; installing it with apt-get", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(install, check=False)
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed and `apt-get install -y wrk` failed; install it")


def run_checked(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        raise BenchError(f"`{' '.join(args)}` exited {done.returncode}:\n{output}")
    return done.stdout


def psql(sql: str) -> None:
    run_checked([*PSQL, sql])


def purge_redis_namespace() -> None:
    # Rate-limit windows (sign-ups per client address, ...) would otherwise carry over
    # from one run to the next and refuse the benchmark's own sign-up.
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{REDIS_NAMESPACE}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- backends ----------------------------------------------------------------------------


def base_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any BANDSTAND_* (so BANDSTAND_ENV stays unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    return env | {"BANDSTAND_DATA_DIR": str(data_dir), "BANDSTAND_SECRET_KEY": SECRET_KEY}


@contextlib.contextmanager
def postgresql_env(data_dir: Path) -> Iterator[dict[str, str]]:
    """A fresh, migrated ``bandstand_bench`` database and a clean Redis namespace."""
    env = base_env(data_dir) | {
        "BANDSTAND_DATABASE_URL": PG_URL,
        "BANDSTAND_REDIS_URL": REDIS_URL,
        "BANDSTAND_REDIS_NAMESPACE": REDIS_NAMESPACE,
    }
    drop = f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"
    psql(drop)
    psql(f"CREATE DATABASE {PG_DATABASE}")
    purge_redis_namespace()
    try:
        run_checked([str(BANDSTAND), "migrate"], env=env, cwd=data_dir)
        yield env
    finally:
        psql(drop)
        purge_redis_namespace()


@contextlib.contextmanager
def backend_env(backend: str, data_dir: Path) -> Iterator[dict[str, str]]:
    if backend == "postgresql":
        with postgresql_env(data_dir) as env:
            yield env
    else:
        # SQLite: `serve` applies the migrations itself.
        yield base_env(data_dir)


# --- server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited with {server.returncode}:\n{log_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"the server did not answer /healthz within 60 s:\n{log_tail(log)}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextlib.contextmanager
def running_server(env: dict[str, str], cwd: Path, log: Path, workers: int = 1) -> Iterator[str]:
    """``bandstand serve`` on a free port; yields its base URL and stops it on the way out.
    No access log: a production server sits behind a proxy that keeps it."""
    port = free_port()
    command = [str(BANDSTAND), "serve", "--host", HOST, "--port", str(port), "--no-access-log"]
    command += ["--workers", str(workers)]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://{HOST}:{port}"
        wait_until_healthy(base_url, server, log)
        yield base_url
    finally:
        stop(server)


# --- a user and a token, through the API --------------------------------------------------


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        request = response.request
        raise BenchError(
            f"{request.method} {request.url.path} answered {response.status_code}, "
            f"expected {status}: {response.text[:500]}"
        )
    return response


def png_avatar() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def read_otp(outbox: Path, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")):
            message = BytesParser(policy=email_policy).parsebytes(path.read_bytes())
            body = message.get_body(("plain",))
            found = _OTP.search(body.get_content() if body else "")
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise BenchError(f"no verification code arrived in {outbox}")


def access_token(base_url: str, outbox: Path) -> str:
    """Register, verify the emailed code and log in; returns the access token."""
    account = {
        "fullname": "Bench User",
        "email": "bench@example.com",
        "username": "bench_user",
        "password": PASSWORD,
    }
    with httpx.Client(base_url=f"{base_url}/api/v1/users", timeout=30) as client:
        files = {"avatar": ("avatar.png", png_avatar(), "image/png")}
        registered = expect(client.post("/register", data=account, files=files), 200)
        otp = {
            "otp": read_otp(outbox),
            "registrationId": registered.json()["data"]["registrationId"],
        }
        expect(client.post("/verify-otp", json=otp), 201)
        login = {"email": account["email"], "password": PASSWORD}
        token: str = expect(client.post("/login", json=login), 200).json()["data"]["accessToken"]
        return token


# --- wrk ---------------------------------------------------------------------------------


def to_ms(value: str, unit: str) -> float:
    return float(value) * _MS_PER_UNIT[unit]


def parse_wrk(route: str, output: str) -> WrkResult:
    rps, requests = _RPS.search(output), _REQUESTS.search(output)
    percentiles = {p: to_ms(value, unit) for p, value, unit in _PERCENTILE.findall(output)}
    if not rps or not requests or set(percentiles) != {"50", "99"}:
        raise BenchError(f"could not read wrk's output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    return WrkResult(
        route=route,
        requests_per_s=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
    )


def wrk(url: str, seconds: int, connections: int, headers: list[str]) -> str:
    header_args = [arg for header in headers for arg in ("-H", header)]
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *header_args, url]
    return run_checked(command)


def measure(base_url: str, route: str, args: argparse.Namespace, headers: list[str]) -> WrkResult:
    url = f"{base_url}{route}"
    wrk(url, WARMUP_S, args.connections, headers)
    result = parse_wrk(route, wrk(url, args.duration, args.connections, headers))
    print(
        f"  GET {route}: {result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, errors {result.errors}",
        flush=True,
    )
    return result


def bench_backend(backend: str, args: argparse.Namespace) -> BackendResult:
    print(f"{backend}:", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"bandstand-bench-{backend}-") as tmp:
        data_dir = Path(tmp)
        log = OUT_DIR / f"server-{backend}.log"
        with (
            backend_env(backend, data_dir) as env,
            running_server(env, data_dir, log) as base_url,
        ):
            token = access_token(base_url, data_dir / "outbox")
            ping = measure(base_url, PING, args, [])
            auth = [f"Authorization: Bearer {token}"]
            current_user = measure(base_url, CURRENT_USER, args, auth)
    return BackendResult(backend, ping, current_user)


# --- songs at scale: seeding, the catalogue, search ---------------------------------------


@dataclass(frozen=True)
class Load:
    """What one wrk run measured, read from the Lua ``done()`` every songs run uses."""

    label: str
    requests_per_s: float
    mb_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    bytes_per_response: float

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


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


# Lua for wrk: percentiles (p95 among them) and byte counts, printed after the run.
LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("bench requests %d\\n", summary.requests))
  io.write(string.format("bench duration_us %d\\n", summary.duration))
  io.write(string.format("bench bytes %d\\n", summary.bytes))
  io.write(string.format("bench non_2xx %d\\n", e.status))
  io.write(string.format("bench socket_errors %d\\n", e.connect + e.read + e.write + e.timeout))
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("bench p%d_us %d\\n", p, latency:percentile(p)))
  end
end
"""
_LUA_LINE = re.compile(r"^bench (\w+) (\d+)$", re.MULTILINE)


def lua_script(name: str, body: str = "") -> Path:
    path = OUT_DIR / f"{name}.lua"
    path.write_text(body + LUA_DONE)
    return path


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


def parse_lua(label: str, output: str) -> Load:
    values = {key: int(value) for key, value in _LUA_LINE.findall(output)}
    needed = {"requests", "duration_us", "bytes", "non_2xx", "socket_errors"}
    if not needed | {"p50_us", "p95_us", "p99_us"} <= set(values) or not values["requests"]:
        raise BenchError(f"could not read wrk's output for {label}:\n{output}")
    seconds = values["duration_us"] / 1e6
    return Load(
        label=label,
        requests_per_s=values["requests"] / seconds,
        mb_per_s=values["bytes"] / seconds / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        requests=values["requests"],
        non_2xx=values["non_2xx"],
        socket_errors=values["socket_errors"],
        bytes_per_response=values["bytes"] / values["requests"],
    )


def measure_lua(
    label: str, url: str, script: Path, args: argparse.Namespace, headers: list[str]
) -> Load:
    header_args = [arg for header in headers for arg in ("-H", header)]
    base = ["wrk", "-t1", f"-c{args.connections}", f"--timeout={WRK_TIMEOUT_S}s", "--latency"]
    base += ["-s", str(script), *header_args]
    run_checked([*base, f"-d{WARMUP_S}s", url])
    load = parse_lua(label, run_checked([*base, f"-d{args.duration}s", url]))
    print(
        f"  {label}: {load.requests_per_s:,.0f} req/s, {load.mb_per_s:,.1f} MB/s, "
        f"p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
        f"errors {load.errors}",
        flush=True,
    )
    return load


def bench_psql(sql: str) -> str:
    """One value from the bench database."""
    command = ["psql", "-h", HOST, "-U", "postgres", "-d", PG_DATABASE, "-v", "ON_ERROR_STOP=1"]
    return run_checked([*command, "-Atqc", sql]).strip()


def seed(env: dict[str, str], cwd: Path, users: int, songs: int) -> float:
    """``bandstand seed``, its progress bar on this terminal; returns the wall time."""
    started = time.monotonic()
    command = [str(BANDSTAND), "seed", "--users", str(users), "--songs", str(songs)]
    if subprocess.run(command, env=env, cwd=cwd, check=False).returncode != 0:
        raise BenchError(f"`{' '.join(command)}` failed (its output is above)")
    return time.monotonic() - started


def encode_cursor(song_id: str) -> str:
    """What the API hands out as ``nextCursor``: the id's 16 bytes, urlsafe base64."""
    return base64.urlsafe_b64encode(uuid.UUID(song_id).bytes).rstrip(b"=").decode()


def deep_cursor(page: int) -> str:
    """The ``nextCursor`` of page ``page - 1``: the id of that page's last song."""
    offset = (page - 1) * PAGE_LIMIT - 1
    return encode_cursor(
        bench_psql(f"SELECT id FROM songs ORDER BY id DESC OFFSET {offset} LIMIT 1")
    )


def log_in_seeded(base_url: str) -> str:
    email = bench_psql("SELECT email FROM users ORDER BY id LIMIT 1")
    with httpx.Client(base_url=f"{base_url}/api/v1/users", timeout=30) as client:
        login = {"email": email, "password": SEED_PASSWORD}
        token: str = expect(client.post("/login", json=login), 200).json()["data"]["accessToken"]
        return token


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


# --- songs at scale: Range requests on a 10 MB file, Bandstand and nginx ------------------


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


def ensure_nginx() -> str:
    """nginx from Debian with its njs module, installed with apt-get if missing."""
    found = shutil.which("nginx") or (NGINX if Path(NGINX).exists() else None)
    if found and NJS_MODULE.exists():
        return found
    print("nginx or njs not found; installing them with apt-get", flush=True)
    install = ["apt-get", "install", "-y", "nginx", "libnginx-mod-http-js"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(install, check=False)
    if not (Path(NGINX).exists() and NJS_MODULE.exists()):
        raise BenchError("`apt-get install -y nginx libnginx-mod-http-js` failed")
    return NGINX


def nginx_version(nginx: str) -> str:
    done = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")


def production_site(env: dict[str, str], cwd: Path, port: int, upstream_port: int) -> str:
    """What `bandstand proxy-config` writes for this installation: signed media links
    checked and served by nginx, the rest proxied to Bandstand (X-Accel-Redirect for the
    stream route when BANDSTAND_MEDIA_OFFLOAD=true)."""
    command = [str(BANDSTAND), "proxy-config", "--listen", f"{HOST}:{port}"]
    command += ["--upstream", f"{HOST}:{upstream_port}"]
    return run_checked(command, env=env, cwd=cwd)


def nginx_conf(prefix: Path, port: int, media_dir: Path, site: str | None) -> str:
    """One worker, sendfile, no access log. With ``site`` (from :func:`production_site`),
    the production layout; without, nginx alone serving the media folder."""
    server = (
        site
        if site is not None
        else f"    server {{\n        listen {HOST}:{port};\n        root {media_dir};\n    }}\n"
    )
    # The data dir is private to this user; as root, nginx's workers must stay root to read it.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}load_module {NJS_MODULE};\n"
        "worker_processes 1;\n"
        "daemon off;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    access_log off;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    keepalive_requests 1000000;\n"
        f"    client_body_temp_path {prefix}/client_body;\n"
        f"    proxy_temp_path {prefix}/proxy;\n"
        "    types { audio/wav wav; }\n"
        "    default_type application/octet-stream;\n"
        f"{server}"
        "}\n"
    )


@contextlib.contextmanager
def running_nginx(
    nginx: str,
    name: str,
    media_dir: Path,
    site: Callable[[int], str] | None = None,
) -> Iterator[str]:
    """nginx in the foreground with a configuration of our own under bench/out/<name>/."""
    prefix = OUT_DIR / name
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, port, media_dir, site(port) if site else None))
    log = prefix / "nginx.out"
    command = [nginx, "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log")]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if server.poll() is not None:
                raise BenchError(f"nginx exited with {server.returncode}:\n{log_tail(log)}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                break
            if time.monotonic() > deadline:
                raise BenchError(f"nginx did not listen on {port}:\n{log_tail(log)}")
            time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        stop(server)


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


# --- songs at scale: the whole section ---------------------------------------------------


def unloaded_ms(client: httpx.Client, path: str, count: int) -> float:
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
            seed_s = seed(env, data_dir, args.users, args.songs)
            size = bench_psql(f"SELECT pg_size_pretty(pg_database_size('{PG_DATABASE}'))")
            cursor = deep_cursor(deep_page)
            server_log = OUT_DIR / "server-songs.log"
            with running_server(env, data_dir, server_log, args.api_workers) as base_url:
                token = log_in_seeded(base_url)
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


# --- engagement: likes under load, the counter flush, a song's comments -------------------


@dataclass(frozen=True)
class EngagementResult:
    users: int
    songs: int
    comments: int
    replies: int
    deep_page: int
    flush: Any  # engagement.FlushResult
    rebuild_s: float
    ping: Load
    likes: Load
    comments_first: Load
    comments_deep: Load
    # After the like storm and a flush: (songs checked, songs whose likeCount ≠ the truth).
    drift: tuple[int, int]

    @property
    def loads(self) -> list[Load]:
        return [self.ping, self.likes, self.comments_first, self.comments_deep]

    @property
    def like_ratio(self) -> float:
        return self.likes.requests_per_s / self.ping.requests_per_s


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


def log_in_listeners(base_url: str, count: int) -> list[str]:
    emails = bench_psql(f"SELECT email FROM users ORDER BY id LIMIT {count}").splitlines()
    tokens = []
    with httpx.Client(base_url=f"{base_url}/api/v1/users", timeout=30) as client:
        for email in emails:
            login = {"email": email, "password": SEED_PASSWORD}
            tokens.append(
                expect(client.post("/login", json=login), 200).json()["data"]["accessToken"]
            )
    return tokens


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


def bench_engagement(args: argparse.Namespace) -> EngagementResult:
    import engagement

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
            flush = asyncio.run(
                engagement.bench_flush(PG_URL, REDIS_URL, REDIS_NAMESPACE, counters)
            )
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
            asyncio.run(engagement.seed_comments(PG_URL, song, comments, replies))
            liked = bench_psql(f"SELECT id FROM songs ORDER BY id LIMIT {LIKED_SONGS}").split()
            first = f"/api/v1/comments/{song}/comments?limit={PAGE_LIMIT}"
            deep = f"{first}&cursor={comments_cursor(song, deep_page)}"
            # Logging the listeners in is set-up, not what is measured.
            server_env = env | {
                "BANDSTAND_LOGIN_PER_CLIENT": "100000/minute",
                "BANDSTAND_LOGIN_PER_ACCOUNT": "100000/minute",
                "BANDSTAND_LOGIN_PER_PAIR": "100000/minute",
            }
            server_log = OUT_DIR / "server-engagement.log"
            with running_server(server_env, data_dir, server_log, args.api_workers) as base_url:
                tokens = log_in_listeners(base_url, LIKERS)
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
        comments_first=comments_first,
        comments_deep=comments_deep,
        drift=drift,
    )


def engagement_markdown(r: EngagementResult, args: argparse.Namespace, machine_load: float) -> str:
    load = (
        f"`wrk -t1 -c{args.connections} -d{args.duration}s --timeout {WRK_TIMEOUT_S}s --latency "
        f"-s <script>.lua` per row, after a {WARMUP_S} s warm-up; `bandstand serve "
        f"--workers {args.api_workers} --no-access-log` on PostgreSQL + Redis"
    )
    more = [
        f"- Data: {r.songs:,} songs and {r.users:,} users from `bandstand seed`; "
        f"{r.comments:,} comments on one song ({r.replies:,} of them replies in the newest "
        "threads) copied in by `bench/engagement.py`",
        f"- Likes: {LIKERS} listeners, each with a token of their own, like and unlike "
        f"{LIKED_SONGS} songs in turn (every request changes a like, and records a delta)",
    ]
    checked, wrong = r.drift
    flush = r.flush
    lines = [
        *preamble(args, ENGAGEMENT, load, machine_load, more),
        "| route | req/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {x.label} | {x.requests_per_s:,.0f} | {x.p50_ms:.1f} | {x.p95_ms:.1f} | "
        f"{x.p99_ms:.1f} | {x.requests:,} | {x.non_2xx} | {x.socket_errors} |"
        for x in r.loads
    ]
    likes_ok = r.likes.errors == 0 and r.ping.errors == 0 and r.like_ratio >= LIKE_RATIO
    lines += [
        "",
        f"After the storm and `bandstand counters flush`, {checked - wrong} of the {checked} "
        "liked songs have a `likeCount` equal to their rows in `song_likes`.",
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


# --- report ------------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown CPU"


def code_version() -> str:
    root = BENCH_DIR.parent
    commit = run_checked(["git", "-C", str(root), "rev-parse", "--short", "HEAD"]).strip()
    dirty = run_checked(["git", "-C", str(root), "status", "--porcelain", "--", "src"]).strip()
    return f"{commit} + uncommitted changes in src/" if dirty else commit


def reproduce_command(args: argparse.Namespace, section: str) -> str:
    command = f".venv/bin/python bench/run.py --only {section}"
    if section == MEDIA:
        return command + (" --quick" if args.quick else "")
    if section == ENGAGEMENT:
        command += " --quick" if args.quick else ""
    elif section == ACCOUNTS:
        command += f" --backend {args.backend}"
    else:
        command += f" --users {args.users} --songs {args.songs}"
    return f"{command} --duration {args.duration} --connections {args.connections}"


def wrk_version() -> str:
    # `wrk -v` prints "wrk 4.1.0 [epoll] Copyright ..." and its usage, and exits 1.
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split(" Copyright")[0].strip()


def preamble(
    args: argparse.Namespace, section: str, load: str, machine_load: float, more: list[str]
) -> list[str]:
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}; load average "
        f"{machine_load:.2f} when the section started",
        f"- Code: {code_version()}; Python {sys.version.split()[0]}, {wrk_version()}",
        f"- Load: {load}",
        *more,
        "",
        "Reproduce from the repository root:",
        "",
        "```sh",
        reproduce_command(args, section),
        "```",
        "",
    ]


def accounts_markdown(
    results: list[BackendResult], args: argparse.Namespace, machine_load: float
) -> str:
    load = (
        f"`wrk -t1 -c{args.connections} -d{args.duration}s --latency` per route, "
        f"after a {WARMUP_S} s warm-up; `bandstand serve` with one uvicorn worker"
    )
    lines = [
        *preamble(args, ACCOUNTS, load, machine_load, []),
        "| backend | route | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend in results:
        for r in (backend.ping, backend.current_user):
            lines.append(
                f"| {backend.backend} | `GET {r.route}` | {r.requests_per_s:,.0f} | "
                f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests:,} | {r.non_2xx} | "
                f"{r.socket_errors} |"
            )
    lines += [
        "",
        f"current-user req/s ÷ ping req/s (target ≥ {TARGET_RATIO:.0%}):",
        "",
        "| backend | ratio | target met |",
        "| --- | ---: | --- |",
    ]
    lines += [
        f"| {b.backend} | {b.ratio:.0%} | {'yes' if b.ratio >= TARGET_RATIO else 'no'} |"
        for b in results
    ]
    return "\n".join(lines) + "\n"


def met(load: Load, measured: float, limit: float) -> str:
    """A latency target counts only if every request of the run answered in time."""
    return "yes" if load.errors == 0 and load.requests and measured <= limit else "**no**"


def songs_markdown(r: SongsResult, args: argparse.Namespace, machine_load: float) -> str:
    load = (
        f"`wrk -t1 -c{args.connections} -d{args.duration}s --timeout {WRK_TIMEOUT_S}s --latency "
        f"-s <script>.lua` per row, after a {WARMUP_S} s warm-up; `bandstand serve "
        f"--workers {args.api_workers} --no-access-log` on PostgreSQL + Redis"
    )
    queries = ", ".join(f"`{q}` ({n} songs)" for q, n in r.search_hits.items())
    more = [
        f"- Data: {r.songs:,} songs and {r.users:,} users loaded by `bandstand seed` in "
        f"{r.seed_s:.0f} s (database {r.database_size} after `VACUUM (ANALYZE)`)",
        f"- Routes: `GET {HOME}?limit={PAGE_LIMIT}` on page 1 and on page {r.deep_page:,} by "
        f"`cursor` (the `nextCursor` of page {r.deep_page - 1:,}); `GET {SEARCH}?q=` rotating "
        f"over {queries}",
    ]
    lines = [
        *preamble(args, SONGS, load, machine_load, more),
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
    lines += [
        "",
        f"Under load, {args.connections} connections:",
        "",
        "| route | req/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {x.label} | {x.requests_per_s:,.0f} | {x.p50_ms:.1f} | {x.p95_ms:.1f} | "
        f"{x.p99_ms:.1f} | {x.requests:,} | {x.non_2xx} | {x.socket_errors} |"
        for x in [*r.loads, *r.uncached]
    ]
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


def media_markdown(args: argparse.Namespace, machine_load: float) -> str:
    """bench/media.py (processing speed on one core) and bench/jobs.py (the queue's cost
    per no-op job), one after the other."""
    import jobs

    import media

    seconds = 60.0 if args.quick else 300.0
    print(f"media: processing {seconds:.0f} s of audio per format on one core", flush=True)
    processed = media.bench_media(seconds, 1 if args.quick else 3)
    count = 1000 if args.quick else 10_000
    print(f"jobs: {count:,} no-op jobs per broker", flush=True)
    queued = asyncio.run(jobs.bench_queue(count, REDIS_URL))
    table = media.render(processed).split("\n", 2)[2]  # without its own heading
    lines = [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {code_version()}; "
        f"load average {machine_load:.2f} when the section started",
        "",
        "Reproduce from the repository root:",
        "",
        "```sh",
        reproduce_command(args, MEDIA),
        "```",
        "",
        table.strip("\n"),
        "",
        f"The queue: {count:,} no-op jobs enqueued one after another and run, per broker; "
        "Redis on 127.0.0.1, the receiver in the same process as `bandstand worker` runs "
        "it, each job acknowledged after it ran:",
        "",
        jobs.render(queued).strip("\n"),
    ]
    return "\n".join(lines) + "\n"


SECTION_TITLES = {
    ACCOUNTS: "## Accounts: a constant route and an authenticated one",
    SONGS: "## Songs at scale: the catalogue, search and Range requests on PostgreSQL",
    MEDIA: "## Media processing and the job queue",
    ENGAGEMENT: "## Engagement: likes under load, the counter flush, a song's comments",
}
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by `bench/run.py` (see `bench/README.md`); each section says when and how it "
    "was measured, and `--only <section>` re-runs one section and keeps the other.\n"
)


def merge_results(path: Path, fresh: dict[str, str]) -> str:
    """The results file with the sections just measured replaced and the others kept."""
    kept: dict[str, str] = {}
    old = path.read_text() if path.exists() else ""
    for chunk in re.split(r"^(?=## )", old, flags=re.MULTILINE)[1:]:
        title, _, body = chunk.partition("\n")
        section = next((k for k, t in SECTION_TITLES.items() if t == title.strip()), None)
        if section is not None:
            kept[section] = body.strip("\n") + "\n"
    kept |= fresh
    parts = [RESULTS_HEADER]
    parts += [f"{SECTION_TITLES[s]}\n\n{kept[s]}" for s in SECTION_TITLES if s in kept]
    return "\n".join(parts)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--only", choices=SECTIONS, help="run one section and keep the other's results"
    )
    parser.add_argument("--duration", type=int, help="seconds per route (15; --quick: 5)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument(
        "--backend",
        choices=[*BACKENDS, "all"],
        default="all",
        help="accounts section: sqlite, postgresql or all (all)",
    )
    parser.add_argument("--users", type=int, help=f"songs section: users to seed ({FULL_USERS:,})")
    parser.add_argument("--songs", type=int, help=f"songs section: songs to seed ({FULL_SONGS:,})")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"development run: {QUICK_SONGS:,} songs, {QUICK_USERS:,} users, 5 s per route, "
        "results in bench/out/RESULTS-quick.md",
    )
    parser.add_argument(
        "--api-workers", type=int, default=2, help="songs section: `bandstand serve --workers` (2)"
    )
    parser.add_argument("--output", type=Path, help="results file (bench/RESULTS.md)")
    args = parser.parse_args()
    args.duration = args.duration or (5 if args.quick else 15)
    args.users = args.users if args.users is not None else QUICK_USERS if args.quick else FULL_USERS
    args.songs = args.songs if args.songs is not None else QUICK_SONGS if args.quick else FULL_SONGS
    args.output = args.output or (OUT_DIR / "RESULTS-quick.md" if args.quick else RESULTS_FILE)
    return args


def main() -> int:
    args = parse_args()
    # Turn a plain `kill` into SystemExit, so servers and the database still go away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sections = (args.only,) if args.only else SECTIONS
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    accounts: list[BackendResult] = []
    songs: SongsResult | None = None
    media: str | None = None
    engaged: EngagementResult | None = None
    # This machine may be shared: say how busy it was when each section began.
    machine_load: dict[str, float] = {}
    try:
        ensure_wrk()
        OUT_DIR.mkdir(exist_ok=True)
        if ACCOUNTS in sections:
            machine_load[ACCOUNTS] = os.getloadavg()[0]
            accounts = [bench_backend(backend, args) for backend in backends]
        if SONGS in sections:
            machine_load[SONGS] = os.getloadavg()[0]
            songs = bench_songs(args)
        if MEDIA in sections:
            machine_load[MEDIA] = os.getloadavg()[0]
            media = media_markdown(args, machine_load[MEDIA])
        if ENGAGEMENT in sections:
            machine_load[ENGAGEMENT] = os.getloadavg()[0]
            engaged = bench_engagement(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fresh = {}
    if accounts:
        fresh[ACCOUNTS] = accounts_markdown(accounts, args, machine_load[ACCOUNTS])
    if songs is not None:
        fresh[SONGS] = songs_markdown(songs, args, machine_load[SONGS])
    if media is not None:
        fresh[MEDIA] = media
    if engaged is not None:
        fresh[ENGAGEMENT] = engagement_markdown(engaged, args, machine_load[ENGAGEMENT])
    args.output.write_text(merge_results(args.output, fresh))
    for b in accounts:
        print(f"{b.backend}: current-user ÷ ping = {b.ratio:.0%} (target ≥ {TARGET_RATIO:.0%})")
    print(f"wrote {args.output}")
    failed = [r.route for b in accounts for r in (b.ping, b.current_user) if r.errors]
    if songs is not None:
        failed += [x.label for x in [*songs.loads, *songs.uncached, *songs.ranges] if x.errors]
    if engaged is not None:
        failed += [x.label for x in engaged.loads if x.errors]
    if failed:
        print(f"error: non-2xx or socket errors on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
