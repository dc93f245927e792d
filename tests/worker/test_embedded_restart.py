"""The embedded default keeps its queue in memory: a `bandstand serve` SIGKILLed while it
processes songs must finish them when it starts again (they used to stay `processing`
for the 30-minute sweep), and remove the scratch the killed run left (hundreds of MB)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import services
from tests.audio import tone
from tests.images import png_bytes
from tests.processes import Bandstand, free_port, signed_up

pytestmark = pytest.mark.skipif(
    services.DATABASE_URL is not None,
    reason="the embedded default (SQLite, jobs in memory); it runs in the SQLite pass",
)
API = "/api/v1"


async def _poll(check: Any, within_s: float, what: str, serve: Bandstand) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{serve.output()}")
        await asyncio.sleep(0.1)


async def test_songs_in_processing_when_serve_is_killed_finish_after_it_starts_again(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "BANDSTAND_DATA_DIR": str(data_dir),
        "BANDSTAND_ENV": "test",
        "BANDSTAND_PASSWORD_HASH_COST": "cheapest",
        "BANDSTAND_DATABASE_URL": "",
        "BANDSTAND_REDIS_URL": "",
    }
    serve = Bandstand(["serve", "--port", str(port)], env=env, log=tmp_path / "serve.log")
    scratch = data_dir / "tmp"

    async def processing_started() -> bool:
        return any(scratch.glob("**/bandstand-job-*/out"))

    serve.start()
    try:
        await asyncio.to_thread(serve.wait_until_serving, base_url)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            auth = await signed_up(client, data_dir / "outbox")
            song_ids = []
            for n in range(1):
                uploaded = await client.post(
                    f"{API}/songs/upload",
                    data={"title": f"Song {n}"},
                    files={
                        "songFile": ("song.wav", tone("wav", 60.0), "audio/wav"),
                        "thumbnail": ("cover.png", png_bytes(), "image/png"),
                    },
                    headers=auth,
                )
                assert uploaded.status_code == 201, uploaded.text
                song_ids.append(uploaded.json()["data"]["_id"])
            await _poll(processing_started, 30, "processing to start", serve)
            serve.kill()  # SIGKILL: the in-memory queue and the job's scratch are left as is
            left_behind = list(scratch.iterdir())
            assert left_behind

            serve.start()
            await asyncio.to_thread(serve.wait_until_serving, base_url)

            async def all_ready() -> bool:
                for song_id in song_ids:
                    answer = await client.get(f"{API}/songs/{song_id}", headers=auth)
                    if answer.json()["data"]["status"] != "ready":
                        return False
                return True

            await _poll(all_ready, 60, "the songs to be ready after the restart", serve)
            assert not any(path.exists() for path in left_behind)
    finally:
        serve.stop()
    assert "pending_jobs_resumed" in await asyncio.to_thread(serve.log.read_text)
