"""CPU-bound work on every core: processes of our own, not threads.

PyAV holds the GIL while FFmpeg decodes, filters and encodes (measured on PyAV 18: two
threads encoding AAC, metering loudness or decoding MP3 finish no sooner than one thread
doing both in turn), so a thread pool runs FFmpeg on one core however many it has. A
process pool runs it on all of them.

Children are forked from a server process (``forkserver``), never from the parent: the
parent runs an event loop, database pools and threads, none of which survive a fork
intact. The server imports what children run (``preload``) once, so a child starts in
milliseconds rather than importing FFmpeg's bindings and Bandstand anew. A child that
dies (killed, out of memory) breaks the whole pool; the next call makes a new one, and
the call that met the break fails for its caller to retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")
_CONTEXT = multiprocessing.get_context("forkserver")
# What the children run, imported once by the server they are forked from (``preload``).
_PRELOAD: list[str] = []


def preload(*modules: str) -> None:
    """Have the children's server import ``modules`` as it starts (the first pool's first
    call): what a child runs is then imported already. Called by the modules whose
    functions run in children, as they are imported."""
    for module in modules:
        if module not in _PRELOAD:
            _PRELOAD.append(module)
    _CONTEXT.set_forkserver_preload(_PRELOAD)


# How often the parent looks whether a paused child is waiting for it.
_POLL_S = 0.05
# The parent's answer to a pause that ends the child's call (else None: go on).
_STOP = "stop"


class Abandoned(Exception):
    """Raised by a parent's ``pause`` to end the child's call there (its work is no longer
    wanted); the call then raises it in the parent."""


class WorkerDied(RuntimeError):
    """A child process died under a call (killed, out of memory): the call may be tried
    again, in a new pool."""


class Cores:
    """A pool of up to ``workers`` processes, started on first use (a process that never
    processes anything never pays for them)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        # The writing end of the children's lifeline (``_watch_parent``), for as long as
        # the pool lives: only this process holds it.
        self._lifeline: Connection | None = None
        # Its reading end, which each child is given as it starts: kept open while the pool
        # lives, since the pool may start a child again later (a child that has gone).
        self._lifeline_end: Connection | None = None
        self._lock = threading.Lock()
        self._running = 0  # calls under way
        self._stopped: set[ProcessPoolExecutor] = set()  # stopped on purpose (``stop_running``)

    @property
    def running(self) -> int:
        """How many calls are under way."""
        return self._running

    async def start(self) -> None:
        """Start the children now, if not started (each call does it when it must): the
        first start imports what children run (a second or two), in a thread, so the
        event loop goes on meanwhile."""
        if self._pool is None:
            await asyncio.to_thread(self._executor)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                theirs, self._lifeline = _CONTEXT.Pipe(duplex=False)
                self._lifeline_end = theirs
                pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=_CONTEXT,
                    initializer=_watch_parent,
                    initargs=(theirs,),
                )
                # Every child started here, not at a later submit: starting one blocks
                # its caller (the event loop) until the children's server answers.
                for started in [pool.submit(os.getpid) for _ in range(self.workers)]:
                    started.result()
                self._pool = pool
            return self._pool

    def _broke(self, pool: ProcessPoolExecutor) -> BaseException:
        """What a call met when its pool broke: the stop of a process that is stopping
        (as if the call were cancelled: its job goes back, no try counted), else a child
        that died."""
        self._retire(pool)
        if pool in self._stopped:
            return asyncio.CancelledError()
        return WorkerDied("a processing process died")

    def _retire(self, pool: ProcessPoolExecutor | None) -> None:
        """Forget ``pool`` (broken, or shut down): its children go."""
        with self._lock:
            if pool is None or self._pool is not pool:
                return
            self._pool, lifeline, self._lifeline = None, self._lifeline, None
            end, self._lifeline_end = self._lifeline_end, None
        pool.shutdown(wait=False, cancel_futures=True)
        for connection in (lifeline, end):
            if connection is not None:
                connection.close()

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` in a child; what it takes and answers is pickled."""
        await self.start()
        pool = self._executor()
        self._running += 1
        try:
            return await asyncio.wrap_future(pool.submit(func, *args, **kwargs))
        except BrokenProcessPool as exc:
            raise self._broke(pool) from exc
        finally:
            self._running -= 1

    async def run_pausing(
        self,
        func: Callable[..., T],
        *args: Any,
        pause: Callable[[], None] | None,
        **kwargs: Any,
    ) -> T:
        """``func(*args, pause=..., **kwargs)`` in a child, where calling ``pause`` calls
        the given ``pause`` here, in the parent (on a thread of its own: it may block),
        and returns once it has; if the parent's raises ``Abandoned``, the child's raises
        it too, and so does this call. Without one, the child's ``pause`` is None."""
        if pause is None:
            return await self.run(func, *args, pause=None, **kwargs)
        await self.start()
        mine, theirs = _CONTEXT.Pipe()
        pool = self._executor()
        self._running += 1
        try:
            # Pickled later, on the pool's own thread: ``theirs`` stays open till the end.
            future = pool.submit(func, *args, pause=_Pauser(theirs), **kwargs)
            watching = asyncio.to_thread(_answer_pauses, mine, future, pause)
            result, _ = await asyncio.gather(asyncio.wrap_future(future), watching)
            return result
        except BrokenProcessPool as exc:
            raise self._broke(pool) from exc
        finally:
            self._running -= 1
            mine.close()
            theirs.close()

    def stop_running(self) -> None:
        """Kill the children if any call is under way (the process is stopping and will
        not wait for it: a long song would keep it for minutes); idle ones stay. The
        calls end as if cancelled, and the next call starts new children."""
        with self._lock:
            pool = self._pool if self._running else None
        if pool is None:
            return
        self._stopped.add(pool)
        for child in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(OSError, ValueError):
                child.kill()
        self._retire(pool)

    def shutdown(self) -> None:
        """Stop the children once their calls are done."""
        with self._lock:
            pool = self._pool
        if pool is not None:
            pool.shutdown(wait=True)
            self._retire(pool)


def _watch_parent(lifeline: Connection) -> None:
    """In each child, as it starts: leave when the parent is gone. A parent killed (or a
    test process ended abruptly) never shuts its pool down, and its children would
    otherwise wait for work forever."""

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv()  # nothing is ever sent: this returns at the end, by EOFError
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class _Pauser:
    """The child's end of a pause: tell the parent, then wait for its go-ahead."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def __call__(self) -> None:
        self._connection.send(None)
        if self._connection.recv() == _STOP:
            raise Abandoned


def _answer_pauses(connection: Connection, future: Future[Any], pause: Callable[[], None]) -> None:
    """In a parent's thread: run ``pause`` each time the child asks, until it is done."""
    while not future.done():
        try:
            if not connection.poll(_POLL_S):
                continue
            connection.recv()
        except (EOFError, OSError):
            return  # the child is gone; its future says how
        answer = None
        try:
            pause()
        except Abandoned:
            answer = _STOP
        except Exception:
            # The child goes on regardless: a pause is a courtesy to others, not its work.
            log.warning("pause_failed", exc_info=True)
        try:
            connection.send(answer)
        except OSError:
            return


_SHARED: dict[int, Cores] = {}
_SHARED_LOCK = threading.Lock()


def shared(workers: int) -> Cores:
    """This process's pool of ``workers`` processes, made once and kept for its life (its
    children wait idle between jobs, and go when it exits)."""
    with _SHARED_LOCK:
        if workers not in _SHARED:
            _SHARED[workers] = Cores(workers)
        return _SHARED[workers]


def stop_running() -> None:
    """``Cores.stop_running`` for every pool of this process (``shared``)."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
    for cores in pools:
        cores.stop_running()
