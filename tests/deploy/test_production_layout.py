"""compose.yaml's layout, run natively (there is no Docker engine here): `bandstand migrate`,
nginx with njs configured by deploy/nginx/write-site.sh (`bandstand proxy-config`, as the
stack's one-shot runs it), two `bandstand serve` behind nginx's upstream, one `bandstand
worker`, PostgreSQL and Redis. A listener's whole path goes through nginx: sign-up by the
emailed code, upload, processing by the worker, playback by signed link and HLS.

PostgreSQL + Redis only: the SQLite pass has no Redis for a worker to take jobs from, so
there it is skipped (in CI too); in the PostgreSQL pass, nginx missing fails under CI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bandstand.media.hls import parse_media_playlist
from tests import services
from tests.audio import tone
from tests.deploy.support import ROOT, instructions
from tests.processes import (
    Bandstand,
    free_port,
    nginx,
    postgres_url,  # noqa: F401  (a fixture)
    signed_up,
)
from tests.songs.support import Artist, uploaded

pytestmark = pytest.mark.skipif(
    services.DATABASE_URL is None or services.REDIS_URL is None,
    reason="the PostgreSQL + Redis pass's layout (a worker takes its jobs from Redis)",
)
USERS = "/api/v1/users"


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    """The test Redis, under a prefix of the layout's own (its keys deleted after)."""
    namespace = f"bandstand-layout-{uuid.uuid4().hex[:8]}"
    yield namespace
    assert services.REDIS_URL is not None
    async with Redis.from_url(services.REDIS_URL) as redis:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await redis.delete(*keys)


def _environment(tmp_path: Path, database_url: str, namespace: str, public: str) -> dict[str, str]:
    """What compose.yaml and deploy/bandstand.env give every Bandstand container."""
    return {
        "BANDSTAND_ENV": "production",
        "BANDSTAND_SECRET_KEY": "layout-test-secret-" + "x" * 40,
        "BANDSTAND_DATA_DIR": str(tmp_path / "data"),
        "BANDSTAND_DATABASE_URL": database_url,
        "BANDSTAND_REDIS_URL": str(services.REDIS_URL),
        "BANDSTAND_REDIS_NAMESPACE": namespace,
        "BANDSTAND_PUBLIC_URL": public,
        "BANDSTAND_TRUSTED_PROXIES": "127.0.0.1",
        "BANDSTAND_LOG_JSON": "true",
        # No BANDSTAND_SMTP_HOST: sign-up codes land in <data>/outbox, read by the test.
        # Two cores shared with the rest of the suite.
        "BANDSTAND_PROCESSING_CONCURRENCY": "1",
        # The venv's python and bandstand first, for write-site.sh.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def _site(env: dict[str, str], folder: Path, listen: int, upstreams: list[int]) -> str:
    """nginx's site as the compose stack's proxy-config service writes it. There, "api:8000"
    names every replica; here each serve has a port, so the others join the upstream."""
    writer = ROOT / "deploy" / "nginx" / "write-site.sh"
    settings = {
        "PROXY_LISTEN": f"127.0.0.1:{listen}",
        "PROXY_UPSTREAM": f"127.0.0.1:{upstreams[0]}",
    }
    subprocess.run(["/bin/sh", str(writer), str(folder)], env={**env, **settings}, check=True)
    site = (folder / "bandstand.conf").read_text()
    first = f"    server 127.0.0.1:{upstreams[0]};\n"
    assert site.count(first) == 1, site
    others = "".join(f"    server 127.0.0.1:{port};\n" for port in upstreams[1:])
    return site.replace(first, first + others)


@contextlib.contextmanager
def _running(processes: list[Bandstand]) -> Iterator[list[Bandstand]]:
    for process in processes:
        process.start()
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


def _health_check_passes(env: dict[str, str], port: int) -> None:
    """The Dockerfile's HEALTHCHECK command, run as written against a serve."""
    (check,) = [a for k, a in instructions(ROOT / "Dockerfile") if k == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD ") + 4 :])
    answer = subprocess.run(
        command, env={**env, "BANDSTAND_PORT": str(port)}, capture_output=True, check=False
    )
    assert answer.returncode == 0, answer.stderr


async def _ready(jane: Artist, song_id: str, within_s: float = 40) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        answer = await jane.client.get(f"/api/v1/songs/{song_id}", headers=jane.auth)
        assert answer.status_code == 200, answer.text
        song: dict[str, Any] = answer.json()["data"]
        assert song["status"] != "failed", song
        if song["status"] == "ready":
            return song
        assert time.monotonic() < deadline, f"still {song['status']} after {within_s} s"
        await asyncio.sleep(0.2)


async def _played(client: httpx.AsyncClient, song: dict[str, Any], audio: bytes) -> None:
    """The original by its signed link, whole and by range, and HLS down to a segment:
    each sent by nginx from disk."""
    (original,) = [r["url"] for r in song["renditions"] if r["kind"] == "original"]
    assert original.startswith(str(client.base_url))
    whole = await client.get(original)
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["content-type"] == "audio/mpeg"
    part = await client.get(original, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == audio[100:1100]

    master_url = httpx.URL(song["hls"])
    master = await client.get(master_url)
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    variant = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
    playlist = parse_media_playlist((await client.get(master_url.join(variant))).text)
    init = await client.get(master_url.join(playlist.map_uri))
    segment = await client.get(master_url.join(playlist.segments[0][0]))
    assert init.status_code == segment.status_code == 200
    assert len(init.content) > 100 and len(segment.content) > 1000


async def test_sign_up_upload_processing_and_playback_through_nginx(
    postgres_url: str,  # noqa: F811
    redis_namespace: str,
    tmp_path: Path,
) -> None:
    listen, api_ports = free_port(), [free_port(), free_port()]
    public = f"http://127.0.0.1:{listen}"
    env = _environment(tmp_path, postgres_url, redis_namespace, public)
    site = _site(env, tmp_path / "site", listen, api_ports)
    (tmp_path / "proxy").mkdir()

    # compose.yaml's one-shot migrate, before any serve or worker starts.
    migrate = [sys.executable, "-m", "bandstand", "migrate"]
    await asyncio.to_thread(subprocess.run, migrate, env={**os.environ, **env}, check=True)
    # Access logs on (production runs --no-access-log): they show both replicas answered.
    servers = [
        Bandstand(["serve", "--port", str(port)], env, tmp_path / f"serve-{port}.log")
        for port in api_ports
    ]
    worker = Bandstand(["worker"], env, tmp_path / "worker.log")
    with (
        _running([*servers, worker]),
        nginx(site, tmp_path / "proxy", listen) as base,
    ):
        for server, port in zip(servers, api_ports, strict=True):
            await asyncio.to_thread(server.wait_until_serving, f"http://127.0.0.1:{port}")
            await asyncio.to_thread(_health_check_passes, env, port)
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            assert (await client.get("/healthz")).status_code == 200
            auth = await signed_up(client, Path(env["BANDSTAND_DATA_DIR"]) / "outbox")
            jane = Artist(user={}, auth=auth, client=client)
            audio = tone("mp3", 3.0)
            song = await _ready(jane, (await uploaded(jane, audio))["_id"])
            await _played(client, song, audio)
        assert worker.process is not None and worker.process.poll() is None, worker.output()
    for server in servers:
        proxied = [line for line in server.output().splitlines() if _through_nginx(line)]
        assert proxied, server.output()
        # Audio and playlists went from disk by nginx, never through Python.
        assert not [line for line in proxied if "/api/v1/media/" in line], proxied


def _through_nginx(line: str) -> bool:
    """An access-log line of a request nginx passed on (the test's own readiness and
    health checks go to each serve directly)."""
    return " HTTP/1.1" in line and "/api/v1/" in line and "/api/v1/ping" not in line
