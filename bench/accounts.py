"""The accounts section: what authentication and one lookup cost.

wrk (``--latency``, a 3 s warm-up first) loads two routes of one ``bandstand serve``
worker: ``GET /api/v1/ping``, a constant answer (the floor set by uvicorn, the middleware
and FastAPI), and ``GET /api/v1/users/current-user`` with a bearer token (JWT check,
session lookup, the user's JSON). The user signs up, verifies the emailed code and logs in
through the API, as a client does. Target: current-user req/s ≥ 50 % of ping's, on SQLite
(a fresh data folder) and on PostgreSQL + Redis (a fresh ``bandstand_bench`` database).

Alone, from the repository root:
``.venv/bin/python bench/run.py --only accounts [--backend sqlite|postgresql|all]``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path

import httpx
from harness import (
    OUT_DIR,
    PING,
    WARMUP_S,
    BenchError,
    Report,
    Section,
    base_env,
    expect,
    png_avatar,
    postgresql_env,
    preamble,
    reproduce,
    run_checked,
    running_server,
    running_worker,
    wrk_options,
)

ACCOUNTS = "accounts"
TITLE = "## Accounts: a constant route and an authenticated one"
BACKENDS = ("sqlite", "postgresql")
CURRENT_USER = "/api/v1/users/current-user"
PASSWORD = "bench-password-42!"
TARGET_RATIO = 0.5

_OTP = re.compile(r"verification code is (\d{6})")
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


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


@contextlib.contextmanager
def backend_env(backend: str, data_dir: Path) -> Iterator[dict[str, str]]:
    if backend == "postgresql":
        with postgresql_env(data_dir) as env:
            yield env
    else:
        # SQLite: `serve` applies the migrations itself.
        yield base_env(data_dir)


# --- a user and a token, through the API --------------------------------------------------


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


# --- wrk, read from its own --latency output ----------------------------------------------


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
            # The sign-up's email is a job: on PostgreSQL + Redis a worker sends it. It
            # stops before the measurements, which are of the API alone.
            jobs = (
                running_worker(env, data_dir, OUT_DIR / "worker-postgresql.log")
                if backend == "postgresql"
                else contextlib.nullcontext()
            )
            with jobs:
                token = access_token(base_url, data_dir / "outbox")
            ping = measure(base_url, PING, args, [])
            auth = [f"Authorization: Bearer {token}"]
            current_user = measure(base_url, CURRENT_USER, args, auth)
    return BackendResult(backend, ping, current_user)


# --- the section -------------------------------------------------------------------------


def markdown(results: list[BackendResult], args: argparse.Namespace, machine_load: float) -> str:
    load = (
        f"`wrk -t1 -c{args.connections} -d{args.duration}s --latency` per route, "
        f"after a {WARMUP_S} s warm-up; `bandstand serve` with one uvicorn worker"
    )
    command = reproduce(ACCOUNTS, "--backend", args.backend, *wrk_options(args))
    lines = [
        *preamble(command, load, machine_load, []),
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


def run(args: argparse.Namespace, machine_load: float) -> Report:
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    results = [bench_backend(backend, args) for backend in backends]
    return Report(
        markdown(results, args, machine_load),
        failed=[r.route for b in results for r in (b.ping, b.current_user) if r.errors],
        summary=[
            f"{b.backend}: current-user ÷ ping = {b.ratio:.0%} (target ≥ {TARGET_RATIO:.0%})"
            for b in results
        ],
    )


SECTION = Section(ACCOUNTS, TITLE, run)
