"""Every series Bandstand records as things happen, in one place.

Each has a label, so no value exists before its first use: ``enable`` runs as a process
starts (``app.py``, ``Queue.start``), before anything is recorded, and from then on every
value lives in the shared folder that ``/metrics`` adds up across processes
(prometheus-client's multiprocess mode). Until then, and in a process that never enables
them, values are kept in memory and read by nobody: recording costs next to nothing.
What is read rather than counted (the queue, the counter store) is ``collectors.py``'s.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram, values
from sqlalchemy import event
from sqlalchemy.pool import Pool

HTTP_REQUESTS = Counter(
    "bandstand_http_requests_total",
    "Requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "bandstand_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOB_DURATION = Histogram(
    "bandstand_job_duration_seconds",
    "Time one try of a job ran, by kind and outcome (done, retry, failed).",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
JOB_FAILURES = Counter(
    "bandstand_job_failures_total", "Jobs given up after their last try, by kind.", ["job"]
)
JOB_RETRIES = Counter(
    "bandstand_job_retries_total", "Failed tries that will be tried again, by kind.", ["job"]
)
FLUSHED = Counter(
    "bandstand_counter_flushed_total",
    "Counters written to the database by flushes (applied or recounted), by store.",
    ["store"],
)
LAST_FLUSH = Gauge(
    "bandstand_counter_last_flush_timestamp_seconds",
    "When the latest counter flush finished (Unix time).",
    ["store"],
    multiprocess_mode="max",
)
DB_POOL_IN_USE = Gauge(
    "bandstand_db_pool_connections_in_use",
    "Database connections checked out of the pools, summed over live processes.",
    ["pool"],
    multiprocess_mode="livesum",
)
CACHE = Counter(
    "bandstand_cache_requests_total",
    "Answers asked of the in-process caches, by result (hit or miss).",
    ["result"],
)
PROCESSING_CPU = Counter(
    "bandstand_processing_cpu_seconds_total",
    "Seconds of CPU spent processing songs (renditions, loudness, waveform), by job kind.",
    ["job"],
)
PROCESSING_AUDIO = Counter(
    "bandstand_processing_audio_seconds_total",
    "Seconds of audio processed, by job kind: CPU seconds per audio second is the rate "
    "of bandstand_processing_cpu_seconds_total over this one's.",
    ["job"],
)
EVENTS = Counter(
    "bandstand_events_total",
    "Things users did: login, signup, upload, play, like.",
    ["event"],
)

_enabled: Path | None = None


def process_id() -> str:
    """Who writes a file in the shared folder: the host too, as processes of several
    containers may share one folder and have the same pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def enable(folder: Path) -> None:
    """Record into ``folder`` from now on (once per process; the same folder each time).
    Files left by processes of this host that are gone are removed first: what a dead
    process counted disappears from the sums (Prometheus reads the drop as a restart)."""
    global _enabled
    if _enabled is not None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    _sweep_dead(folder)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    values.ValueClass = values.MultiProcessValue(process_id)  # type: ignore[no-untyped-call]
    _enabled = folder
    in_use = DB_POOL_IN_USE.labels("sqlalchemy")
    event.listen(Pool, "checkout", lambda *_: in_use.inc())
    event.listen(Pool, "checkin", lambda *_: in_use.dec())


def enabled() -> Path | None:
    return _enabled


def _sweep_dead(folder: Path) -> None:
    host = socket.gethostname()
    for file in folder.glob("*.db"):
        owner = file.stem.rsplit("_", 1)[-1]
        name, _, pid = owner.rpartition("-")
        if name == host and pid.isdigit() and not _alive(int(pid)):
            file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead() -> None:
    """As the process stops: its live gauges (connections in use) leave the sums."""
    if _enabled is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process_id(), str(_enabled))  # type: ignore[no-untyped-call]


def on_commit(event: str, count: int = 1) -> Callable[[], Awaitable[None]]:
    """An ``after_commit`` hook that counts ``event``: what was rolled back never happened."""

    async def count_it() -> None:
        EVENTS.labels(event).inc(count)

    return count_it
