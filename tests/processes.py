"""Real processes a test starts and stops on purpose: a Redis of its own (to empty, kill
and restart without touching the shared one), ``bandstand`` commands (to SIGKILL) and
nginx with the njs module (the production proxy); and a PostgreSQL database of the test's
own, for processes that share it.

Everything listens on 127.0.0.1 at a free port, and is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests import services
from tests.conftest import PASSWORD, code_in
from tests.images import png_bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"not listening on {port} after {within_s} s:\n{log.read_text()[-4000:]}")


@dataclass
class RedisServer:
    """A redis-server of the test's own, at ``url``; ``kill``, ``start`` and ``flush``
    are what an operator's bad day does to it."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # Keep what it holds in an append-only file (in ``folder``), as production's does.
    persistent: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            services.missing("redis-server", "not installed")
            return
        log = self.folder / "redis.log"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.process, log, 10)

    def kill(self) -> None:
        """Gone at once, and everything it held with it, unless ``persistent``."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def flush(self) -> None:
        """FLUSHALL: the server stays up, its data is gone."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(folder=tmp_path)
    server.start()
    yield server
    server.kill()


@dataclass
class Bandstand:
    """``bandstand <args>`` as a child process with its own environment and log."""

    args: list[str]
    env: Mapping[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bandstand", *self.args],
            env={**os.environ, **self.env},
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def wait_until_serving(self, base_url: str, within_s: float = 30) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/api/v1/ping", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"not serving after {within_s} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self, within_s: float = 20) -> int:
        """SIGTERM and wait for a clean exit; SIGKILL past ``within_s``."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(within_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-8000:]


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NJS = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")


@contextlib.contextmanager
def nginx(site: str, folder: Path, port: int) -> Iterator[str]:
    """nginx with njs serving ``site`` (what ``bandstand proxy-config`` writes for the http
    context, listening on ``port``), its files in ``folder``; its base URL until the end.
    Where Debian's nginx and libnginx-mod-http-js are missing: skipped, or failed in CI."""
    if not (Path(NGINX).exists() and NJS.exists()):
        services.missing("nginx with the njs module", "apt-get install nginx libnginx-mod-http-js")
    # The test's folders are private to this user; as root, nginx's workers stay root.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}load_module {NJS};\nworker_processes 1;\ndaemon off;\n"
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {folder}/body;\n"
        f" proxy_temp_path {folder}/proxy;\n{site}}}\n"
    )
    log = folder / "nginx.log"
    command = [NGINX, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-e", "stderr"]
    server = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server, log, 10)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@contextlib.asynccontextmanager
async def own_database(prefix: str = "bandstand_own") -> AsyncIterator[str]:
    """A PostgreSQL database of the caller's own on the run's server, empty (no
    migrations), dropped at the end: its URL."""
    base = make_url(services.DATABASE_URL or services.POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        await admin.dispose()
        services.missing("PostgreSQL", str(exc))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A database of the test's own, in the PostgreSQL run (skipped in the SQLite run)."""
    if services.DATABASE_URL is None:
        pytest.skip("the PostgreSQL run's deployment")
    async with own_database() as url:
        yield url


async def signed_up(client: httpx.AsyncClient, outbox: Path) -> dict[str, str]:
    """Sign up as Jane through a server started as a process (register, the code its
    worker wrote to ``outbox``, verify), then log in: the login's bearer header."""
    started = await client.post(
        "/api/v1/users/register",
        data={
            "fullname": "Jane Doe",
            "email": "jane@example.com",
            "username": "janedoe",
            "password": PASSWORD,
        },
        files={"avatar": ("me.png", png_bytes(), "image/png")},
    )
    assert started.status_code == 200, started.text
    deadline = time.monotonic() + 30
    while not (emails := await asyncio.to_thread(lambda: list(outbox.glob("*.eml")))):
        assert time.monotonic() < deadline, "no sign-up email"
        await asyncio.sleep(0.05)
    [message] = [email.message_from_bytes(await asyncio.to_thread(p.read_bytes)) for p in emails]
    verified = await client.post(
        "/api/v1/users/verify-otp",
        json={"otp": code_in(message), "registrationId": started.json()["data"]["registrationId"]},
    )
    assert verified.status_code == 201, verified.text
    client.cookies.clear()
    logged_in = await client.post(
        "/api/v1/users/login", json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert logged_in.status_code == 200, logged_in.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {logged_in.json()['data']['accessToken']}"}
