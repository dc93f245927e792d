"""Files built to hurt: days of silence in a few kilobytes, impossible headers, video,
codecs browsers cannot play, and storage that fails half-way."""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from typing import Any

import av
import numpy as np
import pytest

from bandstand.storage import StorageError
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import (
    artist,
    assert_error,
    error_fields,
    scratch_files,
    song_count,
    song_files,
    stored_folders,
    upload,
)


def _encode(container_format: str, codec: str, seconds: float, *, video: bool = False) -> bytes:
    out = io.BytesIO()
    rate = 44_100
    with av.open(out, "w", format=container_format) as container:
        audio = container.add_stream(codec, rate=rate)
        audio.layout = "stereo"
        picture = None
        if video:
            picture = container.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        sample_format = audio.codec_context.format.name
        step = audio.codec_context.frame_size or 1152
        for start in range(0, int(seconds * rate), step):
            planar = sample_format.endswith("p")
            shape = (2, step) if planar else (1, step * 2)
            data = np.zeros(shape, dtype=np.int16 if "s16" in sample_format else np.float32)
            frame = av.AudioFrame.from_ndarray(data, format=sample_format, layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
        if picture is not None:
            for index in range(int(seconds * 10)):
                image = av.VideoFrame.from_ndarray(
                    np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24"
                )
                image.pts = index
                for packet in picture.encode(image):
                    container.mux(packet)
            for packet in picture.encode(None):
                container.mux(packet)
    return out.getvalue()


def _with_sample_rate(wav: bytes, rate: int) -> bytes:
    # RIFF header: sample rate at byte 24, byte rate at 28 (little-endian, unsigned 32-bit).
    channels, bits = struct.unpack_from("<H", wav, 22)[0], struct.unpack_from("<H", wav, 34)[0]
    patched = bytearray(wav)
    struct.pack_into("<II", patched, 24, rate, min(rate * channels * bits // 8, 2**32 - 1))
    return bytes(patched)


async def _refused(harness: Harness, audio: bytes, status: int, fmt: str = "mp3") -> dict[str, Any]:
    who = await artist(harness)
    response = await upload(who, audio, fmt=fmt)
    body = assert_error(response, status)
    assert error_fields(response) == {"songFile"}
    assert await song_count(harness) == 0
    assert await song_files(harness) == [] and scratch_files(harness) == []
    return body


async def test_audio_longer_than_a_song_may_be_is_refused_quickly(make_harness: Any) -> None:
    harness: Harness = await make_harness(audio_max_duration_s=3)
    body = await _refused(harness, tone("flac", 6.0), 400, fmt="flac")
    assert "longer" in body["message"]


@pytest.mark.parametrize("rate", [1, 4_000, 2_000_000_000])
async def test_an_impossible_sample_rate_is_refused(harness: Harness, rate: int) -> None:
    await _refused(harness, _with_sample_rate(tone("wav", 1.0), rate), 400, fmt="wav")


async def test_a_video_is_not_a_song(harness: Harness) -> None:
    await _refused(harness, _encode("mp4", "aac", 1.0, video=True), 415, fmt="m4a")


@pytest.mark.parametrize(("container", "codec"), [("wav", "mp2"), ("wav", "adpcm_ms")])
async def test_codecs_a_browser_cannot_play_from_that_container_are_refused(
    harness: Harness, container: str, codec: str
) -> None:
    await _refused(harness, _encode(container, codec, 1.0), 415, fmt="wav")


async def test_storage_failing_mid_upload_leaves_nothing(harness: Harness) -> None:
    who = await artist(harness)
    storage = harness.app.state.runtime.storage

    async def broken(*_: Any) -> None:
        raise StorageError("the object store is down")

    storage.put_file = broken
    response = await upload(who, tone("mp3", 0.5))
    assert response.status_code == 500 and response.json()["success"] is False
    assert await song_count(harness) == 0
    assert await song_files(harness) == [] and scratch_files(harness) == []


async def test_a_deleted_songs_files_go_only_after_the_rows_are_gone(harness: Harness) -> None:
    who = await artist(harness)
    response = await upload(who, tone("mp3", 0.5))
    song = response.json()["data"]
    # Processed first: the original, every rendition and every cover size are there to go.
    stored = await stored_folders(harness)
    expected = sorted(f"{folder}/{name}" for folder, names in stored.items() for name in names)
    assert len(stored) == 2 and len(expected) > 10
    runtime = harness.app.state.runtime
    storage, queue = runtime.storage, runtime.queue
    real_delete, real_hand_over = storage.delete, queue.hand_over
    rows_when_deleting: list[tuple[str, int]] = []
    rows_when_enqueued: list[tuple[str, int]] = []

    async def watching(key: str) -> None:
        rows_when_deleting.append((key, await song_count(harness)))
        await real_delete(key)

    async def handing_over(job_id: Any, name: str, args: Any) -> None:
        rows_when_enqueued.append((name, await song_count(harness)))
        await real_hand_over(job_id, name, args)

    storage.delete = watching
    queue.hand_over = handing_over
    deleted = await who.client.request(
        "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=who.auth
    )
    assert deleted.status_code == 200
    # The deleting job is queued once the delete has committed, never before ...
    assert rows_when_enqueued == [("songs.delete_files", 0)]
    await harness.settle()
    # ... and it removes every file of the song, each with the rows already gone.
    assert sorted(rows_when_deleting) == [(key, 0) for key in expected]
    assert await song_files(harness) == []


async def test_a_wav_of_an_unknown_codec_is_refused(harness: Harness) -> None:
    wav = bytearray(tone("wav", 1.0))
    struct.pack_into("<H", wav, 20, 0x1234)  # the format tag: no such codec
    await _refused(harness, bytes(wav), 415, fmt="wav")
