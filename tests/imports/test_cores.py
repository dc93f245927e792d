"""The processes FFmpeg runs in (``worker/cores.py``), which an import checks its files in
and processing renders in: calls answered, pauses passed to the parent, a child that dies
costs one call, and children never outlive their parent."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bandstand.worker.cores import Cores, WorkerDied

pytestmark = pytest.mark.backend_free


def pausing(times: int, pause: Callable[[], None] | None) -> int:
    """In a child: call ``pause`` ``times`` times."""
    for _ in range(times):
        assert pause is not None
        pause()
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def linger() -> None:
    time.sleep(60)


async def test_calls_run_in_children_and_pauses_run_in_the_parent() -> None:
    cores = Cores(2)
    try:
        assert await cores.run(os.getpid) != os.getpid()
        seen: list[int] = []
        child = await cores.run_pausing(
            pausing, 3, pause=lambda: seen.append(threading.get_ident())
        )
        assert child != os.getpid() and len(seen) == 3
        assert threading.get_ident() not in seen  # on a thread of its own: it may block
        assert await cores.run_pausing(pausing, 0, pause=None) != os.getpid()
    finally:
        cores.shutdown()


async def test_a_child_that_dies_costs_its_call_only() -> None:
    cores = Cores(1)
    try:
        with pytest.raises(WorkerDied):
            await cores.run(die)
        assert await cores.run(os.getpid) != os.getpid()  # a new pool
    finally:
        cores.shutdown()


async def test_a_stopping_process_does_not_wait_for_its_children() -> None:
    """What a process stopping does (``Queue.stop``): a call under way is ended, as if
    cancelled (its job goes back to the queue, no try counted); idle children are kept."""
    cores = Cores(1)
    try:
        await cores.run(os.getpid)
        idle = cores._pool
        cores.stop_running()
        assert cores._pool is idle  # nothing was running
        call = asyncio.ensure_future(cores.run(linger))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        cores.stop_running()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert time.monotonic() - started < 5
        assert await cores.run(os.getpid) != os.getpid()
    finally:
        cores.shutdown()


def nap() -> int:
    time.sleep(0.5)
    return os.getpid()


async def test_children_started_late_still_watch_their_parent() -> None:
    """The pool may start a child after the first ones (one that finished its first call
    at once serves the next instead): it is given the parent's lifeline too."""
    cores = Cores(3)
    try:
        for _ in range(2):
            pids = await asyncio.gather(*(cores.run(nap) for _ in range(3)))
            assert len(set(pids)) == 3
    finally:
        cores.shutdown()


def test_children_leave_with_their_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, os, sys, time
            from bandstand.worker.cores import Cores

            async def main():
                cores = Cores(2)
                await cores.run(os.getpid)
                print(" ".join(str(pid) for pid in cores._pool._processes), flush=True)
                time.sleep(60)

            if __name__ == "__main__":
                asyncio.run(main())
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2
    finally:
        parent.kill()  # no clean-up of its own can run
        parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return status != "Z"
