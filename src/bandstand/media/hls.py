"""HLS with fMP4 segments: one FFmpeg muxer per variant, and the master playlist we write.

Every file sits in one folder and playlists name the others by relative URI, so a folder
URL that carries a signature in its path serves them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer

SEGMENT_S = 6
MASTER = "master.m3u8"
# AAC-LC (the RFC 6381 name), the profile FFmpeg's own encoder writes unless told otherwise.
AAC_LC = "mp4a.40.2"
PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_CONTENT_TYPE = "audio/mp4"


@dataclass(frozen=True)
class Variant:
    """One bit rate of the stream: its playlist, init segment and media segments."""

    bitrate: int  # the encoder's target, bit/s
    playlist: str
    init: str
    segments: tuple[str, ...]
    segment_durations: tuple[float, ...]
    bandwidth: int  # the playlist's BANDWIDTH: peak segment bit rate, bit/s
    average_bandwidth: int

    @property
    def duration(self) -> float:
        return sum(self.segment_durations)

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of the variant, the playlist last (it names the others)."""
        return (self.init, *self.segments, self.playlist)


def variant_name(bitrate: int) -> str:
    return f"aac{bitrate // 1000}"


def open_variant(out_dir: Path, bitrate: int) -> OutputContainer:
    """An HLS muxer writing ``aac<kbps>.m3u8``, ``aac<kbps>-init.mp4`` and
    ``aac<kbps>-00001.m4s`` ... into ``out_dir``: an absolute path (FFmpeg would read
    ``name:`` at the start of a relative one as a protocol) without ``%`` (the segment
    name is a printf pattern)."""
    name = variant_name(bitrate)
    return av.open(
        str(out_dir / f"{name}.m3u8"),
        "w",
        format="hls",
        options={
            "hls_time": str(SEGMENT_S),
            "hls_playlist_type": "vod",
            "hls_segment_type": "fmp4",
            "hls_fmp4_init_filename": f"{name}-init.mp4",
            "hls_segment_filename": str(out_dir / f"{name}-%05d.m4s"),
            "start_number": "1",
        },
    )


def add_aac_stream(
    container: OutputContainer, bitrate: int, sample_rate: int, layout: str
) -> AudioStream:
    # FFmpeg's AAC coders: "twoloop" (its default) sounds better at low bit rates;
    # "fast" sounds as good or better at high ones and costs a third of the CPU.
    coder = "twoloop" if bitrate < 128_000 else "fast"
    stream = container.add_stream("aac", rate=sample_rate, options={"aac_coder": coder})
    stream.bit_rate = bitrate
    stream.layout = layout
    return stream


def read_variant(out_dir: Path, bitrate: int) -> Variant:
    """The variant FFmpeg wrote, from its playlist and the sizes of its segments."""
    name = variant_name(bitrate)
    path = out_dir / f"{name}.m3u8"
    text = path.read_text()
    playlist = parse_media_playlist(text)
    if playlist.target_duration < 1:
        # Under half a second of audio rounds to a target of 0: legal, but players size
        # buffers and reloads by it. 1 is as legal.
        text = text.replace("#EXT-X-TARGETDURATION:0\n", "#EXT-X-TARGETDURATION:1\n")
        path.write_text(text)
        playlist = parse_media_playlist(text)
    sizes = [(out_dir / uri).stat().st_size for uri, _ in playlist.segments]
    durations = [duration for _, duration in playlist.segments]
    total = sum(durations)
    return Variant(
        bitrate=bitrate,
        playlist=f"{name}.m3u8",
        init=playlist.map_uri,
        segments=tuple(uri for uri, _ in playlist.segments),
        segment_durations=tuple(durations),
        bandwidth=peak_bit_rate(sizes, durations, playlist.target_duration),
        average_bandwidth=round(sum(sizes) * 8 / total) if total > 0 else 0,
    )


def peak_bit_rate(sizes: Sequence[int], durations: Sequence[float], target: float) -> int:
    """RFC 8216bis: the largest bit rate of any run of consecutive segments lasting 0.5 to
    1.5 target durations (so a short last segment, mostly headers, cannot inflate it);
    for a stream shorter than half a target, its average."""
    best = 0.0
    for start in range(len(sizes)):
        bits = 0
        seconds = 0.0
        for end in range(start, len(sizes)):
            bits += sizes[end] * 8
            seconds += durations[end]
            if seconds > 1.5 * target:
                break
            if seconds >= 0.5 * target:
                best = max(best, bits / seconds)
    total = sum(durations)
    if best == 0 and total > 0:
        best = sum(sizes) * 8 / total
    return math.ceil(best)


def write_master(out_dir: Path, variants: Sequence[Variant]) -> str:
    """The master playlist, highest bit rate first: players start on the first variant,
    and even the highest is light for audio."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in sorted(variants, key=lambda v: v.bandwidth, reverse=True):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={variant.bandwidth},"
            f'AVERAGE-BANDWIDTH={variant.average_bandwidth},CODECS="{AAC_LC}"'
        )
        lines.append(variant.playlist)
    (out_dir / MASTER).write_text("\n".join(lines) + "\n")
    return MASTER


@dataclass(frozen=True)
class MediaPlaylist:
    version: int
    target_duration: int
    map_uri: str
    segments: tuple[tuple[str, float], ...]
    ended: bool


def parse_media_playlist(text: str) -> MediaPlaylist:
    """The tags we write and read back; ``ValueError`` on anything malformed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("Not an M3U8 playlist.")
    version = target = 0
    map_uri = ""
    ended = False
    segments: list[tuple[str, float]] = []
    duration: float | None = None
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-VERSION":
            version = int(value)
        elif tag == "#EXT-X-TARGETDURATION":
            target = int(value)
        elif tag == "#EXT-X-MAP":
            map_uri = _attribute(value, "URI")
        elif tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            if duration is None:
                raise ValueError(f"Segment {line!r} has no #EXTINF.")
            segments.append((line, duration))
            duration = None
    return MediaPlaylist(version, target, map_uri, tuple(segments), ended)


def _attribute(attributes: str, name: str) -> str:
    for item in attributes.split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    raise ValueError(f"No {name} attribute.")
