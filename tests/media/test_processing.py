"""process_audio on real audio made here: every accepted format, mono and stereo, one
second and three minutes; the HLS it writes is parsed and every rendition decoded."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from bandstand.media import hls
from bandstand.media.processing import (
    BITRATES,
    ProcessedAudio,
    ProcessingError,
    _Converter,
    content_type,
    process_audio,
)
from bandstand.storage import check_key
from tests.media.signals import LAYOUTS, channels, encode, music, sine
from tests.media.support import decoded, process, top_level_boxes

pytestmark = pytest.mark.backend_free

FORMATS = ("mp3", "wav", "flac", "ogg", "opus", "m4a", "aac")
# Long enough for many whole segments and a short last one (a song's minutes would show
# nothing more, at three times the cost).
LONG_S = 63.5
# AAC starts with 1024 samples of encoder delay and ends on a whole frame of 1024. The
# init segment's edit list says so, but the EXTINF durations count both and FFmpeg's HLS
# demuxer does not apply it (players differ): through HLS it runs up to two frames long.
AAC_SLACK_S = 2 * 1024 / 44_100 + 0.01


@pytest.fixture(scope="module")
def long_song(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProcessedAudio, Path]:
    """A minute of stereo FLAC (quick to make, unlike MP3), processed once for the
    tests that need a long file."""
    return process(tmp_path_factory.mktemp("long"), encode(music(LONG_S), "flac", rate=44_100))


def _rate(fmt: str) -> int:
    return 48_000 if fmt == "opus" else 44_100


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gets_every_rendition(tmp_path: Path, fmt: str) -> None:
    rate = _rate(fmt)
    result, out = process(tmp_path, encode(music(1.0, rate=rate), fmt, rate=rate))

    assert set(os.listdir(out)) == set(result.files)
    assert result.sample_rate == rate
    assert result.channels == 2
    assert result.duration == pytest.approx(1.0, abs=0.05)
    assert [v.bitrate for v in result.variants] == sorted(BITRATES)
    for variant in result.variants:
        seconds, variant_rate, variant_channels = decoded(out / variant.playlist, "hls")
        assert seconds == pytest.approx(result.duration, abs=AAC_SLACK_S)
        assert (variant_rate, variant_channels) == (rate, 2)
    # CODECS="mp4a.40.2" in the master playlist says AAC-LC.
    with av.open(str(out / result.progressive)) as container:
        assert container.streams.audio[0].codec_context.profile == "LC"
    seconds, progressive_rate, progressive_channels = decoded(out / result.progressive)
    # The M4A's edit list trims the encoder delay: it lasts what the source lasts.
    assert seconds == pytest.approx(result.duration, abs=0.03)
    assert (progressive_rate, progressive_channels) == (rate, 2)


@pytest.mark.parametrize("fmt", ["mp3", "flac"])
def test_mono_stays_mono(tmp_path: Path, fmt: str) -> None:
    result, out = process(tmp_path, encode(sine(1.0, rate=44_100), fmt, rate=44_100))

    assert result.channels == 1
    for name in (*(v.playlist for v in result.variants), result.progressive):
        assert decoded(out / name, "hls" if name.endswith(".m3u8") else None)[2] == 1


@pytest.mark.parametrize(
    ("source_rate", "channel_count", "rate", "layout_channels"),
    [
        (96_000, 2, 48_000, 2),  # high resolution comes down to 48 kHz
        (88_200, 2, 44_100, 2),  # ... or to 44.1 kHz, its own family
        (22_050, 1, 44_100, 1),
        (8_000, 1, 48_000, 1),  # low rates go up: every player takes 44.1/48 kHz AAC
        (48_000, 6, 48_000, 2),  # 5.1 is mixed down to stereo
    ],
)
def test_rate_and_layout_are_made_playable(
    tmp_path: Path, source_rate: int, channel_count: int, rate: int, layout_channels: int
) -> None:
    audio = channels(sine(1.0, rate=source_rate, frequency=440), channel_count)
    result, out = process(tmp_path, encode(audio, "flac", rate=source_rate))

    assert (result.sample_rate, result.channels) == (rate, layout_channels)
    seconds, decoded_rate, decoded_channels = decoded(out / result.progressive)
    assert (decoded_rate, decoded_channels) == (rate, layout_channels)
    assert seconds == pytest.approx(1.0, abs=0.03)


def test_a_source_that_changes_rate_and_layout_midway(tmp_path: Path) -> None:
    # Two MP3s end to end (as some tools join files): 44.1 kHz stereo, then 48 kHz mono.
    joined = encode(music(1.0), "mp3", rate=44_100) + encode(sine(1.0), "mp3", rate=48_000)
    result, out = process(tmp_path, joined)

    assert result.duration == pytest.approx(2.0, abs=0.1)
    for variant in result.variants:
        seconds, _, _ = decoded(out / variant.playlist, "hls")
        assert seconds == pytest.approx(result.duration, abs=AAC_SLACK_S)


def test_frames_are_timed_once_across_a_change_of_rate() -> None:
    # What the resamplers held at the change is handed on once, and timed once: each frame
    # starts where the one before it ended.
    converter = _Converter(44_100, "stereo")
    out: list[av.AudioFrame] = []
    for rate, count in ((48_000, 2), (44_100, 1)):
        for _ in range(rate // 1152):
            silent = np.zeros((count, 1152), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(silent, format="fltp", layout=LAYOUTS[count])
            frame.sample_rate = rate
            out += converter.convert(frame)
    out += converter.flush()

    starts = [sum(frame.samples for frame in out[:index]) for index in range(len(out))]
    assert [frame.pts for frame in out] == starts
    assert converter.samples == sum(frame.samples for frame in out)
    assert converter.samples == pytest.approx(41 * 1152 * 44_100 / 48_000 + 38 * 1152, abs=64)


def test_a_fifth_of_a_second_still_makes_a_valid_playlist(tmp_path: Path) -> None:
    result, out = process(tmp_path, encode(channels(sine(0.2), 2), "wav"))

    for variant in result.variants:
        playlist = hls.parse_media_playlist((out / variant.playlist).read_text())
        assert len(playlist.segments) == 1
        # 0.2 s rounds to 0; a target of 0 is legal but players size buffers by it.
        assert playlist.target_duration == 1
        assert decoded(out / variant.playlist, "hls")[0] == pytest.approx(0.2, abs=0.05)


def test_long_file_is_cut_into_six_second_segments(
    long_song: tuple[ProcessedAudio, Path],
) -> None:
    result, out = long_song
    assert result.duration == pytest.approx(LONG_S, abs=0.01)
    for variant in result.variants:
        playlist = hls.parse_media_playlist((out / variant.playlist).read_text())
        lines = (out / variant.playlist).read_text().splitlines()
        assert lines[0] == "#EXTM3U"
        # EXT-X-MAP (fMP4) in a media playlist needs version 6 or later.
        assert playlist.version >= 6
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines
        assert lines[-1] == "#EXT-X-ENDLIST"
        assert playlist.map_uri == variant.init
        assert (out / variant.init).stat().st_size > 0

        durations = [duration for _, duration in playlist.segments]
        assert [uri for uri, _ in playlist.segments] == list(variant.segments)
        assert len(durations) == 11  # 10 of 6 s and the last 3.5 s
        # Segments end on whole AAC frames (1024 samples, 23 ms).
        assert all(abs(d - hls.SEGMENT_S) < 0.025 for d in durations[:-1])
        assert 0 < durations[-1] <= hls.SEGMENT_S + 0.025
        assert sum(durations) == pytest.approx(result.duration, abs=AAC_SLACK_S)
        assert variant.duration == pytest.approx(sum(durations))
        # Every EXTINF, rounded, is at most the target duration (RFC 8216, 4.3.3.1).
        assert playlist.target_duration == hls.SEGMENT_S
        assert all(round(d) <= playlist.target_duration for d in durations)

        seconds, _, _ = decoded(out / variant.playlist, "hls")
        assert seconds == pytest.approx(result.duration, abs=AAC_SLACK_S)


def test_master_playlist_lists_every_variant(long_song: tuple[ProcessedAudio, Path]) -> None:
    result, out = long_song
    lines = (out / result.master_playlist).read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in lines
    entries = [
        (line, lines[at + 1]) for at, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-")
    ]
    assert len(entries) == len(result.variants) >= 2
    for tag, uri in entries:
        attributes = dict(item.split("=", 1) for item in tag.split(":", 1)[1].split(",", 2))
        assert attributes["CODECS"] == '"mp4a.40.2"'
        variant = next(v for v in result.variants if v.playlist == uri)
        assert int(attributes["BANDWIDTH"]) == variant.bandwidth
        assert int(attributes["AVERAGE-BANDWIDTH"]) == variant.average_bandwidth
    # Highest first: players start on the first variant.
    assert [uri for _, uri in entries] == [v.playlist for v in reversed(result.variants)]


def test_bandwidths_are_what_the_segments_need(long_song: tuple[ProcessedAudio, Path]) -> None:
    result, out = long_song
    for variant in result.variants:
        sizes = [(out / name).stat().st_size for name in variant.segments]
        rates = [s * 8 / d for s, d in zip(sizes, variant.segment_durations, strict=True)]
        whole = [r for r, d in zip(rates, variant.segment_durations, strict=True) if d >= 3]
        assert variant.bandwidth >= max(whole)
        assert variant.bandwidth >= variant.average_bandwidth
        # Music at a constant bit rate: the stream costs about what the encoder was told.
        assert 0.9 * variant.bitrate < variant.average_bandwidth < 1.15 * variant.bitrate


def test_progressive_file_starts_with_its_index(long_song: tuple[ProcessedAudio, Path]) -> None:
    result, out = long_song
    boxes = top_level_boxes(out / result.progressive)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")
    assert content_type(result.progressive) == "audio/mp4"
    seconds, _, _ = decoded(out / result.progressive)
    assert seconds == pytest.approx(result.duration, abs=0.03)


def test_every_file_fits_a_storage_key_and_has_a_type(
    long_song: tuple[ProcessedAudio, Path],
) -> None:
    result, out = long_song
    assert set(os.listdir(out)) == set(result.files)
    assert len(result.files) == len(set(result.files))
    for name in result.files:
        check_key(f"songs/{'0' * 32}/{name}")
        assert content_type(name) in ("application/vnd.apple.mpegurl", "audio/mp4")
    # Upload order: nothing before what it names.
    assert result.files[-1] == result.master_playlist
    for variant in result.variants:
        at = result.files.index(variant.playlist)
        assert all(result.files.index(name) < at for name in (variant.init, *variant.segments))


def test_playlists_use_relative_uris_only(long_song: tuple[ProcessedAudio, Path]) -> None:
    result, out = long_song
    for name in result.files:
        if not name.endswith(".m3u8"):
            continue
        text = (out / name).read_text()
        uris = [line for line in text.splitlines() if line and not line.startswith("#")]
        if name != result.master_playlist:
            uris.append(hls.parse_media_playlist(text).map_uri)
        assert uris
        for uri in uris:
            assert "/" not in uri and ":" not in uri
            assert (out / uri).is_file()


def test_a_colon_in_the_folder_path_is_not_read_as_a_protocol(tmp_path: Path) -> None:
    folder = tmp_path / "file:b"
    folder.mkdir()
    result, out = process(folder, encode(music(1.0), "wav", rate=44_100))
    assert set(os.listdir(out)) == set(result.files)


def test_a_percent_in_the_folder_path_is_refused(tmp_path: Path) -> None:
    # FFmpeg's HLS muxer reads the segment path as a printf pattern.
    (tmp_path / "song.wav").write_bytes(encode(music(0.5), "wav", rate=44_100))
    with pytest.raises(ValueError, match="may not contain"):
        process_audio(tmp_path / "song.wav", tmp_path / "a%05d")


def _scrambled(data: bytes, seed: int = 3) -> bytes:
    """The middle half of ``data`` overwritten with random bytes."""
    middle = random.Random(seed).randbytes(len(data) // 2)
    return data[: len(data) // 4] + middle + data[len(data) // 4 + len(middle) :]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: b"", "not MP3, WAV, FLAC"),
        (lambda: random.Random(1).randbytes(5000), "not MP3, WAV, FLAC"),
        # An ID3 header, then junk: nothing FFmpeg can find frames in.
        (lambda: b"ID3\x03" + bytes(6) + bytes(range(256)) * 20, "FFmpeg could not"),
        # A real MP3 with its middle destroyed: far more bad frames than are forgiven.
        (lambda: _scrambled(encode(music(5.0), "mp3", rate=44_100)), "FFmpeg could not decode"),
    ],
    ids=["empty", "random", "id3-then-junk", "scrambled-mp3"],
)
def test_what_ffmpeg_cannot_process_raises_processing_error(
    tmp_path: Path, make: Callable[[], bytes], reason: str
) -> None:
    with pytest.raises(ProcessingError) as caught:
        process(tmp_path, make())
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_samples_that_are_not_numbers_raise_processing_error(tmp_path: Path) -> None:
    # Float WAV can hold NaN, which decodes (and passes the upload's probe) but will not
    # encode.
    samples = np.zeros((1, 2 * 44_100), dtype=np.float32)
    samples[0, 50_000:50_010] = np.nan
    out = io.BytesIO()
    with av.open(out, "w", format="wav") as container:
        stream = container.add_stream("pcm_f32le", rate=44_100)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="stereo")
        frame.sample_rate = 44_100
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    with pytest.raises(ProcessingError, match="invalid samples"):
        process(tmp_path, out.getvalue())


def test_a_missing_file_raises_processing_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match="could not be read"):
        process_audio(tmp_path / "nowhere.mp3", tmp_path / "out")
