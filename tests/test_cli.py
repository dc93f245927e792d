"""The command line, run as a newcomer would run it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.commands import bandstand
from tests.processes import Bandstand, free_port

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))
ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    env["BANDSTAND_DATA_DIR"] = str(data_dir)
    return env


@pytest.mark.backend_free
def test_migrate_then_promote(tmp_path: Path) -> None:
    env = {"BANDSTAND_DATA_DIR": str(tmp_path)}
    done = bandstand(env, "migrate")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "bandstand.db").is_file()
    missing = bandstand(env, "admin", "promote", "nobody")
    assert missing.exit_code == 1 and "No user" in missing.stdout
    cleaned = bandstand(env, "cleanup")
    assert cleaned.exit_code == 0 and "Removed 0" in cleaned.stdout


@pytest.mark.backend_free
def test_serve_applies_migrations_and_answers(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [BANDSTAND, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        assert ready.status_code == 200
        missing = httpx.get(f"http://127.0.0.1:{port}/api/v1/users/current-user", timeout=5)
        assert missing.status_code == 401 and missing.json()["success"] is False
        assert "server" not in missing.headers
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stdout:
            server.stdout.close()


def _run_all(runs: list[tuple[dict[str, str], list[str]]]) -> list[tuple[list[str], int, str]]:
    """Each (environment, arguments) as a `bandstand` process, all at once."""
    started = [
        (
            args,
            subprocess.Popen(
                [BANDSTAND, *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for env, args in runs
    ]
    return [(args, p.wait(timeout=120), p.communicate()[0]) for args, p in started]


@pytest.mark.backend_free
def test_a_setting_or_database_we_cannot_use_is_one_line_and_a_failure(tmp_path: Path) -> None:
    base = _env(tmp_path)
    cases = {
        "BANDSTAND_DATABASE_URL: not a database URL": (
            base | {"BANDSTAND_DATABASE_URL": "db.example.com/band"},
            [["serve"]],
        ),
        "BANDSTAND_DATABASE_URL: unsupported database 'mysql'": (
            base | {"BANDSTAND_DATABASE_URL": "mysql://u@db/band"},
            [["counters", "rebuild"]],
        ),
        # Port 1: nothing listens there.
        "cannot reach the database": (
            base | {"BANDSTAND_DATABASE_URL": "postgres://u:secret@127.0.0.1:1/band"},
            [["serve"], ["worker"], ["migrate"], ["cleanup"]],
        ),
        "BANDSTAND_SECRET_KEY must be set": (
            base | {"BANDSTAND_ENV": "production"},
            [["serve"], ["worker"]],
        ),
    }
    runs = [(env, args) for env, commands in cases.values() for args in commands]
    results = iter(_run_all(runs))
    for expected, (_, commands) in cases.items():
        for _ in commands:
            args, status, said = next(results)
            assert status == 1, (args, said)
            assert said.startswith("bandstand: ") and said.count("\n") == 1, (args, said)
            assert expected in said and "secret" not in said.lower().replace("secret_key", ""), (
                args,
                said,
            )
    assert not (tmp_path / "bandstand.db").exists()


@pytest.mark.backend_free
def test_serve_listens_where_the_environment_says(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path) | {"BANDSTAND_PORT": str(port), "BANDSTAND_HOST": "127.0.0.1"}
    server = Bandstand(["serve"], env, tmp_path / "serve.log")
    server.start()
    try:
        server.wait_until_serving(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.mark.backend_free
def test_make_run_takes_a_port_and_a_host() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")

    def planned(*variables: str) -> str:
        # As from a shell: under `make test` the outer make's flags and level would
        # come along (and with them "Entering directory" lines).
        outer = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
        done = subprocess.run(
            [make, "--no-print-directory", "--dry-run", "run", *variables],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k not in outer},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert planned().endswith("bandstand serve")
    assert planned("PORT=8001").endswith("bandstand serve --port 8001")
    assert planned("PORT=8001", "HOST=127.0.0.2").endswith(
        "bandstand serve --host 127.0.0.2 --port 8001"
    )


def test_postgres_and_sqlite_urls_as_hosts_write_them(database_url: str, tmp_path: Path) -> None:
    plain = database_url.replace("postgresql+asyncpg://", "postgres://", 1).replace(
        "sqlite+aiosqlite://", "sqlite://", 1
    )
    env = _env(tmp_path) | {"BANDSTAND_DATABASE_URL": plain}
    done = subprocess.run(
        [BANDSTAND, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_a_libpq_url_with_sslmode_migrates_and_a_libpq_only_option_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    """Hosts give out ``postgres://…?sslmode=require``; asyncpg's word for it is ``ssl``."""

    def migrate(url: str) -> subprocess.CompletedProcess[str]:
        env = _env(tmp_path) | {"BANDSTAND_DATABASE_URL": url}
        return subprocess.run(
            [BANDSTAND, "migrate"], env=env, capture_output=True, text=True, timeout=120
        )

    refused = migrate("postgres://u@127.0.0.1:1/band?sslmode=require&connect_timeout=5")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1 and "connect_timeout" in refused.stderr, refused.stderr
    if not database_url.startswith("postgresql"):
        pytest.skip("sslmode is PostgreSQL's")
    plain = database_url.replace("postgresql+asyncpg://", "postgres://", 1)
    done = migrate(f"{plain}?sslmode=disable")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


@pytest.mark.backend_free
def test_serve_on_sqlite_with_redis_down_refuses_in_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path) | {"BANDSTAND_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    done = subprocess.run(
        [BANDSTAND, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot reach Redis" in done.stderr and "BANDSTAND_REDIS_URL" in done.stderr


@pytest.mark.backend_free
def test_a_full_disk_is_said_to_be_the_disks(tmp_path: Path) -> None:
    """SQLite's "database or disk is full" is not the URL's fault: say where to look."""
    import sqlite3

    from bandstand.cli import refusal

    connection = sqlite3.connect(tmp_path / "small.db")
    try:
        connection.execute("PRAGMA max_page_count = 2")  # a disk of two pages
        with pytest.raises(sqlite3.OperationalError) as full:
            connection.execute("CREATE TABLE t (b BLOB)")
            connection.execute("INSERT INTO t VALUES (zeroblob(100000))")
    finally:
        connection.close()
    said = refusal(full.value)
    assert said is not None and "disk" in said and "DATABASE_URL" not in said, said
