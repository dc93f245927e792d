"""A dependency that goes away is an ordinary event: while Redis or the database is
down every route answers (503 with Retry-After, or its usual answer), and once it is
back the very first request is served again, on every Redis pool."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests import processes
from tests.conftest import Harness
from tests.images import png_bytes
from tests.processes import RedisServer
from tests.songs.support import artist, uploaded

redis_server = processes.redis_server  # a Redis of this test's own, to kill and restart


def _unavailable_or_fine(response: httpx.Response) -> None:
    if response.status_code == 503:
        assert int(response.headers["retry-after"]) > 0
        body = response.json()
        assert body["success"] is False and body["statusCode"] == 503
    else:
        assert response.status_code < 500, response.text


async def _register(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post(
        "/api/v1/users/register",
        data={
            "fullname": name.title(),
            "email": f"{name}@example.com",
            "username": name,
            "password": "a-long-and-unusual-passphrase",
        },
        files={"avatar": ("me.png", png_bytes(), "image/png")},
    )


async def test_redis_down_is_a_503_and_back_is_served_at_once(
    redis_server: RedisServer, make_harness: Callable[..., Any]
) -> None:
    # (Redis first: the app, set up after it, is stopped before it.)
    harness: Harness = await make_harness(redis_url=redis_server.url)
    client = harness.client()
    login = {"email": "nobody@example.com", "password": "wrong-but-long-enough"}
    assert (await _register(client, "before")).status_code == 200
    assert (await client.post("/api/v1/users/login", json=login)).status_code == 401

    redis_server.kill()
    down = await _register(client, "during")
    assert down.status_code == 503, down.text
    assert int(down.headers["retry-after"]) > 0
    _unavailable_or_fine(await client.post("/api/v1/users/login", json=login))
    _unavailable_or_fine(await client.get("/api/v1/songs/home"))

    # Back, empty, with every pooled connection dead: the first request is served.
    redis_server.start()
    assert (await client.post("/api/v1/users/login", json=login)).status_code == 401
    redis_server.kill()
    redis_server.start()
    after = await _register(client, "after")
    assert after.status_code == 200, after.text


async def test_the_counter_store_serves_the_first_request_after_a_restart(
    redis_server: RedisServer, make_harness: Callable[..., Any]
) -> None:
    harness: Harness = await make_harness(redis_url=redis_server.url)
    jane = await artist(harness)
    song = await uploaded(jane)
    await harness.settle()

    async def read() -> httpx.Response:
        return await jane.client.get(f"/api/v1/songs/{song['_id']}", headers=jane.auth)

    assert (await read()).status_code == 200
    redis_server.kill()
    _unavailable_or_fine(await read())
    redis_server.start()
    assert (await read()).status_code == 200
    redis_server.kill()  # a restart nobody asked anything during: every pooled
    redis_server.start()  # connection is dead, and nobody found out yet
    back = await read()
    assert back.status_code == 200, back.text


@pytest.fixture
def unreachable_database(tmp_path: Path) -> Iterator[Callable[[Harness], None]]:
    """Points an app's sessions at a database that is not there, until the test ends."""
    restore: list[Callable[[], None]] = []

    def cut(harness: Harness) -> None:
        from bandstand.db import create_engine

        runtime = harness.app.state.runtime
        url = runtime.engine.url
        if url.get_backend_name() == "sqlite":
            gone = url.set(database=str(tmp_path / "no" / "such" / "folder" / "db.sqlite"))
        else:
            gone = url.set(host="127.0.0.1", port=1)
        engine = create_engine(gone.render_as_string(hide_password=False))
        for maker, bind in (
            (runtime.sessionmaker, engine),
            (runtime.read_sessionmaker, engine.execution_options(isolation_level="AUTOCOMMIT")),
        ):
            restore.append(functools.partial(maker.configure, bind=maker.kw["bind"]))
            maker.configure(bind=bind)

    yield cut
    for undo in restore:
        undo()


async def test_database_down_is_a_503(
    harness: Harness, unreachable_database: Callable[[Harness], None]
) -> None:
    jane = await artist(harness)
    unreachable_database(harness)
    home = await jane.client.get("/api/v1/songs/home", headers=jane.auth)
    assert home.status_code == 503, home.text
    _unavailable_or_fine(home)
    _unavailable_or_fine(await jane.client.get(f"/api/v1/users/{jane.id}", headers=jane.auth))
    # Logins and sign-ups may be refused before the database is asked; never a 500.
    client = harness.client()
    _unavailable_or_fine(
        await client.post(
            "/api/v1/users/login", json={"email": "jane@example.com", "password": "x" * 20}
        )
    )
    _unavailable_or_fine(await _register(client, "mallory"))


async def test_a_query_of_ours_that_is_wrong_is_still_a_fault(harness: Harness) -> None:
    """Only a database out of reach is a 503 (SQLite calls a syntax error "operational")."""

    async def wrong() -> None:
        async with harness.app.state.runtime.engine.connect() as connection:
            await connection.execute(text("SELEC 1"))

    harness.app.add_api_route("/api/v1/wrong", wrong)
    response = await harness.client().get("/api/v1/wrong")
    assert response.status_code == 500


async def test_too_many_query_arguments_is_a_fault_not_an_outage(harness: Harness) -> None:
    """asyncpg says InterfaceError of a statement with too many arguments (and of a busy
    connection): faults of ours, so a 500, never "try again shortly"."""
    if harness.app.state.runtime.engine.url.get_backend_name() == "sqlite":
        pytest.skip("asyncpg's InterfaceError; SQLite takes this many arguments")

    async def too_many() -> None:
        async with harness.app.state.runtime.engine.connect() as connection:
            # Past PostgreSQL's 32767 bound parameters.
            names = [f"p{i}" for i in range(40_000)]
            sql = f"SELECT 1 WHERE 1 IN ({', '.join(':' + n for n in names)})"
            await connection.execute(text(sql), dict.fromkeys(names, 1))

    harness.app.add_api_route("/api/v1/too-many", too_many)
    response = await harness.client().get("/api/v1/too-many")
    assert response.status_code == 500, response.text


async def test_a_builtin_timeout_of_ours_is_a_fault_and_a_refused_connect_is_an_outage(
    harness: Harness, redis_server: RedisServer
) -> None:
    """A TimeoutError or ConnectionError is "down" only when a database or Redis client
    raised it; one of our own (or any other library's) is an ordinary fault."""
    from redis.asyncio import Redis

    from bandstand.errors import unreachable
    from bandstand.kit.redisclient import connect

    async def ours() -> None:
        raise TimeoutError("gave up waiting for a lock of ours")

    async def refused() -> None:
        raise ConnectionRefusedError("the mail server said no")

    harness.app.add_api_route("/api/v1/ours", ours)
    harness.app.add_api_route("/api/v1/refused", refused)
    assert (await harness.client().get("/api/v1/ours")).status_code == 500
    assert (await harness.client().get("/api/v1/refused")).status_code == 500

    redis_server.kill()
    client: Redis = connect(redis_server.url)
    try:
        with pytest.raises(Exception) as redis_down:
            await client.ping()
    finally:
        await client.aclose()
    assert unreachable(redis_down.value) == "Redis"

    import asyncpg

    from tests.processes import free_port

    with pytest.raises(OSError) as database_down:
        await asyncpg.connect(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing")
    assert unreachable(database_down.value) == "the database"


async def test_a_redis_command_that_timed_out_is_not_sent_again(redis_server: RedisServer) -> None:
    """A command that timed out may have run: sending it again would count a view twice
    (or lose one, when the retried SET NX finds its own key). A restart is still healed.

    Redis is stopped (SIGSTOP) under a command, so that the command waits in its socket
    and times out; it wakes (SIGCONT) when the client would pause before a retry, so that
    a retry, if there were one, would reach it."""
    import contextlib
    import os
    import signal

    import redis.exceptions
    from redis.asyncio import Redis
    from redis.backoff import AbstractBackoff

    from bandstand.kit.redisclient import client_options

    assert redis_server.process is not None
    pid = redis_server.process.pid

    class WakeRedisBeforeARetry(AbstractBackoff):
        def compute(self, failures: int) -> float:
            with contextlib.suppress(ProcessLookupError):  # after the restart below
                os.kill(pid, signal.SIGCONT)
            return 0.0

    options = {**client_options(), "socket_timeout": 0.3}
    options["retry"]._backoff = WakeRedisBeforeARetry()
    client = Redis.from_url(redis_server.url, **options)
    try:
        await client.set("plays", 0)
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(redis.exceptions.TimeoutError):
                await client.incr("plays")
        finally:
            os.kill(pid, signal.SIGCONT)
        async with Redis.from_url(redis_server.url) as fresh:
            await fresh.ping()  # served after whatever reached Redis while it was stopped
            assert int(await fresh.get("plays")) == 1
        assert int(await client.get("plays")) == 1  # a live connection in the pool

        redis_server.kill()
        redis_server.start()
        assert await client.incr("plays") == 1  # the pooled connection died: a new one
    finally:
        await client.aclose()
