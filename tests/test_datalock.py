"""One process at a time on an embedded data folder: a second server, or a command that
writes counters, refuses at once in one line that names the folder and the holder, and
touches nothing; the lock goes with its holder, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from bandstand.kit import datalock
from tests.processes import Bandstand, free_port

pytestmark = pytest.mark.backend_free

SEED_SCRIPT = str(Path(__file__).resolve().parents[1] / "bench" / "seed.py")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    return env | {"BANDSTAND_DATA_DIR": str(data_dir)}


def _bandstand(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bandstand", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _start(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


def test_a_second_server_and_writing_commands_refuse(tmp_path: Path) -> None:
    data = tmp_path / "var"
    port = free_port()
    first = Bandstand(["serve", "--port", str(port)], _env(data), tmp_path / "first.log")
    first.start()
    try:
        first.wait_until_serving(f"http://127.0.0.1:{port}")
        assert first.process is not None
        before = _listing(data)
        # The same port too: the old second server rebuilt every counter, then failed to bind.
        commands = (
            ["-m", "bandstand", "serve", "--port", str(port)],
            ["-m", "bandstand", "counters", "rebuild"],
            ["-m", "bandstand", "counters", "flush"],
            ["-m", "bandstand", "migrate"],
            [SEED_SCRIPT, "--users", "1", "--songs", "1"],  # bench's, which writes songs
        )
        started = [_start(data, *args) for args in commands]
        for args, process in zip(commands, started, strict=True):
            said, _ = process.communicate(timeout=120)
            assert process.returncode != 0, (args, said)
            assert len(said.strip().splitlines()) == 1, (args, said)
            assert str(data.resolve()) in said and f"process {first.process.pid}" in said, said
            assert "`bandstand serve`" in said
        assert _listing(data) == before
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=5).status_code == 200
    finally:
        # uvicorn ends by re-raising the SIGTERM it handled.
        assert first.stop() in (0, -signal.SIGTERM), first.output()
    rebuilt = _bandstand(data, "counters", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


def test_the_lock_is_reentrant_in_one_process_and_refuses_another(tmp_path: Path) -> None:
    probe = textwrap.dedent(f"""
        from pathlib import Path
        from bandstand.kit import datalock
        try:
            datalock.acquire(Path({str(tmp_path)!r}), "probe")
        except datalock.DataFolderBusy as exc:
            print(exc)
            raise SystemExit(3)
    """)

    def other_process() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
        )

    with datalock.holding(tmp_path, "test"), datalock.holding(tmp_path, "test again"):
        refused = other_process()
        assert refused.returncode == 3, refused.stderr
        assert f"process {os.getpid()} (`test`" in refused.stdout
    assert other_process().returncode == 0


def test_a_killed_holder_leaves_no_lock_even_with_children_alive(tmp_path: Path) -> None:
    # A server's FFmpeg children must not inherit the lock and keep it after it died.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import subprocess, sys, time
                from pathlib import Path
                from bandstand.kit import datalock
                datalock.acquire(Path({str(tmp_path)!r}), "serve")
                child = subprocess.Popen(["sleep", "60"])
                print(child.pid, flush=True)
                time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    child = int(holder.stdout.readline())
    try:
        with pytest.raises(datalock.DataFolderBusy, match=f"process {holder.pid} "):
            datalock.acquire(tmp_path, "test")
        holder.kill()
        holder.wait(10)
        with datalock.holding(tmp_path, "test"):
            pass
    finally:
        holder.kill()
        holder.wait(10)
        os.kill(child, signal.SIGKILL)


def test_two_data_folders_on_one_sqlite_file_refuse_each_other(tmp_path: Path) -> None:
    """The counters' truth is the database file: a second data folder is no way around."""
    database = tmp_path / "shared" / "bandstand.db"
    database.parent.mkdir()
    env = _env(tmp_path / "second") | {"BANDSTAND_DATABASE_URL": f"sqlite:///{database}"}
    with datalock.holding(tmp_path / "first", "bandstand serve", database):
        refused = subprocess.run(
            [sys.executable, "-m", "bandstand", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 1, refused.stdout + refused.stderr
        said = refused.stderr.strip()
        assert len(said.splitlines()) == 1, said
        assert str(database) in said and f"process {os.getpid()}" in said, said
        assert "BANDSTAND_DATABASE_URL" in said
        assert not database.exists()  # refused before it wrote anything
    done = subprocess.run(
        [sys.executable, "-m", "bandstand", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert database.is_file()


def test_a_planted_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    data = tmp_path / "data"
    data.mkdir()
    (data / datalock.LOCK_FILE).symlink_to(target)
    with pytest.raises(datalock.LockRefused, match="symbolic link"):
        datalock.acquire(data, "test")
    assert target.read_text() == "keep me"


def test_the_lock_file_and_a_new_data_folder_are_the_owners_alone(tmp_path: Path) -> None:
    """A lock file others may open, they may lock (read-only is enough), and so keep the
    server from starting."""
    data = tmp_path / "new" / "data"
    with datalock.holding(data, "test"):
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / datalock.LOCK_FILE).stat().st_mode & 0o777 == 0o600
    old = tmp_path / "old"
    old.mkdir()
    (old / datalock.LOCK_FILE).touch(mode=0o644)
    (old / datalock.LOCK_FILE).chmod(0o644)
    with datalock.holding(old, "test"):
        assert (old / datalock.LOCK_FILE).stat().st_mode & 0o777 == 0o600
