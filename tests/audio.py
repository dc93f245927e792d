"""Audio the tests make with FFmpeg (PyAV): tones in every accepted format."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from functools import cache
from typing import Any

import av
import numpy as np

# format → (container, codec, sample format)
FORMATS = {
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "wav": ("wav", "pcm_s16le", "s16"),
    "flac": ("flac", "flac", "s16"),
    "ogg": ("ogg", "libvorbis", "fltp"),
    "opus": ("ogg", "libopus", "flt"),
    "m4a": ("ipod", "aac", "fltp"),
    "aac": ("adts", "aac", "fltp"),  # raw AAC in ADTS frames, no container
}


def tone(
    fmt: str = "mp3",
    seconds: float = 1.0,
    *,
    rate: int = 44_100,
    channels: int = 2,
    frequency: float = 440.0,
    tags: dict[str, str] | None = None,
) -> bytes:
    """A sine tone encoded by FFmpeg in ``fmt``, with ``tags`` written as its metadata.

    Made once per run for each set of arguments: bytes are immutable, and hundreds of tests
    upload the same half-second mp3."""
    return _tone(fmt, seconds, rate, channels, frequency, tuple((tags or {}).items()))


@cache
def _tone(
    fmt: str,
    seconds: float,
    rate: int,
    channels: int,
    frequency: float,
    tags: tuple[tuple[str, str], ...],
) -> bytes:
    container_name, codec, sample_format = FORMATS[fmt]
    if codec == "libopus":
        rate = 48_000
    if codec == "libvorbis" and codec not in av.codecs_available:
        codec = "vorbis"
    layout = "stereo" if channels == 2 else "mono"
    out = io.BytesIO()
    with av.open(out, "w", format=container_name) as container:
        for key, value in tags:
            container.metadata[key] = value
        # FFmpeg's own Vorbis encoder counts as experimental.
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        stream = container.add_stream(codec, rate=rate, options=options)
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        total = int(seconds * rate)
        for start in range(0, total, FRAME_SIZE):
            samples = _sine(start, min(FRAME_SIZE, total - start), rate, frequency, sample_format)
            frame = av.AudioFrame.from_ndarray(
                _interleave(samples, channels, sample_format), format=sample_format, layout=layout
            )
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


FRAME_SIZE = 1024


def _sine(start: int, count: int, rate: int, frequency: float, sample_format: str) -> Any:
    t = (np.arange(start, start + count) / rate).astype(np.float32)
    wave = (0.3 * np.sin(2 * math.pi * frequency * t)).astype(np.float32)
    return (wave * 32767).astype(np.int16) if sample_format.startswith("s16") else wave


def _interleave(samples: Any, channels: int, sample_format: str) -> Any:
    """One row per channel for planar formats, one interleaved row otherwise."""
    if sample_format.endswith("p"):
        return np.tile(samples, (channels, 1))
    return np.repeat(samples, channels).reshape(1, -1)
