"""What backup and restore refuse, each in one line, before they change anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bandstand.config import Settings
from bandstand.kit import datalock
from bandstand.operations import Refused
from bandstand.operations.backup import back_up
from bandstand.operations.manifest import MANIFEST, MEDIA
from bandstand.operations.restore import restore
from tests.commands import environment
from tests.conftest import Harness
from tests.ops.support import rows
from tests.songs.support import artist

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))


@pytest.fixture
async def backup(make_harness: Any, tmp_path: Path) -> tuple[Harness, Path]:
    """An installation with one user (and their avatar), and a backup of it."""
    harness: Harness = await make_harness()
    await artist(harness, "owner")
    folder = tmp_path / "backup"
    await back_up(harness.settings, harness.app.state.runtime.storage, folder)
    return harness, folder


async def test_an_installation_with_users_is_not_restored_over(
    backup: tuple[Harness, Path],
) -> None:
    harness, folder = backup
    before = await rows(harness.settings)
    with pytest.raises(Refused, match=r"not empty \(its database has 1 users\)"):
        await restore(harness.settings, folder)
    assert await rows(harness.settings) == before


async def test_a_media_folder_with_files_is_not_restored_over(
    backup: tuple[Harness, Path], empty_installation: Settings
) -> None:
    _, folder = backup
    avatar = next((folder / MEDIA).rglob("*.webp"))
    stray = empty_installation.media_dir / avatar.relative_to(folder / MEDIA)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left here")
    with pytest.raises(Refused, match=r"not empty \(.*media holds media files\)"):
        await restore(empty_installation, folder)


async def test_a_damaged_file_or_manifest_is_refused(
    backup: tuple[Harness, Path], empty_installation: Settings
) -> None:
    _, folder = backup
    avatar = next((folder / MEDIA).rglob("*.webp"))
    good = avatar.read_bytes()
    avatar.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(Refused, match="does not match its checksum"):
        await restore(empty_installation, folder)
    avatar.write_bytes(good)
    manifest = folder / MANIFEST
    kept = manifest.read_text()
    manifest.write_text(kept[: len(kept) // 2])
    with pytest.raises(Refused, match="is damaged"):
        await restore(empty_installation, folder)
    newer = json.loads(kept) | {"alembic_revision": "9999"}
    manifest.write_text(json.dumps(newer))
    with pytest.raises(Refused, match="which this version does not have: upgrade"):
        await restore(empty_installation, folder)
    assert (await rows(empty_installation))["users"] == []


async def test_a_backup_goes_to_a_new_folder(backup: tuple[Harness, Path]) -> None:
    harness, folder = backup
    with pytest.raises(Refused, match="is not an empty folder"):
        await back_up(harness.settings, harness.app.state.runtime.storage, folder)


def test_restore_refuses_while_a_server_holds_the_data_folder(
    backup: tuple[Harness, Path], empty_installation: Settings
) -> None:
    if not empty_installation.is_embedded_database:
        pytest.skip("the data folder is locked on the embedded database only")
    _, folder = backup
    with datalock.holding(empty_installation.data_dir, "bandstand serve"):
        done = subprocess.run(
            [BANDSTAND, "restore", str(folder)],
            env=os.environ | environment(empty_installation),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("bandstand: ") and done.stderr.count("\n") == 1
    assert "is in use by" in done.stderr and "bandstand serve" in done.stderr


def test_a_backup_on_postgresql_without_pg_dump_says_so(settings: Settings, tmp_path: Path) -> None:
    if settings.is_embedded_database:
        pytest.skip("pg_dump is for PostgreSQL")
    env = os.environ | environment(settings) | {"PATH": str(tmp_path / "nothing-here")}
    done = subprocess.run(
        [BANDSTAND, "backup", str(tmp_path / "backup")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith("bandstand: pg_dump is not installed")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "backup").exists()
