"""The command line, run as a newcomer would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    env["BANDSTAND_DATA_DIR"] = str(data_dir)
    return env


def test_migrate_then_promote(tmp_path: Path) -> None:
    env = _env(tmp_path)
    done = subprocess.run(
        [BANDSTAND, "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bandstand.db").is_file()
    missing = subprocess.run(
        [BANDSTAND, "admin", "promote", "nobody"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "No user" in missing.stdout
    cleaned = subprocess.run(
        [BANDSTAND, "cleanup"], env=env, capture_output=True, text=True, timeout=60
    )
    assert cleaned.returncode == 0 and "Removed 0" in cleaned.stdout


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
