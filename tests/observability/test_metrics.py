"""/metrics and the logs of a real deployment: ``bandstand serve`` alone on the embedded
default; ``serve --workers 2`` and a separate ``bandstand worker`` on PostgreSQL and Redis,
where what every process records is read through either API process's /metrics (the
folder they share)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bandstand.accounts import passwords
from bandstand.kit.ids import new_id
from bandstand.migrations import upgrade
from bandstand.models import User
from tests import services
from tests.audio import tone
from tests.images import png_bytes
from tests.processes import Bandstand, RedisServer, free_port

API = "/api/v1"
TOKEN = "metrics-test-token-0123456789"
PASSWORD = "a-long-and-unusual-passphrase"
EMAIL = "artist@example.com"
LISTENER = "listener@example.com"
REQUEST_ID = "upload-trace-0001"
EVENTS = ("login", "upload", "play", "like")

# (name, labels) -> value
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "BANDSTAND_DATA_DIR": str(tmp_path / "var"),
        "BANDSTAND_SECRET_KEY": "metrics-test-secret-" + "x" * 40,
        "BANDSTAND_ENV": "test",
        "BANDSTAND_PASSWORD_HASH_COST": "cheapest",
        "BANDSTAND_COUNTER_FLUSH_S": "1",
        "BANDSTAND_LOG_JSON": "true",
        "BANDSTAND_METRICS_ENABLED": "true",
        "BANDSTAND_METRICS_TOKEN": TOKEN,
        **more,
    }


async def _add_accounts(url: str) -> None:
    """An artist and a listener, as rows (sign-up has its own tests)."""
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    secret = await passwords.hash_password("cheapest", PASSWORD)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            for email in (EMAIL, LISTENER):
                name = email.split("@")[0]
                session.add(
                    User(
                        id=new_id(),
                        fullname=name.title(),
                        email=email,
                        username=name,
                        username_key=name,
                        password_hash=secret,
                    )
                )
    finally:
        await engine.dispose()


async def _scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples that carry ``labels`` (0 if none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def _moved(client: httpx.AsyncClient, within_s: float = 60) -> Samples:
    """/metrics once every series has moved."""
    deadline = time.monotonic() + within_s
    while True:
        samples = await _scrape(client)
        unmoved = _unmoved(samples)
        if not unmoved:
            return samples
        assert time.monotonic() < deadline, f"not moved: {unmoved}"
        await asyncio.sleep(0.25)


async def _refused_without_the_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert (await client.get("/metrics", headers=wrong)).status_code == 404


async def _log_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    login = await client.post(f"{API}/users/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}


async def _log_in_and_upload(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    auth = await _log_in(client, EMAIL)
    uploaded = await client.post(
        f"{API}/songs/upload",
        data={"title": "Traced"},
        files={
            "songFile": ("traced.mp3", tone("mp3", 1.0), "audio/mpeg"),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
        headers={**auth, "X-Request-ID": REQUEST_ID},
    )
    assert uploaded.status_code == 201, uploaded.text
    return auth, uploaded.json()["data"]["_id"]


async def _engage(client: httpx.AsyncClient, auth: dict[str, str], song: str) -> None:
    """Wait for the song to be ready; then a listener plays it (a view, for the flush to
    write) and likes it, and the newest songs are read twice (the second from the cache)."""
    deadline = time.monotonic() + 60
    while (await client.get(f"{API}/songs/{song}", headers=auth)).json()["data"][
        "status"
    ] != "ready":
        assert time.monotonic() < deadline, "the song was not processed in time"
        await asyncio.sleep(0.2)
    # After a first flush: the worker's first one rebuilds the counters of a store it
    # finds new, and the view below would be counted in that rebuild, not flushed.
    await _until_flushed(client)
    listener = await _log_in(client, LISTENER)
    played = await client.post(f"{API}/songs/{song}", headers=listener)
    assert played.status_code == 200 and played.json()["data"]["viewCounted"], played.text
    assert (await client.post(f"{API}/songs/{song}/like", headers=listener)).status_code == 200
    for _ in range(2):
        assert (await client.get(f"{API}/songs/home")).status_code == 200


async def _until_flushed(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 30
    while not _value(await _scrape(client), "bandstand_counter_last_flush_timestamp_seconds"):
        assert time.monotonic() < deadline, "no counter flush"
        await asyncio.sleep(0.2)


def _unmoved(samples: Samples) -> list[str]:
    """The series that have not moved yet."""
    events = {e: ("bandstand_events_total", {"event": e}) for e in EVENTS}
    wanted = {
        **events,
        "processed": (
            "bandstand_job_duration_seconds_count",
            {"job": "songs.process", "outcome": "done"},
        ),
        "processing CPU": ("bandstand_processing_cpu_seconds_total", {}),
        "audio processed": ("bandstand_processing_audio_seconds_total", {}),
        "flushed": ("bandstand_counter_flushed_total", {}),
        "flush time": ("bandstand_counter_last_flush_timestamp_seconds", {}),
    }
    return [what for what, (name, labels) in wanted.items() if not _value(samples, name, **labels)]


def _requests_counted(samples: Samples, song: str) -> None:
    upload = {"method": "POST", "route": f"{API}/songs/upload", "status": "201"}
    assert _value(samples, "bandstand_http_requests_total", **upload) == 1
    # Under the route's template, never the URL asked.
    song_reads = {"method": "GET", "route": f"{API}/songs/{{songId}}", "status": "200"}
    assert _value(samples, "bandstand_http_requests_total", **song_reads) >= 1
    routes = {v for _, labels in samples for k, v in labels if k == "route"}
    assert not any(song in route for route in routes), routes
    latency = {"method": "POST", "route": f"{API}/songs/upload"}
    assert _value(samples, "bandstand_http_request_duration_seconds_count", **latency) == 1
    assert _value(samples, "bandstand_cache_requests_total", result="hit") >= 1
    assert _value(samples, "bandstand_cache_requests_total", result="miss") >= 1
    assert any(n == "bandstand_db_pool_connections_in_use" for n, _ in samples)


def _lines(*logs: Path) -> list[dict[str, Any]]:
    found = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
    return found


def _traced(*logs: Path) -> None:
    """Every line of the upload, from its request to its song's ``song_ready`` in the job,
    carries the request's id."""
    lines = _lines(*logs)
    traced = [line["event"] for line in lines if line.get("request_id") == REQUEST_ID]
    assert "song_uploaded" in traced and "song_ready" in traced, traced
    assert "job_started" in traced
    ready = [line for line in lines if line["event"] == "song_ready"]
    assert [line.get("request_id") for line in ready] == [REQUEST_ID]


@pytest.mark.skipif(services.DATABASE_URL is not None, reason="the SQLite run's deployment")
async def test_embedded_server_counts_what_happens(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    await _add_accounts(f"sqlite+aiosqlite:///{(data / 'bandstand.db').resolve()}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = Bandstand(
        args=["serve", "--port", str(port), "--no-access-log"],
        env=_env(tmp_path),
        log=tmp_path / "serve.log",
    )
    try:
        server.start()
        await asyncio.to_thread(server.wait_until_serving, base_url, 40)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _refused_without_the_token(client)
            auth, song = await _log_in_and_upload(client)
            await _engage(client, auth, song)
            samples = await _moved(client)
        _requests_counted(samples, song)
    finally:
        server.stop()
    _traced(server.log)


async def test_api_processes_and_a_separate_worker_are_counted_as_one(
    redis_server: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    await _add_accounts(postgres_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _env(
        tmp_path,
        BANDSTAND_DATABASE_URL=postgres_url,
        BANDSTAND_REDIS_URL=redis_server.url,
        BANDSTAND_REDIS_NAMESPACE="metrics",
    )
    # Two API processes: whichever answers /metrics adds up both, and the worker.
    server = Bandstand(
        args=["serve", "--port", str(port), "--workers", "2", "--no-access-log"],
        env=env,
        log=tmp_path / "serve.log",
    )
    worker = Bandstand(args=["worker"], env=env, log=tmp_path / "worker.log")
    try:
        server.start()
        await asyncio.to_thread(server.wait_until_serving, base_url, 40)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _refused_without_the_token(client)
            auth, song = await _log_in_and_upload(client)
            # No worker yet: the job waits in the outbox, and /metrics says so.
            await asyncio.sleep(0.3)
            waiting = await _scrape(client)
            queued = {"job": "songs.process", "state": "queued"}
            assert _value(waiting, "bandstand_jobs_pending", **queued) == 1
            oldest = {"job": "songs.process"}
            assert _value(waiting, "bandstand_jobs_oldest_waiting_seconds", **oldest) > 0
            worker.start()
            await _engage(client, auth, song)
            samples = await _moved(client)
            _requests_counted(samples, song)
            assert _value(samples, "bandstand_jobs_pending", **queued) == 0
    finally:
        worker.stop()
        server.stop()
    _traced(server.log, worker.log)
    # The worker has no uvicorn: every line it wrote, taskiq's too, is one JSON object.
    written = worker.log.read_text().splitlines()
    assert written and all(json.loads(line) for line in written)
