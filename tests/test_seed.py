"""``bench/seed.py``: fake users and songs in bulk, consistent with what the app expects —
on SQLite (executemany, FTS triggers) and PostgreSQL (COPY) alike.

``bench`` has no ``__init__.py`` (its scripts import each other as top-level modules, run
from ``bench/``); ``bench.seed`` imports nothing from its neighbours, so the repository
root that pytest puts on ``sys.path`` finds it as a namespace package."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from bench import seed

from bandstand.storage import check_key
from tests.conftest import Harness, bearer

SEED_SCRIPT = str(Path(__file__).resolve().parents[1] / "bench" / "seed.py")


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _utc(value: Any) -> datetime:
    # SQLite hands back naive text; PostgreSQL an aware datetime.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def test_seed_fills_a_consistent_catalogue(harness: Harness) -> None:
    # Batches of 100 rows: several COPYs (or executemany calls), the last one short.
    result = await seed.seed(
        harness.settings.effective_database_url, users=30, songs=250, batch_size=100
    )
    assert (result.users, result.songs) == (30, 250)

    [(counter,)] = await harness.sql("SELECT value FROM counters WHERE name = 'songs'")
    [(songs,)] = await harness.sql("SELECT count(*) FROM songs")
    assert counter == songs == 250

    users = await harness.sql(
        "SELECT id, username, username_key, email, avatar_key, password_hash, created_at"
        " FROM users ORDER BY id"
    )
    assert len(users) == 30
    assert len({u.username_key for u in users}) == len({u.email for u in users}) == 30
    first = users[0]
    assert first.email == result.sample_email
    assert first.username_key == first.username.lower()
    assert first.email == f"{first.username_key}@{seed.EMAIL_DOMAIN}"
    assert first.avatar_key is None
    assert PasswordHasher().verify(first.password_hash, seed.SEED_PASSWORD)

    rows = await harness.sql(
        "SELECT s.id, s.created_at, s.audio_key, s.thumbnail_key, s.artist, s.status,"
        " s.owner_id, u.fullname, u.created_at AS owner_created"
        " FROM songs s JOIN users u ON u.id = s.owner_id ORDER BY s.id"
    )
    assert len(rows) == 250  # every song has an owner
    assert len({r.owner_id for r in rows}) > 10  # spread over the users
    for row in rows[:3] + rows[-3:]:
        song_id = _uuid(row.id)
        assert song_id.version == 7
        # The id's first 48 bits are the creation time in milliseconds.
        created = _utc(row.created_at)
        assert song_id.int >> 80 == round(created.timestamp() * 1000)
        assert _utc(row.owner_created) < created < datetime.now(UTC)
        check_key(row.audio_key)
        check_key(row.thumbnail_key)
        # No file behind the keys: not "ready" (nothing to play), but a placeholder.
        assert row.artist == row.fullname and row.status == "placeholder"
    times = [_utc(r.created_at) for r in rows]
    assert times == sorted(times) and len(set(times)) == len(times)


async def test_seeded_data_through_the_api(harness: Harness) -> None:
    result = await seed.seed(harness.settings.effective_database_url, users=20, songs=120)
    client = harness.client()
    tokens = await harness.log_in(client, str(result.sample_email), seed.SEED_PASSWORD)
    auth = bearer(tokens["accessToken"])

    home = (await client.get("/api/v1/songs/home", params={"limit": 5}, headers=auth)).json()
    assert home["data"]["totalDocs"] == 120
    newest = home["data"]["docs"][0]
    # Listed like any song, and marked as having nothing to play: its link finds no file.
    assert newest["status"] == "placeholder" and newest["hls"] is None
    assert (await client.get(newest["songFile"])).status_code == 404
    # The search indexes (FTS on SQLite, pg_trgm on PostgreSQL) know the seeded titles: the
    # whole title scores 1, and among equal scores the newest song comes first.
    params = {"q": newest["title"], "limit": 3}
    found = await client.get("/api/v1/songs/search", params=params, headers=auth)
    assert found.status_code == 200, found.text
    assert found.json()["data"]["songs"]["docs"][0]["_id"] == newest["_id"]

    # A second run adds to the first: new usernames, and the counter keeps step.
    again = await seed.seed(harness.settings.effective_database_url, users=5, songs=30)
    assert again.sample_email != result.sample_email
    [(counter,)] = await harness.sql("SELECT value FROM counters WHERE name = 'songs'")
    [(users,)] = await harness.sql("SELECT count(*) FROM users")
    assert (counter, users) == (150, 25)


async def test_songs_alone_go_to_the_existing_users(harness: Harness) -> None:
    await seed.seed(harness.settings.effective_database_url, users=3, songs=0)
    await seed.seed(harness.settings.effective_database_url, users=0, songs=40)
    [(owners,)] = await harness.sql("SELECT count(DISTINCT owner_id) FROM songs")
    [(counter,)] = await harness.sql("SELECT value FROM counters WHERE name = 'songs'")
    assert 1 <= owners <= 3 and counter == 40


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    return env | {"BANDSTAND_DATA_DIR": str(data_dir)} | extra


@pytest.mark.backend_free
def test_the_script_on_the_embedded_database(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, SEED_SCRIPT, "--users", "5", "--songs", "40", "--batch-size", "16"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Added 5 users and 40 songs" in done.stdout
    assert seed.SEED_PASSWORD in done.stdout


@pytest.mark.backend_free
def test_the_script_refuses_production(tmp_path: Path) -> None:
    env = _env(tmp_path, BANDSTAND_ENV="production", BANDSTAND_SECRET_KEY="k" * 40)
    done = subprocess.run(
        [sys.executable, SEED_SCRIPT, "--users", "1", "--songs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # One line, as ``bandstand`` refuses, and nothing written.
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "seed.py: refusing to seed fake accounts when BANDSTAND_ENV=production\n"
    )
    assert not (tmp_path / "bandstand.db").exists()


@pytest.mark.backend_free
def test_the_product_package_holds_no_fake_accounts() -> None:
    # Seeding is a benchmark tool (issue 11): nothing installed with bandstand makes
    # accounts that share a published password.
    assert importlib.util.find_spec("bandstand.seed") is None
