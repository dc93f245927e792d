"""Each process that runs jobs keeps their working files in a scratch folder of its own,
``<scratch_dir>/jobs-<id>/``, locked (``flock`` on the folder itself) for as long as the
process lives. A folder
whose lock nobody holds belongs to a process that died mid-job (a long song leaves hundreds
of megabytes there): the next process to start removes it, and never a live one's.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

import structlog

from bandstand.kit.ids import new_hex

log = structlog.get_logger(__name__)


class Scratch:
    """This process's own scratch folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock_fd: int | None = None
        self.folder: Path | None = None

    def open(self) -> Path:
        """Make and lock the folder (blocking: call it in a thread)."""
        if self.folder is not None:
            return self.folder
        self._root.mkdir(parents=True, exist_ok=True)
        # Made under another name and locked before it takes its own, so that a sweep never
        # sees it unlocked.
        making = self._root / f"making-{new_hex()}"
        making.mkdir()
        fd = os.open(making, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        folder = self._root / f"jobs-{making.name.removeprefix('making-')}"
        making.rename(folder)
        self._lock_fd, self.folder = fd, folder
        return folder

    def close(self) -> None:
        """Remove the folder and let go of it (blocking: call it in a thread)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def sweep(root: Path, *, everything_unlocked: bool) -> int:
    """Remove the scratch folders of dead processes; with ``everything_unlocked`` (the
    embedded server, alone on its data folder), also what older versions left loose in
    ``root``. Blocking: call it in a thread. Returns how many it removed."""
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.iterdir():
        if path.name.startswith("jobs-") and path.is_dir():
            if _remove_if_orphaned(path):
                removed += 1
        elif everything_unlocked and path.name.startswith("bandstand-job-") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        log.info("orphaned_scratch_removed", folders=removed, root=str(root))
    return removed


def _remove_if_orphaned(folder: Path) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False  # removed meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its process is alive
        shutil.rmtree(folder, ignore_errors=True)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
