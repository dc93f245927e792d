"""The HLS helpers on their own: BANDWIDTH by the RFC's rule, and the playlist parser."""

from __future__ import annotations

import pytest

from bandstand.media.hls import parse_media_playlist, peak_bit_rate

pytestmark = pytest.mark.backend_free


def test_peak_bit_rate_ignores_a_short_last_segment() -> None:
    # Three 6 s segments of 48 000 bytes (64 kbit/s), then 0.1 s of mostly headers.
    sizes = [48_000, 48_000, 48_000, 1_000]
    durations = [6.0, 6.0, 6.0, 0.1]
    # Alone it would read 80 kbit/s; with the segment before it, 49 000 bytes in 6.1 s.
    assert peak_bit_rate(sizes, durations, 6) == 64_263


def test_peak_bit_rate_is_the_largest_window() -> None:
    sizes = [30_000, 60_000, 30_000]
    durations = [6.0, 6.0, 6.0]
    assert peak_bit_rate(sizes, durations, 6) == 80_000


def test_peak_bit_rate_of_a_stream_shorter_than_half_a_target() -> None:
    assert peak_bit_rate([2_000], [1.0], 6) == 16_000


def test_parse_media_playlist() -> None:
    playlist = parse_media_playlist(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n"
        '#EXT-X-MAP:URI="a-init.mp4"\n#EXTINF:6.0,\na-00001.m4s\n'
        "#EXTINF:2.5,\na-00002.m4s\n#EXT-X-ENDLIST\n"
    )
    assert playlist.version == 7
    assert playlist.target_duration == 6
    assert playlist.map_uri == "a-init.mp4"
    assert playlist.segments == (("a-00001.m4s", 6.0), ("a-00002.m4s", 2.5))
    assert playlist.ended


@pytest.mark.parametrize(
    "text", ["", "not a playlist", "#EXTM3U\na-00001.m4s\n", "#EXTM3U\n#EXT-X-MAP:BYTERANGE=1\n"]
)
def test_parse_media_playlist_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError):
        parse_media_playlist(text)
