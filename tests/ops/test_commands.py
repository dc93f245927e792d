"""The operations as a deploy script runs them: `migrate --check`, `backup`, `restore`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bandstand.config import Settings
from tests.commands import bandstand, environment

BANDSTAND = str(Path(sys.executable).with_name("bandstand"))


@pytest.mark.backend_free
def test_migrate_check_says_how_many_are_pending(tmp_path: Path) -> None:
    env = os.environ | {"BANDSTAND_DATA_DIR": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("BANDSTAND_") or k.endswith("DATA_DIR")}
    pending = subprocess.run(
        [BANDSTAND, "migrate", "--check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert pending.returncode == 1
    assert pending.stderr.startswith("bandstand: ") and pending.stderr.count("\n") == 1
    assert (
        "migrations are pending" in pending.stderr and "run `bandstand migrate`" in pending.stderr
    )
    assert not (tmp_path / "bandstand.db").exists()  # looking made nothing
    assert subprocess.run([BANDSTAND, "migrate"], env=env, timeout=60).returncode == 0
    current = subprocess.run(
        [BANDSTAND, "migrate", "--check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert current.returncode == 0 and "at the latest migration" in current.stdout


def test_backup_then_restore_from_the_command_line(
    settings: Settings, empty_installation: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    made = bandstand(environment(settings), "backup", str(folder))
    assert made.exit_code == 0, made.output
    assert "Backed up 0 users" in made.output and (folder / "manifest.json").is_file()
    loaded = bandstand(environment(empty_installation), "restore", str(folder))
    assert loaded.exit_code == 0, loaded.output
    assert "Restored 0 users" in loaded.output


@pytest.mark.backend_free
def test_a_data_folder_never_served_is_backed_up_with_its_key(tmp_path: Path) -> None:
    """A newcomer's first try: migrate, back up, restore into a fresh folder. The key is
    made before the backup copies it, so the restore opens with the same one."""
    env = os.environ | {"BANDSTAND_DATA_DIR": str(tmp_path / "first")}
    env = {k: v for k, v in env.items() if not k.startswith("BANDSTAND_") or k.endswith("DATA_DIR")}

    def run(*args: str, folder: str = "first") -> subprocess.CompletedProcess[str]:
        here = env | {"BANDSTAND_DATA_DIR": str(tmp_path / folder)}
        return subprocess.run(
            [BANDSTAND, *args], env=here, capture_output=True, text=True, timeout=120
        )

    assert run("migrate").returncode == 0
    made = run("backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "backup" / "secret_key").is_file()
    loaded = run("restore", str(tmp_path / "backup"), folder="second")
    assert loaded.returncode == 0, loaded.stderr
    assert (tmp_path / "second" / "secret_key").read_text() == (
        tmp_path / "first" / "secret_key"
    ).read_text()
