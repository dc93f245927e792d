from __future__ import annotations

import asyncio
import contextlib
import email
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bandstand.app import create_app
from bandstand.config import Settings
from bandstand.migrations import upgrade
from bandstand.models import Base
from tests import services
from tests.images import png_bytes
from tests.s3standin import moto_s3_standin, s3_admin  # noqa: F401  (fixtures)

PASSWORD = "a-long-and-unusual-passphrase"

# anyio imports its API on first use, and pytest rewrites anyio's modules as they load (it
# has a pytest plugin): a first use deep in a request's stack (Starlette serving a file)
# trips a CPython 3.11.7 parser bug ("AST constructor recursion depth mismatch"). So the
# whole API is loaded here, near the bottom of the stack.
for _name in dir(anyio):
    if not _name.startswith("_"):
        getattr(anyio, _name)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database built by the migrations, once per run."""
    if services.DATABASE_URL is None:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    base = make_url(services.DATABASE_URL)
    name = f"bandstand_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_sql(base, f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        services.missing("PostgreSQL", str(exc))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(_admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin_sql(base: Any, statement: str) -> None:
    engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _empty_tables(url: str) -> None:
    """Back to the state the migrations leave: no rows, counters (which they seed) at zero."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "counters"]
            if connection.dialect.name == "postgresql":
                await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            else:
                for table in tables:
                    await connection.execute(text(f"DELETE FROM {table}"))
            await connection.execute(text("UPDATE counters SET value = 0"))
    finally:
        await engine.dispose()


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    namespace = f"bandstand-test-{uuid.uuid4().hex[:8]}"

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "redis_url": services.REDIS_URL,
            "redis_namespace": namespace,
            "secret_key": "test-secret-" + "x" * 40,
            "public_url": "http://testserver",
            "allowed_origins": ["https://app.example"],
            # With Redis, jobs go through its stream; the app under test takes them too.
            "run_jobs_in_api": True,
            "job_retry_delay_s": 0.05,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@dataclass
class Harness:
    """A running app, its settings, and helpers to drive it like a client would."""

    app: FastAPI
    settings: Settings
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.clients.append(client)
        return client

    @property
    def outbox(self) -> Path:
        return self.settings.outbox_dir

    async def settle(self) -> None:
        """Wait for every queued job (emails, processing) to be done."""
        await self.app.state.runtime.queue.settle()

    async def messages(self) -> list[email.message.Message]:
        await self.settle()
        if not self.outbox.exists():
            return []
        files = sorted(self.outbox.glob("*.eml"))
        return [email.message_from_bytes(f.read_bytes()) for f in files]

    async def last_code(self, to: str | None = None) -> str:
        for message in reversed(await self.messages()):
            if to is None or message["To"] == to:
                return code_in(message)
        raise AssertionError("no code was emailed")

    def media_files(self) -> list[Path]:
        root = self.settings.media_dir
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        runtime = self.app.state.runtime
        async with runtime.engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def register(
        self,
        client: httpx.AsyncClient,
        *,
        email_address: str = "jane@example.com",
        username: str = "janedoe",
        password: str = PASSWORD,
        fullname: str = "Jane Doe",
        avatar: bytes | None = None,
    ) -> httpx.Response:
        return await client.post(
            "/api/v1/users/register",
            data={
                "fullname": fullname,
                "email": email_address,
                "username": username,
                "password": password,
            },
            files={
                "avatar": ("me.png", avatar if avatar is not None else png_bytes(), "image/png")
            },
        )

    async def sign_up(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        email_address: str = "jane@example.com",
        username: str = "janedoe",
        password: str = PASSWORD,
    ) -> dict[str, Any]:
        client = client or self.client()
        started = await self.register(
            client, email_address=email_address, username=username, password=password
        )
        assert started.status_code == 200, started.text
        registration_id = started.json()["data"]["registrationId"]
        verified = await client.post(
            "/api/v1/users/verify-otp",
            json={
                "otp": await self.last_code(email_address.lower()),
                "registrationId": registration_id,
            },
        )
        assert verified.status_code == 201, verified.text
        client.cookies.clear()
        user: dict[str, Any] = verified.json()["data"]
        return user

    async def log_in(
        self, client: httpx.AsyncClient, login: str = "jane@example.com", password: str = PASSWORD
    ) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/users/login", json={"email": login, "password": password}
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def code_in(message: email.message.Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(rb"code is (\d{6})", body)
    assert found, body
    return found.group(1).decode()


@pytest.fixture
async def make_harness(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[Harness, Any]] = []

    async def start(**overrides: Any) -> Harness:
        app = create_app(make_settings(**overrides), migrate=False)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        harness = Harness(app=app, settings=app.state.runtime.settings)
        started.append((harness, lifespan))
        return harness

    yield start
    for harness, lifespan in started:
        # Jobs a test left running (processing, deleting) finish before the tables empty;
        # one a test killed on purpose is not waited for long.
        with contextlib.suppress(TimeoutError):
            await harness.app.state.runtime.queue.settle(timeout_s=10)
        for client in harness.clients:
            await client.aclose()
        await harness.app.state.runtime.limiter.reset()
        await lifespan.__aexit__(None, None, None)
    await _empty_tables(database_url)


@pytest.fixture
async def harness(make_harness: Callable[..., Any]) -> Harness:
    h: Harness = await make_harness()
    return h


@pytest.fixture
async def client(harness: Harness) -> httpx.AsyncClient:
    return harness.client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
