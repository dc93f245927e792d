"""Schemathesis fuzzes every operation in the OpenAPI document against a real server:
whatever it sends, Bandstand must never answer 500."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bandstand.config import Settings
from tests.audio import tone
from tests.conftest import _empty_tables
from tests.images import png_bytes
from tests.processes import Bandstand, free_port, signed_up

BIN = Path(sys.executable).parent
_LIMITS = [name for name in Settings.model_fields if name.startswith("limit_")]


@pytest.fixture
async def live_server(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """``bandstand serve`` on the run's database, emptied afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Bandstand(
        args=["serve", "--port", str(port), "--no-access-log"],
        env={
            "BANDSTAND_DATA_DIR": str(tmp_path),
            "BANDSTAND_DATABASE_URL": database_url,
            # What it answers is the point, not what a password costs to hash.
            "BANDSTAND_ENV": "test",
            "BANDSTAND_PASSWORD_HASH_COST": "cheapest",
            # Budgets that a run's few thousand requests do not spend: answered 429, a
            # request would never reach what it was generated to try.
            **{f"BANDSTAND_{name.upper()}": "100000/minute" for name in _LIMITS},
        },
        log=tmp_path / "server.log",
    )
    server.start()
    try:
        await asyncio.to_thread(server.wait_until_serving, base, 30)
        yield base
    finally:
        server.stop(15)
        await _empty_tables(database_url)


async def test_no_generated_request_makes_a_server_error(live_server: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        auth = await signed_up(client, tmp_path / "outbox")
        uploaded = await client.post(
            "/api/v1/songs/upload",
            headers=auth,
            data={"title": "Fuzz target"},
            files={
                "songFile": ("a.mp3", tone("mp3", 1.0), "audio/mpeg"),
                "thumbnail": ("c.png", png_bytes(), "image/png"),
            },
        )
        assert uploaded.status_code == 201, uploaded.text
    done = await asyncio.to_thread(
        subprocess.run,
        [
            str(BIN / "schemathesis"),
            "run",
            f"{live_server}/openapi.json",
            "--header",
            f"Authorization: {auth['Authorization']}",
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
    assert "Rate limited" not in done.stdout  # the budgets above were spent after all
