"""``bandstand import`` as an operator runs it: a real process, its exit status and what it
prints; killed midway and run again."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bandstand.models import Release, Song, SongStatus
from tests import services
from tests.conftest import Harness
from tests.imports.support import album, mp3
from tests.songs.support import artist

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))
PYTHON = sys.executable
OWNER = """
import asyncio
from bandstand.config import Settings
from bandstand.db import create_engine, create_sessionmaker, transaction
from bandstand.models import User

async def main():
    engine = create_engine(Settings().effective_database_url)
    async with transaction(create_sessionmaker(engine)) as session:
        session.add(User(fullname="Jane Doe", email="jane@example.com", username="Jane",
                         username_key="jane", password_hash="-"))
    await engine.dispose()

asyncio.run(main())
"""


def _env(data_dir: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    return env | {"BANDSTAND_DATA_DIR": str(data_dir), "COLUMNS": "200"} | more


def _run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BANDSTAND, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _embedded(tmp_path: Path) -> dict[str, str]:
    """A data folder of its own, migrated, with Jane in it (a server holds its own)."""
    env = _env(tmp_path / "data")
    assert _run(env, "migrate").returncode == 0
    subprocess.run([PYTHON, "-c", OWNER], env=env, check=True, timeout=60)
    return env


def _count(env: dict[str, str], sql: str) -> int:
    database = Path(env["BANDSTAND_DATA_DIR"]) / "bandstand.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute(sql).fetchone()[0])


async def test_the_command_brings_a_folder_in_and_processes_it(
    make_harness: Any, tmp_path: Path
) -> None:
    music = tmp_path / "music"
    album(music / "First", "First Album", 3, date="2018")
    mp3(music / "single.mp3", title="Single", frequency=880)
    (music / "readme.txt").write_text("not music")
    if services.DATABASE_URL is None:
        # Embedded: the command runs the songs' processing itself with --wait.
        env = _embedded(tmp_path)
        done = await asyncio.to_thread(_run, env, "import", str(music), "--owner", "JANE", "--wait")
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert (
            "Imported" in out and "Releases made" in out and "Processed: 4 ready, 0 failed" in out
        )
        assert "readme.txt" in out and "is not MP3" in out
        assert _count(env, "SELECT count(*) FROM songs WHERE status = 'ready'") == 4
        assert _count(env, "SELECT count(*) FROM releases WHERE kind = 'ep'") == 1
        again = await asyncio.to_thread(_run, env, "import", str(music), "--owner", "jane")
        assert again.returncode == 0 and _count(env, "SELECT count(*) FROM songs") == 4
        return
    # PostgreSQL + Redis: the command hands the songs to the workers (here, the app's).
    harness: Harness = await make_harness()
    jane = await artist(harness, "jane")
    settings = harness.settings
    env = _env(
        settings.data_dir,
        BANDSTAND_DATABASE_URL=settings.effective_database_url,
        BANDSTAND_REDIS_URL=settings.redis_url or "",
        BANDSTAND_REDIS_NAMESPACE=settings.redis_namespace,
    )
    done = await asyncio.to_thread(_run, env, "import", str(music), "--owner", "jane")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 songs wait for processing by `bandstand worker`" in done.stdout
    await harness.settle()
    rt = harness.app.state.runtime
    async with rt.sessionmaker() as session:
        statuses = (await session.execute(select(Song.status))).scalars().all()
        releases = (await session.execute(select(func.count()).select_from(Release))).scalar()
    assert statuses == [SongStatus.READY] * 4 and releases == 1
    assert jane.id


@pytest.mark.backend_free
def test_a_missing_owner_or_folder_is_a_usage_error(tmp_path: Path) -> None:
    env = _embedded(tmp_path)
    (tmp_path / "music").mkdir()
    nobody = _run(env, "import", str(tmp_path / "music"), "--owner", "nobody")
    assert nobody.returncode == 2 and "there is no user 'nobody'" in nobody.stderr
    nowhere = _run(env, "import", str(tmp_path / "nowhere"), "--owner", "jane")
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    unnamed = _run(env, "import", str(tmp_path / "music"))
    assert unnamed.returncode == 2 and "--owner" in unnamed.stderr


@pytest.mark.backend_free
def test_an_import_killed_midway_is_finished_by_the_next(tmp_path: Path) -> None:
    env = _embedded(tmp_path)
    music = tmp_path / "music"
    for n in range(6):
        album(music / f"album {n}", f"Album {n}", 8, frequency=200 + 50 * n)
    command = [BANDSTAND, "import", str(music), "--owner", "jane"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None:
            try:
                if _count(env, "SELECT count(*) FROM songs") > 0:
                    break
            except sqlite3.OperationalError:
                pass  # not there yet, or written this moment
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait()
    before = _count(env, "SELECT count(*) FROM songs")
    assert 0 < before < 48, "killed too late to show anything"
    again = _run(env, *command[1:])
    assert again.returncode == 0, again.stdout + again.stderr
    assert _count(env, "SELECT count(*) FROM songs") == 48
    assert _count(env, "SELECT count(DISTINCT content_hash) FROM songs") == 48
    assert _count(env, "SELECT count(*) FROM releases") == 6
    # Every album whole and in order, however the kill split it.
    assert (
        _count(
            env,
            "SELECT count(*) FROM songs s JOIN releases r ON r.id = s.release_id "
            "WHERE s.title = r.title || ' ' || s.track",
        )
        == 48
    )
