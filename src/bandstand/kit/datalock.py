"""One process at a time on an embedded data folder.

On the embedded default the counter deltas of the last minute live in the server's memory,
and a server rebuilds every counter when it starts: a second process on the same folder
(a second ``serve``, even one that then fails to bind its port, or ``counters rebuild``)
would make the first one's pending deltas count twice. So whoever writes there holds an
exclusive lock on ``<data dir>/bandstand.lock`` for as long as it runs, and a second one
refuses at once, naming the holder, before it touches anything.

The lock is ``flock``: the kernel drops it when its holder dies however it dies, so a
crash never leaves a stale lock. Within one process the lock is re-entrant (the CLI
takes it before uvicorn starts the app, whose start-up takes it again).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "bandstand.lock"


class DataFolderBusy(Exception):
    """Another process holds the data folder."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(
            f"the data folder {folder} is in use by {holder or 'another process'}: "
            "stop it first, or give this one its own BANDSTAND_DATA_DIR."
        )


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def acquire(folder: Path, command: str) -> None:
    """Take the folder for this process (again, if it has it), or raise DataFolderBusy.
    ``command`` names this process to whoever is refused (``bandstand serve``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / LOCK_FILE).resolve()
    with _guard:
        if (held := _held.get(path)) is not None:
            held.count += 1
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DataFolderBusy(path.parent, holder) from None
        except BaseException:
            os.close(fd)
            raise
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} (`{command}`, since {since})".encode(), 0)
        _held[path] = _Held(fd, 1)


def release(folder: Path) -> None:
    path = (folder / LOCK_FILE).resolve()
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
def holding(folder: Path, command: str) -> Iterator[None]:
    """The folder is this process's for the ``with`` block."""
    acquire(folder, command)
    try:
        yield
    finally:
        release(folder)
