from __future__ import annotations

import asyncio
import contextlib
import email
import os
import re
import shutil
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bandstand.accounts import passwords
from bandstand.accounts.sessions import issue_tokens
from bandstand.accounts.throttle import Client
from bandstand.accounts.views import private_view
from bandstand.app import create_app
from bandstand.config import Settings
from bandstand.db import transaction
from bandstand.engagement.counters import build_counters
from bandstand.engagement.counters.flush import CLEAN_STOP_MARK, LOCK_TTL_S
from bandstand.kit.gc import settle_garbage_collector
from bandstand.logging import configure_logging
from bandstand.media.images import square_webp
from bandstand.migrations import upgrade
from bandstand.models import Base, User
from bandstand.storage import new_key
from tests import services
from tests.images import png_bytes
from tests.s3standin import moto_s3_standin, s3_admin  # noqa: F401  (fixtures)

PASSWORD = "a-long-and-unusual-passphrase"

# What the production-like pass (PostgreSQL + Redis) leaves to the embedded one, where it
# would only run the same thing again; why, by kind.
ONCE_REASON = {
    "backend_free": "backend_free: it uses neither this pass's database nor its Redis, "
    "and runs in the embedded pass",
    "browser": "a browser test: it runs in the embedded pass; what the server answers on "
    "PostgreSQL + Redis is tested over HTTP in this one",
}
_LEFT_TO_EMBEDDED = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite runs twice, on the embedded defaults and on PostgreSQL + Redis. The
    second pass leaves out the tests that would repeat the first: those marked
    ``backend_free`` (they touch neither backend: media, storage, a server of their own on
    the embedded default) and the browser tests (the same pages, scripts and clicks; the
    pages' answers on this backend are tested over HTTP). A ``backend_free`` test that
    asks for the database is a mistake, in either pass."""
    for item in items:
        uses = getattr(item, "fixturenames", ())
        free = item.get_closest_marker("backend_free") is not None
        if free and "database_url" in uses:
            raise pytest.UsageError(f"{item.nodeid} is marked backend_free but uses the database")
        if services.DATABASE_URL is not None and (free or "browser" in uses):
            item.stash[_LEFT_TO_EMBEDDED] = ONCE_REASON["backend_free" if free else "browser"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process collects garbage as ``serve`` does once started (kit/gc.py): what
    the run has built by now (every module, every collected test) lives as long as the
    process, and full collections walking it again and again were a tenth of a test
    process's time. As in production, what is made afterwards is collected as usual."""
    settle_garbage_collector()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skipped here, before any fixture (a browser, a server) is set up; reported as one
    line per kind."""
    if (reason := item.stash.get(_LEFT_TO_EMBEDDED, None)) is not None:
        pytest.skip(reason)


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


# One engine per database and event loop for the emptying after each test: connecting
# anew each time cost a test more than the emptying itself. Per loop, because a connection
# belongs to the loop that opened it: one used from another loop fails after sending
# BEGIN and, kept, would hold its next emptying's deletes uncommitted, locking every later
# test out.
_EMPTYING: dict[tuple[str, asyncio.AbstractEventLoop], AsyncEngine] = {}


async def _empty_tables(url: str, *, keep: bool = True) -> None:
    """Back to the state the migrations leave: no rows, counters (which they seed) at zero.
    ``keep=False`` from a loop that is about to end (``asyncio.run``): its connection goes.
    One script, in one round trip, as the driver sends it: a statement per table through
    SQLAlchemy cost a test 15 ms."""
    key = (url, asyncio.get_running_loop())
    engine = _EMPTYING.pop(key, None) or create_async_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            if engine.dialect.name == "sqlite":
                await driver.executescript(_EMPTY_ALL)
            else:
                await driver.execute(_EMPTY_ALL)
    except BaseException:
        await engine.dispose()  # never reused: its connection's state is unknown
        raise
    if keep:
        _EMPTYING[key] = engine
    else:
        await engine.dispose()


# DELETE, not TRUNCATE, on PostgreSQL too: a test leaves a few rows, and TRUNCATE's new
# files for every table cost 50 ms a test where DELETE takes 6.
_EMPTY_ALL = "".join(
    [
        "BEGIN;",
        *(
            f"DELETE FROM {table.name};"
            for table in reversed(Base.metadata.sorted_tables)
            if table.name != "counters"
        ),
        "UPDATE counters SET value = 0;",
        "COMMIT;",
    ]
)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of every test's apps: one path for the run, emptied after each test,
    so that an app's settings are the same from one test to the next and it can be reused
    (see ``make_harness``)."""
    return tmp_path_factory.mktemp("bandstand") / "data"


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    """Every test's Redis keys go under this prefix; they are deleted after each test."""
    return f"bandstand-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def make_settings(
    database_url: str, data_dir: Path, redis_namespace: str
) -> AsyncIterator[Callable[..., Settings]]:
    """Settings for this test's apps; after it, its data folder and Redis keys are gone."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": data_dir,
            "database_url": database_url,
            "redis_url": services.REDIS_URL,
            "redis_namespace": redis_namespace,
            "secret_key": "test-secret-" + "x" * 40,
            "public_url": "http://testserver",
            "allowed_origins": ["https://app.example"],
            # With Redis, jobs go through its stream; the app under test takes them too.
            "run_jobs_in_api": True,
            "job_retry_delay_s": 0.05,
            # Thousands of users sign up and log in; OWASP's cost would buy the suite nothing.
            # The tests of the cost itself ask for "owasp".
            "password_hash_cost": "cheapest",
        }
        values.update(overrides)
        if values["env"] != "test" and "password_hash_cost" not in overrides:
            values["password_hash_cost"] = "owasp"  # "cheapest" is refused outside tests
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    yield build
    shutil.rmtree(data_dir, ignore_errors=True)
    if services.REDIS_URL is not None:
        await _delete_keys(services.REDIS_URL, redis_namespace)


async def _delete_keys(url: str, namespace: str) -> None:
    async with Redis.from_url(url) as redis:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await redis.delete(*keys)


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
        fullname: str = "Jane Doe",
    ) -> dict[str, Any]:
        """A user as a finished sign-up leaves one (a row, a stored avatar; no login yet),
        inserted directly: the emailed-code flow is proven by the tests that use
        ``sign_up_by_email``, not paid for by every test that needs a user. The answer is
        what ``verify-otp`` answers."""
        rt = self.app.state.runtime
        avatar_key = new_key("avatars", "webp")
        await rt.storage.put(avatar_key, await _avatar(rt.settings.avatar_size_px), "image/webp")
        async with transaction(rt.sessionmaker) as session:
            user = User(
                fullname=fullname,
                email=email_address.lower(),
                username=username,
                username_key=username.lower(),
                avatar_key=avatar_key,
                password_hash=await passwords.hash_password(
                    rt.settings.password_hash_cost, password
                ),
            )
            session.add(user)
            await session.flush()
            view: dict[str, Any] = private_view(rt.links, user)
        return view

    async def tokens(self, user: dict[str, Any]) -> dict[str, str]:
        """A fresh login of ``user`` (as ``sign_up`` answers it): its session row and tokens,
        minted by the app's own code without a password check. ``log_in`` is the real thing."""
        rt = self.app.state.runtime
        async with transaction(rt.sessionmaker) as session:
            row = await session.get(User, uuid.UUID(user["_id"]))
            assert row is not None, user
            issued = await issue_tokens(
                session, rt.signer, rt.settings, row, None, Client(address="127.0.0.1")
            )
        return {"accessToken": issued.access, "refreshToken": issued.refresh}

    async def sign_up_by_email(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        email_address: str = "jane@example.com",
        username: str = "janedoe",
        password: str = PASSWORD,
    ) -> dict[str, Any]:
        """Sign up as a client does: register, read the emailed code, verify it."""
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


async def _avatar(size_px: int) -> bytes:
    """The avatar every signed-up user gets, encoded once per run by the app's encoder."""
    if size_px not in _AVATARS:
        _AVATARS[size_px] = await square_webp(png_bytes(), size_px)
    return _AVATARS[size_px]


_AVATARS: dict[int, bytes] = {}


def code_in(message: email.message.Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(rb"code is (\d{6})", body)
    assert found, body
    return found.group(1).decode()


PoolKey = tuple[tuple[str, Any], ...]


@dataclass
class _Kept:
    """An app between tests, and its shape when made: a test that adds a route or a
    middleware leaves it changed, and then it is not used again."""

    app: FastAPI
    settings: Settings
    routes: list[Any]
    middleware: int

    def unchanged(self) -> bool:
        app = self.app
        return (
            len(app.router.routes) == len(self.routes)
            and all(a is b for a, b in zip(app.router.routes, self.routes, strict=True))
            and len(app.user_middleware) == self.middleware
            and not app.dependency_overrides
        )


class AppPool:
    """Apps kept from one test to the next, by the overrides they were made with.

    FastAPI builds every route's models (a pydantic adapter per parameter and answer) in
    each new app, when it is made and at the first request on each route: about a fifth
    of a second of CPU per app, most of the suite's time when every test made its own. A
    kept app starts its lifespan again (a new runtime: engines, queue, counters, limiter),
    as a restarted ``serve`` would; its settings are the same because the data folder and
    the Redis namespace are the run's (emptied after each test).

    Only the apps used last are kept (``KEPT``): most overrides serve one test, and an app
    is some fifty thousand objects that every full garbage collection walks — keeping all
    of them made the collector a tenth of a test process's time."""

    KEPT = 6

    def __init__(self) -> None:
        self._idle: OrderedDict[PoolKey, list[_Kept]] = OrderedDict()

    @staticmethod
    def key(overrides: dict[str, Any]) -> PoolKey | None:
        """Overrides of plain values are kept by; anything else (a path, a list) is not.
        ``BANDSTAND_TEST_FRESH_APPS=1`` makes every app anew, to rule the pool out."""
        if os.environ.get("BANDSTAND_TEST_FRESH_APPS", "") not in {"", "0"}:
            return None
        plain = (str, int, float, bool, type(None))
        if all(isinstance(v, plain) for v in overrides.values()):
            return tuple(sorted(overrides.items()))
        return None

    def take(self, key: PoolKey | None, settings: Callable[[], Settings]) -> _Kept:
        idle = self._idle.get(key, []) if key is not None else []
        if idle:
            kept = idle.pop()
            if not idle:
                del self._idle[key]
            configure_logging(kept.settings.log_json)  # as create_app does; a test may change it
            return kept
        made = settings()
        app = create_app(made, migrate=False)
        return _Kept(app, made, list(app.router.routes), len(app.user_middleware))

    def give_back(self, key: PoolKey | None, kept: _Kept) -> None:
        if key is None or not kept.unchanged():
            return
        self._idle.setdefault(key, []).append(kept)
        self._idle.move_to_end(key)
        while sum(len(apps) for apps in self._idle.values()) > self.KEPT:
            oldest = next(iter(self._idle))
            self._idle[oldest].pop(0)
            if not self._idle[oldest]:
                del self._idle[oldest]


@pytest.fixture(scope="session")
def app_pool() -> AppPool:
    return AppPool()


@pytest.fixture
async def make_harness(
    make_settings: Callable[..., Settings], database_url: str, app_pool: AppPool
) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[Harness, Any, PoolKey | None, _Kept]] = []

    async def start(**overrides: Any) -> Harness:
        key = AppPool.key(overrides)
        kept = app_pool.take(key, lambda: make_settings(**overrides))
        await _counters_as_left(kept.settings)
        lifespan = kept.app.router.lifespan_context(kept.app)
        await lifespan.__aenter__()
        harness = Harness(app=kept.app, settings=kept.app.state.runtime.settings)
        started.append((harness, lifespan, key, kept))
        return harness

    yield start
    for harness, lifespan, key, kept in started:
        # Jobs a test left running (processing, deleting) finish before the tables empty;
        # one a test killed on purpose is not waited for long.
        with contextlib.suppress(TimeoutError):
            await harness.app.state.runtime.queue.settle(timeout_s=10)
        for client in harness.clients:
            await client.aclose()
        await harness.app.state.runtime.limiter.reset()
        await lifespan.__aexit__(None, None, None)
        app_pool.give_back(key, kept)
    await _empty_tables(database_url)


async def _counters_as_left(settings: Settings) -> None:
    """A test's tables were emptied with its data folder and Redis namespace: its counters
    are as a clean stop leaves them, not lost. Marked so before the app starts (in a data
    folder made here), or each start would rebuild every counter: on the embedded default
    a fiftieth of a second per test; with Redis, by the first periodic flush, in the
    middle of the test's writes (such a rebuild is right only once their changes settle).
    The tests of lost counters lose them themselves."""
    if settings.redis_url is None:
        if not settings.data_dir.exists():  # one a test made stays as it left it
            settings.data_dir.mkdir(parents=True)
            (settings.data_dir / CLEAN_STOP_MARK).touch()
        return
    counters = build_counters(settings)
    try:
        if not await counters.intact():
            token = await counters.stamp(LOCK_TTL_S)
            if token is not None:
                await counters.seal(token)
    finally:
        await counters.close()


@pytest.fixture
async def harness(make_harness: Callable[..., Any]) -> Harness:
    h: Harness = await make_harness()
    return h


@pytest.fixture
async def client(harness: Harness) -> httpx.AsyncClient:
    return harness.client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
