"""The media section: how fast one core turns an upload into everything derived from it,
and what the job queue costs per job.

Processing: ``process_audio`` (both HLS bit rates, the progressive M4A, loudness and the
waveform) on 5 minutes of generated audio as MP3, WAV and FLAC, three runs each, pinned to
one CPU; speed = audio length ÷ CPU time (target ≥ 20× real time). The source is stereo
chords and pulsing noise, something the AAC encoder has to work at (pure tones and silence
are easier or, for its fast coder, oddly harder), encoded by FFmpeg as each upload format;
generating it is not timed. The CPU time is that of every thread of the process, so a
helper thread cannot flatter the figure; wall time is shown beside it.

The queue: 10 000 no-op jobs enqueued one after another and run, on the in-process broker
(the embedded default) and through a Redis stream with a receiver in the same process
(what ``bandstand worker`` runs), each acknowledged after it ran.

Alone, from the repository root: ``.venv/bin/python bench/run.py --only media [--quick]``
(``--quick``: one minute of audio, one run, 1 000 jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import av
import numpy as np
from harness import REDIS_URL, Report, Section, code_version, cpu_model, reproduce
from taskiq import Context, TaskiqDepends

from bandstand.config import Settings
from bandstand.media.processing import BITRATES, process_audio
from bandstand.migrations import upgrade
from bandstand.runtime import Runtime
from bandstand.worker.jobs import job

MEDIA = "media"
TITLE = "## Media processing and the job queue"
TARGET = 20.0
AUDIO_S, QUICK_AUDIO_S = 300.0, 60.0
RUNS, QUICK_RUNS = 3, 1
JOBS, QUICK_JOBS = 10_000, 1_000
RATE = 44_100
FRAME = 1152
# format → (container, codec, sample format, what the upload is)
SOURCES = {
    "mp3": ("mp3", "libmp3lame", "s16p", "MP3 (LAME, 128 kbit/s)"),
    "wav": ("wav", "pcm_s16le", "s16", "WAV (16-bit PCM)"),
    "flac": ("flac", "flac", "s16", "FLAC"),
}


@dataclass(frozen=True)
class Processing:
    fmt: str
    seconds: float  # of audio
    runs: int
    wall_s: float  # median
    cpu_s: float  # median

    @property
    def speed(self) -> float:
        """Times real time, by CPU time."""
        return self.seconds / self.cpu_s

    @property
    def wall_speed(self) -> float:
        return self.seconds / self.wall_s


@dataclass(frozen=True)
class QueueResult:
    broker: str
    jobs: int
    seconds: float

    @property
    def per_job_us(self) -> float:
        return self.seconds / self.jobs * 1e6


@dataclass(frozen=True)
class MediaResult:
    processing: list[Processing]
    queue: list[QueueResult]


# --- processing on one core ---------------------------------------------------------------


def music(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    left = np.zeros_like(t)
    right = np.zeros_like(t)
    for frequency in (110, 220, 277, 330, 440, 660, 880, 1320):
        left += 0.05 * np.sin(2 * math.pi * frequency * t)
        right += 0.05 * np.sin(2 * math.pi * frequency * 1.001 * t)
    noise = np.random.default_rng(1).standard_normal((2, t.size)) * 0.05
    pulse = 0.5 + 0.5 * np.sin(2 * math.pi * 2 * t)
    return np.clip(np.stack([left, right]) + noise * pulse, -1, 1).astype(np.float32)


def write_source(path: Path, fmt: str, seconds: float) -> None:
    container_name, codec, sample_format, _ = SOURCES[fmt]
    audio = music(seconds)
    with av.open(str(path), "w", format=container_name) as container:
        stream = container.add_stream(codec, rate=RATE)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "stereo"
        for start in range(0, audio.shape[1], FRAME):
            chunk = audio[:, start : start + FRAME]
            if sample_format.startswith("s16"):
                chunk = (chunk * 32767).round().astype(np.int16)
            if not sample_format.endswith("p"):
                chunk = np.ascontiguousarray(chunk.T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format=sample_format, layout="stereo")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this process to one CPU (the first it may use) while measuring."""
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def bench_processing(seconds: float, runs: int, formats: Sequence[str]) -> list[Processing]:
    """``process_audio`` on a generated ``seconds``-long file in each format, ``runs`` times
    each on one core; the median of the runs."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-media-") as scratch:
        for fmt in formats:
            source = Path(scratch) / f"source.{fmt}"
            write_source(source, fmt, seconds)
            walls: list[float] = []
            cpus: list[float] = []
            decoded = 0.0
            with one_core():
                for run in range(runs):
                    out = Path(scratch) / f"out-{fmt}-{run}"
                    wall, cpu = time.perf_counter(), time.process_time()
                    processed = process_audio(source, out)
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    decoded = processed.duration
                    shutil.rmtree(out)
            results.append(
                Processing(fmt, decoded, runs, statistics.median(walls), statistics.median(cpus))
            )
    return results


# --- the queue's cost per job -------------------------------------------------------------


class _Count:
    done = 0


@job("bench.noop")
async def noop(context: Annotated[Context, TaskiqDepends()]) -> None:
    """Nothing but a count; ``context`` because the queue hands every job its own."""
    _Count.done += 1


async def _measure_queue(settings: Settings, label: str, jobs: int) -> QueueResult:
    # The queue keeps each job in the database until it is done: migrate it, and start the
    # queue with the runtime whose sessions write there, as `bandstand worker` does.
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    runtime = Runtime.build(settings)
    try:
        await runtime.queue.start(runtime.sessionmaker, state=runtime, consume=True)
        _Count.done = 0
        started = time.perf_counter()
        for _ in range(jobs):
            await runtime.queue.enqueue("bench.noop")
        # Polled, not an Event: the job runs wherever the receiver runs it.
        while _Count.done < jobs:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
    finally:
        await runtime.close()
    return QueueResult(label, jobs, elapsed)


async def bench_queue(jobs: int, redis_url: str) -> list[QueueResult]:
    with tempfile.TemporaryDirectory(prefix="bandstand-bench-queue-") as tmp:
        data_dir, secret_key = Path(tmp), "bench-" + "x" * 40
        embedded = Settings(_env_file=None, data_dir=data_dir, secret_key=secret_key)
        redis = Settings(
            _env_file=None,
            data_dir=data_dir,
            secret_key=secret_key,
            redis_url=redis_url,
            redis_namespace=f"bandstand-bench-queue-{time.time_ns()}",
        )
        return [
            await _measure_queue(embedded, "in-process (embedded default)", jobs),
            await _measure_queue(redis, "Redis stream, acknowledged (production)", jobs),
        ]


# --- the section -------------------------------------------------------------------------


def bench_media(args: argparse.Namespace) -> MediaResult:
    seconds = QUICK_AUDIO_S if args.quick else AUDIO_S
    print(f"media: processing {seconds:.0f} s of audio per format on one core", flush=True)
    processing = bench_processing(seconds, QUICK_RUNS if args.quick else RUNS, tuple(SOURCES))
    jobs = QUICK_JOBS if args.quick else JOBS
    print(f"jobs: {jobs:,} no-op jobs per broker", flush=True)
    return MediaResult(processing, asyncio.run(bench_queue(jobs, REDIS_URL)))


def processing_table(results: Sequence[Processing], machine_load: float) -> list[str]:
    rates = " and ".join(f"{b // 1000}" for b in sorted(BITRATES))
    lines = [
        f"- Machine: nproc {os.cpu_count()}, {cpu_model()}; "
        f"load average {machine_load:.2f} when it started",
        f"- Work: `process_audio` = AAC {rates} kbit/s in HLS (fMP4, 6 s) + the M4A "
        "(packets of the highest, not re-encoded) + EBU R 128 loudness with true peak + "
        "1 000-point waveform, from one decode",
        "- Source: generated stereo 44.1 kHz chords and pulsing noise; speed = audio "
        "length ÷ CPU time of the process, pinned to one CPU (median of the runs)",
        "",
        "| source | audio | runs | wall s | CPU s | × real time (CPU) | × real time (wall) "
        f"| target ≥ {TARGET:g}× |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        lines.append(
            f"| {SOURCES[result.fmt][3]} | {result.seconds / 60:.1f} min | {result.runs} "
            f"| {result.wall_s:.2f} | {result.cpu_s:.2f} | {result.speed:.1f}× "
            f"| {result.wall_speed:.1f}× | {'yes' if result.speed >= TARGET else 'no'} |"
        )
    return lines


def queue_table(results: Sequence[QueueResult]) -> list[str]:
    lines = [
        "| broker | no-op jobs | seconds | per job µs | jobs/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.broker} | {r.jobs:,} | {r.seconds:.2f} | {r.per_job_us:,.0f} | "
        f"{r.jobs / r.seconds:,.0f} |"
        for r in results
    ]
    return lines


def markdown(r: MediaResult, args: argparse.Namespace, machine_load: float) -> str:
    jobs = r.queue[0].jobs  # the same count on every broker
    lines = [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {code_version()}; "
        f"load average {machine_load:.2f} when the section started",
        "",
        "Reproduce from the repository root:",
        "",
        "```sh",
        reproduce(MEDIA, *(["--quick"] if args.quick else [])),
        "```",
        "",
        *processing_table(r.processing, machine_load),
        "",
        f"The queue: {jobs:,} no-op jobs enqueued one after another and run, per broker; "
        "Redis on 127.0.0.1, the receiver in the same process as `bandstand worker` runs "
        "it, each job acknowledged after it ran:",
        "",
        *queue_table(r.queue),
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    # Its failures raise; there are no per-request errors to count.
    return Report(markdown(bench_media(args), args, machine_load), failed=[])


SECTION = Section(MEDIA, TITLE, run)
