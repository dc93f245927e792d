"""Schemathesis fuzzes every operation in the OpenAPI document against a real server:
whatever it sends, Bandstand must never answer 500."""

from __future__ import annotations

import asyncio
import glob
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.audio import tone
from tests.conftest import PASSWORD, _empty_tables
from tests.images import png_bytes

BIN = Path(sys.executable).parent


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    env |= {"BANDSTAND_DATA_DIR": str(tmp_path), "BANDSTAND_DATABASE_URL": database_url}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "bandstand"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "server down"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
        asyncio.run(_empty_tables(database_url, keep=False))


def _emails(data_dir: Path, timeout_s: float = 30) -> list[str]:
    """The outbox once the email job has written to it (it runs after the answer)."""
    deadline = time.monotonic() + timeout_s
    while not (found := glob.glob(str(data_dir / "outbox" / "*.eml"))):
        assert time.monotonic() < deadline, "no email was written"
        time.sleep(0.05)
    return found


def _signed_up_token(base: str, data_dir: Path) -> str:
    api = f"{base}/api/v1"
    with httpx.Client(timeout=30) as client:
        started = client.post(
            f"{api}/users/register",
            data={
                "fullname": "Fuzz",
                "email": "fuzz@example.com",
                "username": "fuzzer",
                "password": PASSWORD,
            },
            files={"avatar": ("a.png", png_bytes(), "image/png")},
        )
        [mail] = _emails(data_dir)
        code = re.search(r"code is (\d{6})", Path(mail).read_text())
        assert code is not None
        client.post(
            f"{api}/users/verify-otp",
            json={"otp": code.group(1), "registrationId": started.json()["data"]["registrationId"]},
        )
        login = client.post(
            f"{api}/users/login", json={"email": "fuzz@example.com", "password": PASSWORD}
        )
        token: str = login.json()["data"]["accessToken"]
        client.post(
            f"{api}/songs/upload",
            headers={"Authorization": f"Bearer {token}"},
            data={"title": "Fuzz target"},
            files={
                "songFile": ("a.mp3", tone("mp3", 1.0), "audio/mpeg"),
                "thumbnail": ("c.png", png_bytes(), "image/png"),
            },
        )
        return token


def test_no_generated_request_makes_a_server_error(live_server: str, tmp_path: Path) -> None:
    token = _signed_up_token(live_server, tmp_path)
    done = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{live_server}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "10",
            "--exclude-path-regex",
            "logout|change-password|refresh-token",
            "--request-timeout",
            "20",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "passed" in done.stdout
