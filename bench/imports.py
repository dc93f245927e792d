"""The imports section: bringing a catalogue in with ``bandstand import``, and how soon its
songs are playable and fully processed.

A catalogue of 1 000 tagged 10-second MP3 files is generated (not timed): about 160
releases of 1 to 14 tracks (singles, EPs and albums, some in ``CD1``/``CD2`` folders),
with title, artist, album, album artist on most, ``n/N`` track numbers, a date and a
genre; four releases in ten carry an embedded cover picture, a quarter of the others a
``cover.jpg`` beside them, the rest get a generated one; a few files are singles with no
album. The audio is stereo chords and pulsing noise (as the media section's), eight
different clips, each file with its own tags (so its own bytes and content hash).

Then ``bandstand import <folder> --owner bench --wait`` runs as a child process against a
fresh data folder (SQLite, the embedded default; with ``--backend postgresql`` or
``all``, also a fresh PostgreSQL database with Redis), with the owner's daily upload
count and storage quota raised to fit the catalogue. The section reads the database as
the import goes, and reports:

- **playable**: tracks ÷ seconds from the command's start until every song's row is
  committed (its original stored: streamable as uploaded); target ≥ 50 tracks/s;
- **fully processed**: tracks ÷ seconds from the command's start until every song is
  ready (HLS at two bit rates, the progressive AAC, loudness, waveform); target ≥ 4
  tracks/s;
- how busy the machine's cores were while processing ran (from ``/proc/stat``): FFmpeg
  runs in worker processes, one per core, so this should be near 100 %;
- what one track's processing costs here, measured alone after the run (``process_audio``
  on one of the files, CPU time, best of three): the machine's ceiling is its cores ÷
  that. This machine's speed varies from run to run (it is shared): the ceiling says how
  fast it was this time.

Alone, from the repository root: ``.venv/bin/python bench/run.py --only imports
[--quick] [--backend sqlite|postgresql|all]`` (``--quick``: 200 files).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from harness import (
    BANDSTAND,
    OUT_DIR,
    BenchError,
    Report,
    Section,
    base_env,
    bench_psql,
    code_version,
    cpu_model,
    log_tail,
    postgresql_env,
    reproduce,
    run_checked,
)
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from PIL import Image, ImageDraw

IMPORTS = "imports"
TITLE = "## Importing a catalogue: playable and fully processed"
FILES, QUICK_FILES = 1000, 200
CLIP_S = 10.0
CLIPS = 8
RATE = 44_100
FRAME = 1152
OWNER = "bench"
PLAYABLE_TARGET, PROCESSED_TARGET = 50.0, 4.0
GENRES = ("Ambient", "Electronic", "Folk", "Jazz", "Rock", "Hip-Hop", "Classical", "Pop")
WORDS = (
    *("midnight", "neon", "dreams", "river", "glass", "harbour", "paper", "moons"),
    *("quiet", "hours", "static", "bloom", "northern", "lights", "velvet", "echo"),
    *("summer", "rain", "golden", "hour", "low", "tide", "satellite", "hearts"),
)
POLL_S = 0.1


@dataclass(frozen=True)
class Calibration:
    cpu_s: float  # one track's processing, alone on one core
    cores: int

    @property
    def ceiling(self) -> float:
        """Tracks per second if every core did nothing else."""
        return self.cores / self.cpu_s


@dataclass(frozen=True)
class Outcome:
    backend: str
    files: int
    songs: int
    ready: int
    failed: int
    releases: int
    playable_s: float
    processed_s: float
    wall_s: float
    busy: float  # share of every core busy while processing ran, 0..1

    @property
    def playable_rate(self) -> float:
        return self.songs / self.playable_s if self.playable_s else 0.0

    @property
    def processed_rate(self) -> float:
        return self.ready / self.processed_s if self.processed_s else 0.0


# --- the catalogue -------------------------------------------------------------------------


def clip(seed: int, seconds: float = CLIP_S) -> bytes:
    """Ten seconds of stereo chords and pulsing noise as a 128 kbit/s MP3, different for
    each seed."""
    t = np.arange(int(seconds * RATE)) / RATE
    left = np.zeros_like(t)
    right = np.zeros_like(t)
    shift = 1 + seed * 0.07
    for frequency in (110, 220, 277, 330, 440, 660, 880, 1320):
        left += 0.05 * np.sin(2 * math.pi * frequency * shift * t)
        right += 0.05 * np.sin(2 * math.pi * frequency * shift * 1.001 * t)
    noise = np.random.default_rng(seed).standard_normal((2, t.size)) * 0.05
    pulse = 0.5 + 0.5 * np.sin(2 * math.pi * (1 + seed % 3) * t)
    audio = np.clip(np.stack([left, right]) + noise * pulse, -1, 1)
    samples = (audio * 32767).round().astype(np.int16)
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=RATE)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "stereo"
        stream.bit_rate = 128_000
        for start in range(0, samples.shape[1], FRAME):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + FRAME]),
                format="s16p",
                layout="stereo",
            )
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def picture(seed: int, fmt: str = "JPEG") -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (600, 600), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        box = (
            sorted(rng.randrange(600) for _ in range(2)),
            sorted(rng.randrange(600) for _ in range(2)),
        )
        draw.rectangle(
            (box[0][0], box[1][0], box[0][1], box[1][1]),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    out = io.BytesIO()
    image.save(out, format=fmt, quality=85)
    return out.getvalue()


def _name(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).title()


def make_catalogue(root: Path, files: int, seed: int = 7) -> int:
    """``files`` tagged MP3s under ``root``; the releases they make."""
    rng = random.Random(seed)
    clips = [clip(n) for n in range(CLIPS)]
    made = releases = 0
    while made < files:
        releases += 1
        artist = f"Artist {rng.randrange(1, 30)}"
        title = f"{_name(rng, rng.randrange(1, 4))} {releases}"
        tracks = min(files - made, rng.choice((1, 1, 3, 4, 5, 8, 10, 12, 14)))
        year = str(rng.randrange(1995, 2026))
        genre = rng.choice(GENRES)
        art = rng.random()
        embedded = picture(releases) if art < 0.4 else None
        discs = 2 if tracks >= 12 and rng.random() < 0.3 else 1
        folder = root / artist / title
        for track in range(1, tracks + 1):
            disc = 1 + (track - 1) * discs // tracks
            where = folder / f"CD{disc}" if discs > 1 else folder
            where.mkdir(parents=True, exist_ok=True)
            path = where / f"{track:02d} {_name(rng, 2)}.mp3"
            path.write_bytes(clips[(made + track) % CLIPS])
            tags = ID3()
            tags.add(TIT2(encoding=3, text=path.stem[3:]))
            tags.add(TPE1(encoding=3, text=artist))
            if releases % 25:  # every 25th release: loose files, no album
                tags.add(TALB(encoding=3, text=title))
                tags.add(TPE2(encoding=3, text=artist))
                tags.add(TRCK(encoding=3, text=f"{track}/{tracks}"))
                if discs > 1:
                    tags.add(TPOS(encoding=3, text=f"{disc}/{discs}"))
            tags.add(TDRC(encoding=3, text=year))
            tags.add(TCON(encoding=3, text=genre))
            if embedded is not None:
                tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=embedded))
            tags.save(path)
        if embedded is None and 0.4 <= art < 0.55:
            (folder / "cover.jpg").write_bytes(picture(releases + 10_000))
        made += tracks
    return releases


# --- the run -------------------------------------------------------------------------------


def _cpu_times() -> tuple[int, int]:
    """Busy and total jiffies of every core since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _create_owner(env: dict[str, str], cwd: Path) -> None:
    script = (
        "import asyncio\n"
        "from bandstand.config import Settings\n"
        "from bandstand.db import create_engine, create_sessionmaker, transaction\n"
        "from bandstand.models import User\n"
        "async def main():\n"
        "    engine = create_engine(Settings().effective_database_url)\n"
        "    async with transaction(create_sessionmaker(engine)) as session:\n"
        f"        session.add(User(fullname='Bench Artist', email='{OWNER}@example.com',"
        f" username='{OWNER}', username_key='{OWNER}', password_hash='-'))\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    run_checked([str(Path(BANDSTAND).with_name("python")), "-c", script], env=env, cwd=cwd)


class _Counts:
    """Songs and their states, read as the import goes (by the database's own client)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._pg = "BANDSTAND_DATABASE_URL" in env
        self._sqlite = Path(env["BANDSTAND_DATA_DIR"]) / "bandstand.db"

    def read(self) -> tuple[int, int, int, int]:
        """Songs, ready, failed, releases."""
        counts = [
            "(SELECT count(*) FROM songs)",
            "(SELECT count(*) FROM songs WHERE status = 'ready')",
            "(SELECT count(*) FROM songs WHERE status = 'failed')",
            "(SELECT count(*) FROM releases)",
        ]
        if self._pg:
            out = bench_psql("SELECT " + " || ',' || ".join(counts))
            songs, ready, failed, releases = (int(v) for v in out.split(","))
            return songs, ready, failed, releases
        if not self._sqlite.exists():
            return 0, 0, 0, 0
        try:
            with sqlite3.connect(f"file:{self._sqlite}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute("SELECT " + ", ".join(counts)).fetchone()
        except sqlite3.OperationalError:
            return 0, 0, 0, 0  # not migrated yet, or busy for a moment
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def run_import(
    backend: str, env: dict[str, str], catalogue: Path, files: int, log: Path
) -> Outcome:
    env = env | {
        "BANDSTAND_UPLOADS_PER_DAY": "1000000",
        "BANDSTAND_STORAGE_QUOTA_BYTES": str(1 << 40),
    }
    cwd = Path(env["BANDSTAND_DATA_DIR"])
    if backend == "sqlite":
        run_checked([str(BANDSTAND), "migrate"], env=env, cwd=cwd)
    _create_owner(env, cwd)
    counts = _Counts(env)
    command = [str(BANDSTAND), "import", str(catalogue), "--owner", OWNER, "--wait"]
    print(f"imports: {backend}: `bandstand import` of {files:,} files", flush=True)
    with log.open("wb") as sink:
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
        playable_s = processed_s = 0.0
        busy_from: tuple[int, int] | None = None
        songs = ready = failed = releases = 0
        try:
            while child.poll() is None:
                time.sleep(POLL_S)
                songs, ready, failed, releases = counts.read()
                now = time.monotonic() - started
                if not playable_s and songs >= files:
                    playable_s = now
                    busy_from = _cpu_times()
                if not processed_s and songs >= files and ready + failed >= songs:
                    processed_s = now
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
        wall_s = time.monotonic() - started
    busy_to = _cpu_times()
    if child.returncode != 0:
        raise BenchError(f"`bandstand import` exited with {child.returncode}:\n{log_tail(log)}")
    songs, ready, failed, releases = counts.read()
    processed_s = processed_s or wall_s
    busy = 0.0
    if busy_from is not None and busy_to[1] > busy_from[1]:
        busy = (busy_to[0] - busy_from[0]) / (busy_to[1] - busy_from[1])
    return Outcome(
        backend,
        files,
        songs,
        ready,
        failed,
        releases,
        playable_s or wall_s,
        processed_s,
        wall_s,
        busy,
    )


def calibrate(catalogue: Path) -> Calibration:
    """One of the catalogue's files processed alone, three times: its CPU time, the best."""
    from bandstand.media.processing import process_audio

    source = next(catalogue.rglob("*.mp3"))
    best = math.inf
    with tempfile.TemporaryDirectory(prefix="bench-imports-calibrate-") as scratch:
        for run in range(3):
            started = time.process_time()
            process_audio(source, Path(scratch) / str(run), length_s=CLIP_S)
            best = min(best, time.process_time() - started)
    return Calibration(best, len(os.sched_getaffinity(0)))


def bench_imports(args: argparse.Namespace) -> tuple[list[Outcome], Calibration]:
    files = QUICK_FILES if args.quick else FILES
    backends = {"all": ["sqlite", "postgresql"], "postgresql": ["postgresql"]}.get(
        args.backend, ["sqlite"]
    )
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as scratch:
        catalogue = Path(scratch) / "catalogue"
        print(f"imports: generating {files:,} tagged 10-s MP3 files", flush=True)
        make_catalogue(catalogue, files)
        for backend in backends:
            data_dir = Path(scratch) / f"data-{backend}"
            data_dir.mkdir()
            log = OUT_DIR / f"imports-{backend}.log"
            if backend == "sqlite":
                outcomes.append(run_import(backend, base_env(data_dir), catalogue, files, log))
            else:
                with postgresql_env(data_dir) as env:
                    outcomes.append(run_import(backend, env, catalogue, files, log))
            shutil.rmtree(data_dir, ignore_errors=True)
        calibration = calibrate(catalogue)
    return outcomes, calibration


# --- the report ----------------------------------------------------------------------------


def _met(value: float, target: float) -> str:
    return "yes" if value >= target else "**no**"


def markdown(
    outcomes: list[Outcome], calibration: Calibration, args: argparse.Namespace, machine_load: float
) -> str:
    options = ["--quick"] if args.quick else []
    if args.backend != "all":
        options += ["--backend", args.backend]
    lines = [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {code_version()}",
        f"- Machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}; load average "
        f"{machine_load:.2f} when the section started",
        f"- Catalogue: {outcomes[0].files:,} generated MP3 files of 10 s (128 kbit/s "
        "stereo), tagged with title, artist, album and album artist, `n/N` track "
        "numbers, date, genre; 4 releases in 10 with an embedded cover, some with "
        "`cover.jpg`, the others given a generated one",
        f"- Command: `bandstand import <folder> --owner {OWNER} --wait` (a fresh data "
        "folder; the owner's daily uploads and storage quota raised to fit), "
        "`BANDSTAND_PROCESSING_CONCURRENCY` unset (one FFmpeg process per core)",
        "- Playable: every song's row committed and its original stored (streamable as "
        "uploaded); fully processed: every song ready (HLS 64 and 160 kbit/s, the "
        "progressive AAC, loudness, waveform); both timed from the command's start",
        "",
        "Reproduce from the repository root:",
        "",
        "```sh",
        reproduce(IMPORTS, *options),
        "```",
        "",
        "| backend | songs | releases | playable s | playable tracks/s | target ≥ 50 "
        "| processed s | processed tracks/s | target ≥ 4 | failed | cores busy while processing |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.backend} | {o.songs:,} | {o.releases:,} | {o.playable_s:.1f} "
            f"| {o.playable_rate:.1f} | {_met(o.playable_rate, PLAYABLE_TARGET)} "
            f"| {o.processed_s:.1f} | {o.processed_rate:.2f} "
            f"| {_met(o.processed_rate, PROCESSED_TARGET)} | {o.failed} | {o.busy:.0%} |"
        )
    lines += [
        "",
        f"One track's processing, alone on one core after the run: "
        f"{calibration.cpu_s * 1000:.0f} ms of CPU (best of three), so this machine could "
        f"process at most {calibration.ceiling:.2f} tracks/s on its {calibration.cores} "
        "cores this time, doing nothing else (this machine is shared, and its speed "
        "varies from run to run: the media section's figure of the same day shows it).",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, machine_load: float) -> Report:
    outcomes, calibration = bench_imports(args)
    summary = [
        f"imports ({o.backend}): playable {o.playable_rate:.1f} tracks/s, fully processed "
        f"{o.processed_rate:.2f} tracks/s"
        for o in outcomes
    ]
    failed = [f"imports {o.backend}" for o in outcomes if o.failed or o.ready < o.files]
    summary.append(f"imports: ceiling this run {calibration.ceiling:.2f} tracks/s")
    return Report(
        markdown(outcomes, calibration, args, machine_load), failed=failed, summary=summary
    )


SECTION = Section(IMPORTS, TITLE, run)

if __name__ == "__main__":  # generate a catalogue only: python bench/imports.py <folder> [files]
    import sys

    target = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else FILES
    print(f"{make_catalogue(target, count)} releases in {target}")
