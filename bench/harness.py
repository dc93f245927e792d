"""What the benchmark sections share: the tools (wrk, psql, nginx), a fresh PostgreSQL +
Redis, ``bandstand serve`` and ``seed.py`` as child processes, logging in through
the API, wrk runs read by a Lua ``done()``, and the report around each section's tables.

Nothing here knows a section; ``run.py`` lists them, and each section module
(``accounts``, ``songs``, ``media``, ``engagement``) builds on these pieces.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis
from PIL import Image
from seed import SEED_PASSWORD

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
BANDSTAND = Path(sys.prefix) / "bin" / "bandstand"
SEED_SCRIPT = BENCH_DIR / "seed.py"

HOST = "127.0.0.1"
WARMUP_S = 3
# Slow routes are measured, not counted as errors at wrk's default of 2 s.
WRK_TIMEOUT_S = 60
PING = "/api/v1/ping"
PAGE_LIMIT = 20

SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
PG_DATABASE = "bandstand_bench"
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_NAMESPACE = "bandstand-bench"
PSQL = ["psql", "-h", HOST, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
NGINX = "/usr/sbin/nginx"
NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


@dataclass(frozen=True)
class Report:
    """What one section hands back to ``run.py``: its markdown (under its title), the
    labels of runs that had errors, and lines to print once the results are written."""

    markdown: str
    failed: list[str]
    summary: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """A section of ``bench/RESULTS.md``: ``run`` measures it and renders its markdown,
    given the parsed command line and the load average when the section started."""

    name: str
    title: str
    run: Callable[[argparse.Namespace, float], Report]


# --- tools -------------------------------------------------------------------------------


def run_checked(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        raise BenchError(f"`{' '.join(args)}` exited {done.returncode}:\n{output}")
    return done.stdout


def apt_install(packages: list[str]) -> None:
    """``apt-get install -y``, refreshing the package lists only if the first try fails."""
    install = ["apt-get", "install", "-y", *packages]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(install, check=False)


def ensure_wrk() -> None:
    """Install wrk from Debian if it is missing."""
    if shutil.which("wrk"):
        return
    print("wrk not found; installing it with apt-get", flush=True)
    apt_install(["wrk"])
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed and `apt-get install -y wrk` failed; install it")


def psql(sql: str) -> None:
    run_checked([*PSQL, sql])


def bench_psql(sql: str) -> str:
    """One value from the bench database."""
    command = ["psql", "-h", HOST, "-U", "postgres", "-d", PG_DATABASE, "-v", "ON_ERROR_STOP=1"]
    return run_checked([*command, "-Atqc", sql]).strip()


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


def seed(env: dict[str, str], cwd: Path, users: int, songs: int) -> float:
    """``seed.py``, its progress bar on this terminal; returns the wall time."""
    started = time.monotonic()
    command = [sys.executable, str(SEED_SCRIPT), "--users", str(users), "--songs", str(songs)]
    if subprocess.run(command, env=env, cwd=cwd, check=False).returncode != 0:
        raise BenchError(f"`{' '.join(command)}` failed (its output is above)")
    return time.monotonic() - started


# --- servers -----------------------------------------------------------------------------


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


# Budgets so large that a benchmark's own flood is never refused: the limiter still runs on
# every request (and costs what it costs), it just never says no.
UNLIMITED = {
    f"BANDSTAND_LIMIT_{family}_PER_{who}": "100000000/minute"
    for family in ("LIKES", "PLAYS", "PLAYLISTS", "SEARCH", "UPLOADS", "WRITES")
    for who in ("USER", "CLIENT")
}


@contextlib.contextmanager
def running_worker(env: dict[str, str], cwd: Path, log: Path) -> Iterator[None]:
    """``bandstand worker`` (production runs the jobs there: emails among them), stopped
    on the way out."""
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [str(BANDSTAND), "worker"], env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        stop(worker)


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


def ensure_nginx() -> str:
    """nginx from Debian with its njs module, installed with apt-get if missing."""
    found = shutil.which("nginx") or (NGINX if Path(NGINX).exists() else None)
    if found and NJS_MODULE.exists():
        return found
    print("nginx or njs not found; installing them with apt-get", flush=True)
    apt_install(["nginx", "libnginx-mod-http-js"])
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


# --- the API -----------------------------------------------------------------------------


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


def seeded_tokens(base_url: str, count: int) -> list[str]:
    """Access tokens of the first ``count`` seeded users (by id), logged in through the API
    with ``seed.SEED_PASSWORD``."""
    emails = bench_psql(f"SELECT email FROM users ORDER BY id LIMIT {count}").splitlines()
    tokens: list[str] = []
    with httpx.Client(base_url=f"{base_url}/api/v1/users", timeout=30) as client:
        for email in emails:
            login = {"email": email, "password": SEED_PASSWORD}
            answer = expect(client.post("/login", json=login), 200)
            tokens.append(answer.json()["data"]["accessToken"])
    return tokens


def encode_cursor(row_id: str) -> str:
    """What the API hands out as ``nextCursor``: the id's 16 bytes, urlsafe base64."""
    return base64.urlsafe_b64encode(uuid.UUID(row_id).bytes).rstrip(b"=").decode()


# --- wrk with a Lua done() ----------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What one wrk run measured, read from the Lua ``done()`` of :func:`lua_script`."""

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
    """``body`` (a ``request()``, say) and :data:`LUA_DONE`, written to bench/out/."""
    path = OUT_DIR / f"{name}.lua"
    path.write_text(body + LUA_DONE)
    return path


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
    """A warm-up of :data:`WARMUP_S`, then ``args.duration`` seconds measured."""
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


# --- the report --------------------------------------------------------------------------


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


def wrk_version() -> str:
    # `wrk -v` prints "wrk 4.1.0 [epoll] Copyright ..." and its usage, and exits 1.
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split(" Copyright")[0].strip()


def reproduce(section: str, *options: str) -> str:
    """The command that measures ``section`` again, from the repository root."""
    return " ".join([".venv/bin/python bench/run.py --only", section, *options])


def wrk_options(args: argparse.Namespace) -> list[str]:
    return ["--duration", str(args.duration), "--connections", str(args.connections)]


def lua_load(args: argparse.Namespace) -> str:
    """The "Load" line of the sections measured with :func:`measure_lua`."""
    return (
        f"`wrk -t1 -c{args.connections} -d{args.duration}s --timeout {WRK_TIMEOUT_S}s --latency "
        f"-s <script>.lua` per row, after a {WARMUP_S} s warm-up; `bandstand serve "
        f"--workers {args.api_workers} --no-access-log` on PostgreSQL + Redis"
    )


def preamble(command: str, load: str, machine_load: float, more: list[str]) -> list[str]:
    """When, where and how a section was measured, and ``command`` to do it again."""
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
        command,
        "```",
        "",
    ]


def load_table(loads: Sequence[Load]) -> list[str]:
    return [
        "| route | req/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {x.label} | {x.requests_per_s:,.0f} | {x.p50_ms:.1f} | {x.p95_ms:.1f} | "
            f"{x.p99_ms:.1f} | {x.requests:,} | {x.non_2xx} | {x.socket_errors} |"
            for x in loads
        ),
    ]


def met(load: Load, measured: float, limit: float) -> str:
    """A latency target counts only if every request of the run answered in time."""
    return "yes" if load.errors == 0 and load.requests and measured <= limit else "**no**"


RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by `bench/run.py` (see `bench/README.md`); each section says when and how it "
    "was measured, and `--only <section>` re-runs one section and keeps the other.\n"
)


def merge_results(path: Path, fresh: dict[str, str], titles: dict[str, str]) -> str:
    """The results file with the sections just measured replaced and the others kept;
    ``titles`` gives each section's heading, in the order the file lists them."""
    kept: dict[str, str] = {}
    old = path.read_text() if path.exists() else ""
    for chunk in re.split(r"^(?=## )", old, flags=re.MULTILINE)[1:]:
        title, _, body = chunk.partition("\n")
        section = next((k for k, t in titles.items() if t == title.strip()), None)
        if section is not None:
            kept[section] = body.strip("\n") + "\n"
    kept |= fresh
    parts = [RESULTS_HEADER]
    parts += [f"{titles[s]}\n\n{kept[s]}" for s in titles if s in kept]
    return "\n".join(parts)
