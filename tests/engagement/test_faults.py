"""Faults under load, as an operator's bad day brings them: the API SIGKILLed mid-load
(the embedded SQLite default; PostgreSQL + Redis) and Redis emptied mid-load, three rounds
each, against a real ``bandstand serve``. Afterwards, with nobody running a command, every
acknowledged play, like and comment is counted and every counter equals its truth rows.

Each backend's run tests its own deployment: the SQLite run the embedded server, the
PostgreSQL run production (a Redis of the test's own, which it empties)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bandstand.accounts import passwords
from bandstand.kit.ids import new_id
from bandstand.migrations import upgrade
from bandstand.models import Song, User
from bandstand.models.song import SongStatus
from bandstand.storage import new_key
from tests import services
from tests.processes import Bandstand, RedisServer, free_port

API = "/api/v1"
PASSWORD = "a-long-and-unusual-passphrase"
LISTENERS = 5
SONGS = 4
ROUNDS = 3
# Answers a round gets before the fault strikes (the load goes on through it).
ANSWERS_BEFORE_FAULT = 40
CONVERGE_WITHIN_S = 30.0

Pair = tuple[int, str]  # (listener, song)


@dataclass
class Ledger:
    """What the server acknowledged, and what it may or may not have done (a request
    that got no answer: the fault struck while it was in flight)."""

    liked: dict[Pair, bool] = field(default_factory=dict)
    unsure_likes: set[Pair] = field(default_factory=set)
    views: Counter[str] = field(default_factory=Counter)
    unsure_views: Counter[str] = field(default_factory=Counter)
    comments: dict[str, set[str]] = field(default_factory=dict)
    unsure_comments: Counter[str] = field(default_factory=Counter)
    answers: int = 0


@dataclass
class World:
    engine: AsyncEngine  # the server's database, to read the truth from
    songs: list[str]
    emails: list[str]
    tokens: list[str] = field(default_factory=list)


@asynccontextmanager
async def _world(url: str) -> AsyncIterator[World]:
    """The database migrated, with listeners, an artist and their songs as rows."""
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    secret = await passwords.hash_password("cheapest", PASSWORD)
    users = [
        User(
            id=new_id(),
            fullname=f"Listener {n}",
            email=f"l{n}@example.com",
            username=f"listener{n}",
            username_key=f"listener{n}",
            password_hash=secret,
        )
        for n in range(LISTENERS + 1)
    ]
    songs = [
        Song(
            id=new_id(),
            owner_id=users[-1].id,
            title=f"Song {n}",
            duration=120.0,
            codec="mp3",
            sample_rate=44100,
            channels=2,
            bitrate=128000,
            audio_key=new_key("songs", "mp3", "original"),
            audio_format="mp3",
            audio_size=1,
            thumbnail_key=new_key("songs", "webp", "cover"),
            status=SongStatus.READY,
        )
        for n in range(SONGS)
    ]
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        session.add_all(users)
        await session.flush()
        session.add_all(songs)
    try:
        yield World(
            engine=engine,
            songs=[str(song.id) for song in songs],
            emails=[user.email for user in users[:LISTENERS]],
        )
    finally:
        await engine.dispose()


async def _log_in(base_url: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for email in world.emails:
            answer = await client.post(
                f"{API}/users/login", json={"email": email, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            world.tokens.append(answer.json()["data"]["accessToken"])


async def _listen(
    base_url: str, world: World, ledger: Ledger, listener: int, stop: asyncio.Event
) -> None:
    """One listener plays, likes, unlikes and comments until told to stop, recording
    every answer; no answer (the server is gone) leaves the request's effect unsure."""
    rng = random.Random(listener)
    headers = {"Authorization": f"Bearer {world.tokens[listener]}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=5) as client:
        while not stop.is_set():
            song = rng.choice(world.songs)
            pair = (listener, song)
            roll = rng.random()
            try:
                if roll < 0.4:
                    answer = await client.post(f"{API}/songs/{song}")
                    if answer.status_code == 200 and answer.json()["data"]["viewCounted"]:
                        ledger.views[song] += 1
                elif roll < 0.8:
                    liking = not ledger.liked.get(pair, False) or pair in ledger.unsure_likes
                    verb = "like" if liking else "unlike"
                    answer = await client.post(f"{API}/songs/{song}/{verb}")
                    if answer.status_code == 200:
                        ledger.liked[pair] = liking
                        ledger.unsure_likes.discard(pair)
                else:
                    answer = await client.post(
                        f"{API}/comments/{song}", json={"content": f"Lovely tune, {rng.random()}"}
                    )
                    if answer.status_code == 201:
                        ledger.comments.setdefault(song, set()).add(answer.json()["data"]["_id"])
            except httpx.HTTPError:
                # Sent, maybe done, never answered.
                if roll < 0.4:
                    ledger.unsure_views[song] += 1
                elif roll < 0.8:
                    ledger.unsure_likes.add(pair)
                else:
                    ledger.unsure_comments[song] += 1
                await asyncio.sleep(0.05)
                continue
            assert answer.status_code < 500, answer.text
            ledger.answers += 1


async def _round(
    base_url: str, world: World, ledger: Ledger, fault: Callable[[], Awaitable[None]]
) -> None:
    """Load from every listener; the fault strikes mid-load."""
    stop = asyncio.Event()
    listeners = [
        asyncio.create_task(_listen(base_url, world, ledger, n, stop)) for n in range(LISTENERS)
    ]
    try:
        target = ledger.answers + ANSWERS_BEFORE_FAULT
        deadline = time.monotonic() + 20
        while ledger.answers < target:
            assert time.monotonic() < deadline, "the load got too few answers"
            await asyncio.sleep(0.02)
        await fault()
        await asyncio.sleep(0.3)  # the load meets the fault
    finally:
        stop.set()
        await asyncio.gather(*listeners)


def _uuid(value: Any) -> str:
    return str(uuid.UUID(hex=value) if isinstance(value, str) else value)


@dataclass
class Truth:
    views: Counter[str]
    likes: set[tuple[str, str]]  # (email, song)
    comments: dict[str, set[str]]
    stored: dict[str, tuple[int, int, int]]


async def _truth(world: World) -> Truth:
    async with world.engine.connect() as connection:

        async def rows(statement: str) -> list[Any]:
            return list((await connection.execute(text(statement))).all())

        views = Counter(
            {
                _uuid(song): n
                for song, n in await rows(
                    "SELECT song_id, count(*) FROM plays WHERE counted GROUP BY song_id"
                )
            }
        )
        likes = {
            (email, _uuid(song))
            for email, song in await rows(
                "SELECT u.email, l.song_id FROM song_likes l JOIN users u ON u.id = l.user_id"
            )
        }
        comments: dict[str, set[str]] = {}
        for song, comment in await rows("SELECT song_id, id FROM comments WHERE NOT is_held"):
            comments.setdefault(_uuid(song), set()).add(_uuid(comment))
        stored = {
            _uuid(song): (int(v), int(lk), int(c))
            for song, v, lk, c in await rows(
                "SELECT song_id, views, like_count, comment_count FROM song_stats"
            )
        }
    return Truth(views, likes, comments, stored)


async def _shown(base_url: str, world: World) -> dict[str, tuple[int, int, int]]:
    headers = {"Authorization": f"Bearer {world.tokens[0]}"}
    found = {}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        for song in world.songs:
            answer = await client.get(f"{API}/songs/{song}")
            assert answer.status_code == 200, answer.text
            data = answer.json()["data"]
            found[song] = (data["views"], data["likeCount"], data["commentCount"])
    return found


async def _converged(base_url: str, world: World, ledger: Ledger) -> None:
    """Every counter, as answered and as stored, equals its rows (polled: the flush runs
    every second); then every acknowledged change is among the rows."""
    deadline = time.monotonic() + CONVERGE_WITHIN_S
    while True:
        truth = await _truth(world)
        expected = {
            song: (
                truth.views[song],
                sum(1 for _, s in truth.likes if s == song),
                len(truth.comments.get(song, set())),
            )
            for song in world.songs
        }
        shown = await _shown(base_url, world)
        stored = {song: truth.stored.get(song, (0, 0, 0)) for song in world.songs}
        if shown == expected and stored == expected:
            break
        assert time.monotonic() < deadline, f"shown {shown}, stored {stored}, truth {expected}"
        await asyncio.sleep(0.25)
    for song in world.songs:
        acknowledged = ledger.views[song]
        assert acknowledged <= truth.views[song] <= acknowledged + ledger.unsure_views[song]
        assert ledger.comments.get(song, set()) <= truth.comments.get(song, set())
        extra = len(truth.comments.get(song, set())) - len(ledger.comments.get(song, set()))
        assert extra <= ledger.unsure_comments[song]
    for (listener, song), liked in ledger.liked.items():
        if (listener, song) not in ledger.unsure_likes:
            assert ((world.emails[listener], song) in truth.likes) == liked, (listener, song)
    assert sum(ledger.views.values()) and sum(ledger.liked.values()) and ledger.comments


def _server(tmp_path: Path, port: int, **env: str) -> Bandstand:
    values = {
        "BANDSTAND_DATA_DIR": str(tmp_path / "var"),
        "BANDSTAND_SECRET_KEY": "fault-test-secret-" + "x" * 40,
        "BANDSTAND_COUNTER_FLUSH_S": "1",
        # A change not arrived 2 s after its mark is taken as lost (production: 60 s).
        "BANDSTAND_COUNTER_SETTLE_S": "2",
        "BANDSTAND_VIEW_WINDOW_S": "1",
        "BANDSTAND_ENV": "test",  # the only one that allows the cheapest hashes
        "BANDSTAND_PASSWORD_HASH_COST": "cheapest",
        "BANDSTAND_LOG_JSON": "false",
        **env,
    }
    return Bandstand(
        args=["serve", "--port", str(port), "--no-access-log"],
        env=values,
        log=tmp_path / "serve.log",
    )


async def _restarted(server: Bandstand, base_url: str) -> None:
    """Start again once the killed process is gone (one server per data folder)."""
    server.kill()
    server.start()
    await asyncio.to_thread(server.wait_until_serving, base_url, 40)


async def _sigkill_rounds(server: Bandstand, base_url: str, world: World, ledger: Ledger) -> None:
    async def sigkill() -> None:
        assert server.process is not None
        server.process.kill()

    for _ in range(ROUNDS):
        await _round(base_url, world, ledger, sigkill)
        await _restarted(server, base_url)


@pytest.mark.skipif(services.DATABASE_URL is not None, reason="the SQLite run's deployment")
async def test_sigkill_of_the_embedded_server_mid_load_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    url = f"sqlite+aiosqlite:///{(data / 'bandstand.db').resolve()}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = _server(tmp_path, port)
    async with _world(url) as world:
        try:
            server.start()
            await asyncio.to_thread(server.wait_until_serving, base_url, 40)
            await _log_in(base_url, world)
            ledger = Ledger()
            await _sigkill_rounds(server, base_url, world, ledger)
            await _converged(base_url, world, ledger)
        finally:
            server.stop()


def _production(tmp_path: Path, port: int, database_url: str, redis: RedisServer) -> Bandstand:
    return _server(
        tmp_path,
        port,
        BANDSTAND_DATABASE_URL=database_url,
        BANDSTAND_REDIS_URL=redis.url,
        BANDSTAND_REDIS_NAMESPACE="faults",
        # One process: the API takes the jobs too (the periodic flush among them).
        BANDSTAND_RUN_JOBS_IN_API="true",
    )


async def test_sigkill_of_the_api_mid_load_loses_nothing_with_redis(
    redis_server: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = _production(tmp_path, port, postgres_url, redis_server)
    async with _world(postgres_url) as world:
        try:
            server.start()
            await asyncio.to_thread(server.wait_until_serving, base_url, 40)
            await _log_in(base_url, world)
            ledger = Ledger()
            await _sigkill_rounds(server, base_url, world, ledger)
            await _converged(base_url, world, ledger)
        finally:
            server.stop()


async def test_redis_emptied_mid_load_heals_without_an_operator(
    redis_server: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = _production(tmp_path, port, postgres_url, redis_server)

    async def flushall() -> None:
        await asyncio.to_thread(redis_server.flush)

    async with _world(postgres_url) as world:
        try:
            server.start()
            await asyncio.to_thread(server.wait_until_serving, base_url, 40)
            await _log_in(base_url, world)
            ledger = Ledger()
            for _ in range(ROUNDS):
                await _round(base_url, world, ledger, flushall)
            await _converged(base_url, world, ledger)
        finally:
            server.stop()
