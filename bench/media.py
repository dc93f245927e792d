"""How fast one core turns an upload into everything derived from it: both HLS bit rates,
the progressive M4A, loudness and the waveform (``process_audio``). Target: ≥ 20× real
time.

The source is generated here, minutes of stereo chords and pulsing noise (something the
AAC encoder has to work at; pure tones and silence are easier or, for its fast coder,
oddly harder), then encoded by FFmpeg as each upload format. Generating is not timed.
The process is pinned to one CPU while it measures, and the figure is the audio's length
over the CPU time spent (all threads of the process, so a helper thread cannot flatter
it); wall time is shown beside it.

Run from the repository root with the project's venv:
``.venv/bin/python bench/media.py [--seconds 300] [--runs 3] [--formats mp3,wav,flac]``.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bandstand.media.processing import BITRATES, process_audio

TARGET = 20.0
RATE = 44_100
# format → (container, codec, sample format, what the upload is)
SOURCES = {
    "mp3": ("mp3", "libmp3lame", "s16p", "MP3 (LAME, 128 kbit/s)"),
    "wav": ("wav", "pcm_s16le", "s16", "WAV (16-bit PCM)"),
    "flac": ("flac", "flac", "s16", "FLAC"),
    "m4a": ("ipod", "aac", "fltp", "M4A (AAC, 128 kbit/s)"),
    "ogg": ("ogg", "libvorbis", "fltp", "Ogg Vorbis"),
}
FRAME = 1152


@dataclass(frozen=True)
class MediaResult:
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
    if codec == "libvorbis" and codec not in av.codecs_available:
        codec = "vorbis"
    audio = music(seconds)
    with av.open(str(path), "w", format=container_name) as container:
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        stream = container.add_stream(codec, rate=RATE, options=options)
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


def bench_media(
    seconds: float = 300.0, runs: int = 3, formats: Sequence[str] = ("mp3", "wav", "flac")
) -> list[MediaResult]:
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
                MediaResult(fmt, decoded, runs, statistics.median(walls), statistics.median(cpus))
            )
    return results


def render(results: Sequence[MediaResult]) -> str:
    rates = " and ".join(f"{b // 1000}" for b in sorted(BITRATES))
    lines = [
        "## Media processing: renditions, loudness and waveform on one core",
        "",
        f"- Machine: nproc {os.cpu_count()}, {_cpu_model()}; "
        f"load average {os.getloadavg()[0]:.2f} when it started",
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
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the source")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="mp3,wav,flac", help=f"of {','.join(SOURCES)}")
    args = parser.parse_args()
    formats = [name for name in args.formats.split(",") if name]
    unknown = set(formats) - set(SOURCES)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    print(render(bench_media(args.seconds, args.runs, formats)))


if __name__ == "__main__":
    main()
