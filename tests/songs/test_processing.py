"""After an upload: the song turns ready with HLS, a progressive AAC, loudness and a
waveform, all served by signed links; failures end in `failed` with a reason; nothing is
ever left in storage that no row owns."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from bandstand.media.hls import parse_media_playlist
from bandstand.storage.audit import strangers
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import SONGS, Artist, artist, assert_error, uploaded


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


async def _song(who: Artist, song_id: str) -> dict[str, Any]:
    response = await who.client.get(f"{SONGS}/{song_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    song: dict[str, Any] = response.json()["data"]
    return song


async def _audit(harness: Harness) -> list[str]:
    await harness.settle()
    runtime = harness.app.state.runtime
    async with runtime.read_sessionmaker() as session:
        return await strangers(runtime.storage, session)


def _decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


@pytest.mark.parametrize(("fmt", "channels"), [("wav", 1), ("ogg", 2), ("m4a", 2)])
async def test_an_upload_turns_ready_with_every_rendition(
    harness: Harness, jane: Artist, fmt: str, channels: int
) -> None:
    uploaded_song = await uploaded(jane, tone(fmt, 7.0, channels=channels))
    assert uploaded_song["status"] == "processing"
    assert uploaded_song["hls"] is None and uploaded_song["waveform"] is None
    await harness.settle()
    song = await _song(jane, uploaded_song["_id"])
    assert song["status"] == "ready" and song["failureReason"] is None
    assert song["loudness"] < 0 and song["truePeak"] < 1
    assert song["gain"] == pytest.approx(-14 - song["loudness"], abs=0.01)
    kinds = {r["kind"]: r for r in song["renditions"]}
    assert set(kinds) == {"original", "aac"}
    assert kinds["aac"]["contentType"] == "audio/mp4"

    # The progressive file, by its signed link, as a player without HLS plays it.
    progressive = await jane.client.get(kinds["aac"]["url"])
    assert progressive.status_code == 200
    assert _decoded_seconds(progressive.content) == pytest.approx(7.0, abs=0.1)

    # HLS: the master playlist, then each variant's playlist, init and segments by the
    # relative links inside them, the signature carried in the path.
    master = await jane.client.get(song["hls"])
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    lines = master.text.splitlines()
    assert lines[0] == "#EXTM3U"
    variants = [line for line in lines if line and not line.startswith("#")]
    assert len(variants) >= 2
    base = httpx.URL(song["hls"])
    for name in variants:
        playlist = parse_media_playlist((await jane.client.get(str(base.join(name)))).text)
        assert playlist.ended
        assert sum(d for _, d in playlist.segments) == pytest.approx(7.0, abs=0.1)
        data = (await jane.client.get(str(base.join(playlist.map_uri)))).content
        for segment, _ in playlist.segments:
            answer = await jane.client.get(str(base.join(segment)))
            assert answer.status_code == 200
            data += answer.content
        assert _decoded_seconds(data) == pytest.approx(7.0, abs=0.1)

    waveform = await jane.client.get(song["waveform"], headers=jane.auth)
    assert waveform.status_code == 200
    peaks = waveform.json()["data"]["peaks"]
    assert 900 <= len(peaks) <= 1100
    assert max(peaks) == pytest.approx(1.0)
    # A steady tone: level all along (an AAC source may end in a sliver of padding).
    assert sum(peak < 0.5 for peak in peaks) <= 2
    assert await _audit(harness) == []


async def test_home_shows_the_song_ready_once_it_is(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, tone("mp3", 1.0))
    await harness.settle()
    response = await jane.client.get(f"{SONGS}/home", headers=jane.auth)
    [card] = response.json()["data"]["docs"]
    assert card["_id"] == song["_id"] and card["status"] == "ready" and card["hls"]


async def test_the_waveform_needs_a_login_and_a_song(harness: Harness, jane: Artist) -> None:
    song = await uploaded(jane, tone("mp3", 1.0))
    await harness.settle()
    path = f"{SONGS}/{song['_id']}/waveform"
    assert_error(await jane.client.get(path), 401)
    unknown = f"{SONGS}/01a20b7a-d6d5-7076-8854-dd351952016c/waveform"
    assert_error(await jane.client.get(unknown, headers=jane.auth), 404)
    for malformed in ("not-an-id", "1" * 40, "%00"):
        answer = await jane.client.get(f"{SONGS}/{malformed}/waveform", headers=jane.auth)
        assert_error(answer, 400)


async def _break_original(harness: Harness, song: dict[str, Any]) -> Path:
    """Send a ready song back to processing with its original gone from storage: its job
    fails on every try."""
    (original,) = [r for r in song["renditions"] if r["kind"] == "original"]
    key = "/".join(httpx.URL(original["url"]).path.split("/")[6:9])
    path: Path = harness.settings.media_dir / key
    await asyncio.to_thread(path.unlink)
    await harness.sql("UPDATE songs SET status = 'processing' WHERE audio_key = :key", key=key)
    return path


async def test_a_job_that_always_fails_ends_failed_with_its_reason(make_harness: Any) -> None:
    harness: Harness = await make_harness(job_max_tries=2)
    who = await artist(harness)
    song = await uploaded(who, tone("mp3", 1.0))
    await harness.settle()
    await _break_original(harness, song)
    await harness.app.state.runtime.queue.enqueue("songs.process", song["_id"])
    await harness.settle()
    failed = await _song(who, song["_id"])
    assert failed["status"] == "failed"
    assert "failed 2 times" in failed["failureReason"]
    assert "/" not in failed["failureReason"]  # no paths or internals


async def test_a_file_ffmpeg_cannot_process_fails_at_once_with_its_reason(
    harness: Harness, jane: Artist
) -> None:
    song = await uploaded(jane, tone("mp3", 1.0))
    await harness.settle()
    path = await _break_original(harness, song)
    # Audio's first bytes, and nothing decodable after them.
    await asyncio.to_thread(path.write_bytes, b"ID3" + b"\x00" * 4096)
    await harness.app.state.runtime.queue.enqueue("songs.process", song["_id"])
    await harness.settle()
    failed = await _song(jane, song["_id"])
    assert failed["status"] == "failed"
    assert failed["failureReason"]


async def test_a_song_deleted_while_processing_leaves_no_file(
    harness: Harness, jane: Artist
) -> None:
    song = await uploaded(jane, tone("wav", 20.0))
    deleted = await jane.client.request(
        "DELETE", f"{SONGS}/delete", json={"songId": song["_id"]}, headers=jane.auth
    )
    assert deleted.status_code == 200
    await harness.settle()
    root = harness.settings.media_dir
    assert not [p for p in harness.media_files() if p.relative_to(root).parts[0] != "avatars"]
    assert await _audit(harness) == []


async def test_the_audit_finds_a_stranger(harness: Harness, jane: Artist) -> None:
    await uploaded(jane, tone("mp3", 1.0))
    assert await _audit(harness) == []
    stray = harness.settings.media_dir / "songs" / ("f" * 32) / "original.mp3"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left behind")
    assert await _audit(harness) == [f"songs/{'f' * 32}/original.mp3"]
