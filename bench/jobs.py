"""What the job queue costs per job: a no-op job enqueued and run, many at once, on the
in-process broker (the embedded default) and through a Redis stream with a receiver in
the same process (what `bandstand worker` runs), acknowledged after each run.

Run from the repository root with the project's venv:
``.venv/bin/python bench/jobs.py [--jobs 5000] [--redis redis://127.0.0.1:6379/15]``.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bandstand.config import Settings
from bandstand.worker.jobs import job
from bandstand.worker.queue import Queue


class _Count:
    done = 0


@job("bench.noop")
async def noop() -> None:
    _Count.done += 1


@dataclass(frozen=True)
class QueueResult:
    broker: str
    jobs: int
    seconds: float

    @property
    def per_job_us(self) -> float:
        return self.seconds / self.jobs * 1e6


async def _measure(settings: Settings, label: str, jobs: int) -> QueueResult:
    queue = Queue(settings)
    await queue.start(Any, consume=True)  # type: ignore[arg-type]  # no job needs a runtime
    try:
        _Count.done = 0
        started = time.perf_counter()
        for _ in range(jobs):
            await queue.enqueue("bench.noop")
        # Polled, not an Event: the job runs wherever the receiver runs it.
        while _Count.done < jobs:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
    finally:
        await queue.stop()
    return QueueResult(label, jobs, elapsed)


async def bench_queue(jobs: int, redis_url: str) -> list[QueueResult]:
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-queue-") as tmp:
        base = {"data_dir": Path(tmp), "secret_key": "bench-" + "x" * 40}
        embedded = Settings(_env_file=None, **base)  # type: ignore[call-arg]
        redis = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=redis_url,
            redis_namespace=f"bandstand-bench-queue-{time.time_ns()}",
            **base,
        )
        return [
            await _measure(embedded, "in-process (embedded default)", jobs),
            await _measure(redis, "Redis stream, acknowledged (production)", jobs),
        ]


def render(results: list[QueueResult]) -> str:
    lines = [
        "| broker | no-op jobs | seconds | per job µs | jobs/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.broker} | {r.jobs:,} | {r.seconds:.2f} | {r.per_job_us:,.0f} | "
        f"{r.jobs / r.seconds:,.0f} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    print(render(asyncio.run(bench_queue(args.jobs, args.redis))))


if __name__ == "__main__":
    main()
