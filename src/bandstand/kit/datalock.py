"""One process at a time on an embedded data folder.

On the embedded default the counter deltas of the last minute live in the server's memory,
and a server rebuilds every counter when it starts: a second process on the same folder
(a second ``serve``, even one that then fails to bind its port, or ``counters rebuild``)
would make the first one's pending deltas count twice. So whoever writes there holds an
exclusive lock on ``<data dir>/bandstand.lock`` for as long as it runs, and a second one
refuses at once, naming the holder, before it touches anything.

The counters' truth is the SQLite file, which BANDSTAND_DATABASE_URL may put outside the
data folder: so the database file is locked too, by ``<database>.lock`` beside it, and two
servers with different data folders on one database refuse each other as well.

The lock is ``flock``: the kernel drops it when its holder dies however it dies, so a
crash never leaves a stale lock. Within one process the lock is re-entrant (the CLI
takes it before uvicorn starts the app, whose start-up takes it again).

The lock file is opened without following a symlink (one planted there would have its
target truncated) and is the owner's alone (mode 0600): a file other users may open, they
may lock, and a lock held read-only by anyone would keep the server from starting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "bandstand.lock"


class LockRefused(Exception):
    """The lock cannot be taken; the message says what the operator should do."""


class DataFolderBusy(LockRefused):
    """Another process holds the data folder (or the database file)."""

    def __init__(self, folder: Path, holder: str, database: Path | None = None) -> None:
        self.folder = folder
        self.holder = holder
        what, setting = f"the data folder {folder}", "BANDSTAND_DATA_DIR"
        if database is not None:
            what, setting = f"the database {database}", "BANDSTAND_DATABASE_URL"
        super().__init__(
            f"{what} is in use by {holder or 'another process'}: "
            f"stop it first, or give this one its own {setting}."
        )


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_files(folder: Path, database: Path | None = None) -> list[Path]:
    """The lock files for ``folder`` and, on SQLite, its ``database`` file, in the order
    they are taken. Their folders are resolved, never the lock files themselves."""
    files = [folder.resolve() / LOCK_FILE]
    if database is not None:
        target = database.resolve()
        files.append(target.with_name(f"{target.name}.lock"))
    return files


def acquire(folder: Path, command: str, database: Path | None = None) -> None:
    """Take the folder, and the SQLite ``database`` file if given, for this process (again,
    if it has them), or raise LockRefused. ``command`` names this process to whoever is
    refused (``bandstand serve``)."""
    # A new data folder is the owner's alone: it holds the secret key and the database.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    taken: list[Path] = []
    try:
        for path in lock_files(folder, database):
            _acquire_one(path, command)
            taken.append(path)
    except BaseException:
        for path in reversed(taken):
            _release_one(path)
        raise


def _acquire_one(path: Path, command: str) -> None:
    with _guard:
        if (held := _held.get(path)) is not None:
            held.count += 1
            return
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise LockRefused(
                f"{path} is a symbolic link: remove it (Bandstand makes its own lock file)."
            ) from None
        try:
            os.fchmod(fd, 0o600)  # made 0644 by an older version
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
            os.close(fd)
            database = None if path.name == LOCK_FILE else path.with_suffix("")
            raise DataFolderBusy(path.parent, holder, database) from None
        except BaseException:
            os.close(fd)
            raise
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} (`{command}`, since {since})".encode(), 0)
        _held[path] = _Held(fd, 1)


def release(folder: Path, database: Path | None = None) -> None:
    for path in reversed(lock_files(folder, database)):
        _release_one(path)


def _release_one(path: Path) -> None:
    with _guard:
        held = _held.get(path)
        if held is None:
            return
        held.count -= 1
        if held.count:
            return
        del _held[path]
        # The file stays: a process that opened it a moment ago would otherwise lock a
        # file nobody else can see.
        os.ftruncate(held.fd, 0)
        os.close(held.fd)  # closing the only descriptor drops the lock


@contextlib.contextmanager
def holding(folder: Path, command: str, database: Path | None = None) -> Iterator[None]:
    """The folder (and the SQLite ``database`` file) is this process's for the block."""
    acquire(folder, command, database)
    try:
        yield
    finally:
        release(folder, database)
