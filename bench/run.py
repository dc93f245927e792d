"""Throughput of a constant route and an authenticated one, measured with wrk against a
real ``bandstand serve`` (one uvicorn worker), on SQLite and on PostgreSQL + Redis.

Run from the repository root with the project's venv:
``.venv/bin/python bench/run.py [--duration 15] [--connections 32] [--backend all]``.
Writes ``bench/RESULTS.md``; server logs go to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path

import httpx
import redis
from PIL import Image

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
def running_server(env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """``bandstand serve`` on a free port; yields its base URL and stops it on the way out."""
    port = free_port()
    command = [str(BANDSTAND), "serve", "--host", HOST, "--port", str(port)]
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


def reproduce_command(args: argparse.Namespace) -> str:
    return (
        f".venv/bin/python bench/run.py --duration {args.duration} "
        f"--connections {args.connections} --backend {args.backend}"
    )


def wrk_version() -> str:
    # `wrk -v` prints "wrk 4.1.0 [epoll] Copyright ..." and its usage, and exits 1.
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split(" Copyright")[0].strip()


def results_markdown(results: list[BackendResult], args: argparse.Namespace) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}",
        f"- Code: {code_version()}; Python {sys.version.split()[0]}, {wrk_version()}",
        f"- Load: `wrk -t1 -c{args.connections} -d{args.duration}s --latency` per route, "
        f"after a {WARMUP_S} s warm-up; `bandstand serve` with one uvicorn worker",
        "",
        "Reproduce from the repository root:",
        "",
        "```sh",
        reproduce_command(args),
        "```",
        "",
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=15, help="seconds per route (15)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    # Turn a plain `kill` into SystemExit, so the server and the database still go away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    try:
        ensure_wrk()
        OUT_DIR.mkdir(exist_ok=True)
        results = [bench_backend(backend, args) for backend in backends]
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    RESULTS_FILE.write_text(results_markdown(results, args))
    for b in results:
        print(f"{b.backend}: current-user ÷ ping = {b.ratio:.0%} (target ≥ {TARGET_RATIO:.0%})")
    print(f"wrote {RESULTS_FILE.relative_to(BENCH_DIR.parent)}")
    failed = [r.route for b in results for r in (b.ping, b.current_user) if r.errors]
    if failed:
        print(f"error: non-2xx or socket errors on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
