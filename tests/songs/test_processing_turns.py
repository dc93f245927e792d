"""Audio bombs cannot stall anyone else: a file that states more than a listener needs is
refused before any of it is decoded, and what is accepted is processed in turns, so that
another user's song is ready in seconds while one user's four bombs are queued, on the
embedded server and with PostgreSQL, Redis and a `bandstand worker`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from bandstand.media.audio import AudioLimits, UnsupportedAudio, probe
from bandstand.worker.cores import shared as shared_cores
from tests import services
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import (
    SONGS,
    Artist,
    artist,
    assert_error,
    error_fields,
    song_files,
    upload,
)

# At most this long from another user's upload to its song being ready (the issue's
# figure: 98.6 s behind four bombs, 1.1 s on an idle server).
READY_WITHIN_S = 5.0


def _silence(rate: int, layout: str, seconds: float) -> bytes:
    """FLAC silence: a few hundred kilobytes, whatever its length, rate or channels."""
    out = io.BytesIO()
    with av.open(out, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, options={"compression_level": "0"})
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        channels = len(stream.layout.channels)
        step = 65_536
        zeros = np.zeros((1, step * channels), dtype=np.int16)
        total = int(seconds * rate)
        for start in range(0, total, step):
            count = min(step, total - start)
            frame = av.AudioFrame.from_ndarray(
                zeros[:, : count * channels], format="s16", layout=layout
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def _stating(flac: bytes, seconds: float) -> bytes:
    """The file with its STREAMINFO stating ``seconds`` of audio (36 bits of total
    samples, after the 20-bit rate, 3-bit channels and 5-bit depth at byte 18)."""
    head = int.from_bytes(flac[18:26], "big")
    rate = head >> 44
    patched = (head & ~((1 << 36) - 1)) | int(seconds * rate)
    return flac[:18] + patched.to_bytes(8, "big") + flac[26:]


@cache
def _bomb() -> bytes:
    """The worst bomb the defaults accept: ten minutes of 192 kHz, 7.1 silence, which
    decodes to 921.6 million samples (the issue's, at 384 kHz, is refused)."""
    return _silence(192_000, "7.1", 600)


async def _refused(harness: Harness, audio: bytes, status: int) -> str:
    who = await artist(harness)
    started = time.monotonic()
    response = await upload(who, audio, fmt="flac")
    elapsed = time.monotonic() - started
    body = assert_error(response, status)
    assert error_fields(response) == {"songFile"}
    # Judged by its header: nothing was decoded (this machine decodes the real bomb, 10
    # minutes of 384 kHz 7.1, in about 0.6 s; its header is all that is read here).
    assert elapsed < 3, elapsed
    message: str = body["message"]
    return message


async def test_the_issues_bomb_is_refused_by_its_sample_rate(harness: Harness) -> None:
    """384 kHz 7.1, stating ten minutes: the issue's bomb, as the check sees it."""
    message = await _refused(harness, _stating(_silence(384_000, "7.1", 0.5), 600), 415)
    assert "above 192 kHz" in message and "384 kHz" in message


def test_the_limits_are_the_operators(tmp_path: Path) -> None:
    """An instance that takes stereo only refuses 5.1, with what to do instead."""
    path = tmp_path / "surround.flac"
    path.write_bytes(_silence(48_000, "5.1", 0.5))
    stereo_only = AudioLimits(
        max_duration_s=60, max_sample_rate=48_000, max_channels=2, max_samples=10**9
    )
    with pytest.raises(UnsupportedAudio, match=r"more than 2 channels.*Mix it down"):
        probe(path, stereo_only)
    assert probe(path, dataclasses.replace(stereo_only, max_channels=6)).channels == 6


async def test_a_file_stating_more_samples_than_a_song_may_is_refused_before_decoding(
    harness: Harness,
) -> None:
    """96 kHz 7.1 for three hours: each of rate, channels and length is allowed, together
    they are eight times the samples of the longest song at 48 kHz stereo."""
    message = await _refused(harness, _stating(_silence(96_000, "7.1", 0.5), 3 * 3600), 400)
    assert "more audio than a song may" in message


async def _status(who: Artist, song_id: str) -> str:
    response = await who.client.get(f"{SONGS}/{song_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    status: str = response.json()["data"]["status"]
    return status


async def _victim_waits(harness: Harness) -> tuple[float, float]:
    """Four bombs from one user, then another user's two-second song: how long its upload
    took, and how long until it was ready. The bombs are deleted afterwards (a queued one
    then costs nothing; the one running finishes)."""
    bomber, victim = await artist(harness, "bomber"), await artist(harness, "victim")
    bombs = []
    for _ in range(4):
        response = await upload(bomber, _bomb(), fmt="flac")
        assert response.status_code == 201, response.text
        bombs.append(response.json()["data"]["_id"])
    started = time.monotonic()
    response = await upload(victim, tone("mp3", 2.0))
    checked = time.monotonic() - started
    assert response.status_code == 201, response.text
    song_id = response.json()["data"]["_id"]
    while (status := await _status(victim, song_id)) == "processing":
        if time.monotonic() - started > 60:
            break
        await asyncio.sleep(0.05)
    ready = time.monotonic() - started
    assert status == "ready"
    for bomb in bombs:
        deleted = await bomber.client.request(
            "DELETE", f"{SONGS}/delete", json={"songId": bomb}, headers=bomber.auth
        )
        assert deleted.status_code == 200, deleted.text
    print(f"victim: upload checked in {checked:.2f} s, ready in {ready:.2f} s")
    return checked, ready


async def test_a_song_is_ready_in_seconds_behind_four_bombs_on_the_embedded_server(
    make_harness: Any,
) -> None:
    harness: Harness = await make_harness(redis_url=None)
    checked, ready = await _victim_waits(harness)
    assert ready <= READY_WITHIN_S, ready
    assert checked <= 2, checked
    await harness.app.state.runtime.queue.settle(timeout_s=120)


async def test_a_bomb_deleted_while_it_is_processed_stops_costing_a_core(
    harness: Harness,
) -> None:
    """Deleting a song stops its processing at its next look (every two seconds), not once
    the file is done (ten seconds of a core here), and nothing of it is stored."""
    bomber = await artist(harness, "bomber")
    response = await upload(bomber, _bomb(), fmt="flac")
    assert response.status_code == 201, response.text
    cores = shared_cores(2 * harness.settings.processing_concurrency)
    deadline = time.monotonic() + 30
    while not cores.running:
        assert time.monotonic() < deadline, "the bomb was never processed"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    started = time.monotonic()
    deleted = await bomber.client.request(
        "DELETE",
        f"{SONGS}/delete",
        json={"songId": response.json()["data"]["_id"]},
        headers=bomber.auth,
    )
    assert deleted.status_code == 200, deleted.text
    await harness.settle()
    assert time.monotonic() - started < 5, time.monotonic() - started
    assert not cores.running
    assert not await song_files(harness)


# `bandstand worker`, as production runs it beside the API.
WORKER = "from bandstand.cli import app; app(['worker'])"


@contextlib.contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_a_song_is_ready_in_seconds_behind_four_bombs_with_a_worker(
    make_harness: Any, tmp_path: Path
) -> None:
    """PostgreSQL, Redis and one `bandstand worker` with one FFmpeg slot, as deployed."""
    if services.DATABASE_URL is None or services.REDIS_URL is None:
        pytest.skip("production-like: needs PostgreSQL and Redis")
    harness: Harness = await make_harness(run_jobs_in_api=False)
    s = harness.settings
    env = os.environ | {
        "BANDSTAND_DATABASE_URL": s.effective_database_url,
        "BANDSTAND_REDIS_URL": s.redis_url or "",
        "BANDSTAND_REDIS_NAMESPACE": s.redis_namespace,
        "BANDSTAND_DATA_DIR": str(s.data_dir),
        "BANDSTAND_SECRET_KEY": s.secret_key.get_secret_value() if s.secret_key else "",
        "BANDSTAND_ENV": "test",
        "BANDSTAND_PROCESSING_CONCURRENCY": "1",
    }
    log = tmp_path / "worker.log"
    with _worker(env, log):
        deadline = time.monotonic() + 30
        while "worker_started" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        checked, ready = await _victim_waits(harness)
        assert ready <= READY_WITHIN_S, (ready, log.read_text()[-3000:])
        assert checked <= 2, checked
        deadline = time.monotonic() + 120
        while await harness.sql("SELECT id FROM pending_jobs"):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
