"""Audio the media tests make: sines at a chosen level, silence, something like music, and
FFmpeg (PyAV) to encode them in every accepted format."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from typing import Any

import av
import numpy as np

from tests.audio import FORMATS

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}
FRAME_SIZE = 1024


def sine(
    seconds: float, *, rate: int = 48_000, frequency: float = 1_000.0, amplitude: float = 0.5
) -> Any:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * math.pi * frequency * t)).astype(np.float32)


def silence(seconds: float, *, rate: int = 48_000) -> Any:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def music(seconds: float, *, rate: int = 44_100, seed: int = 1) -> Any:
    """Two channels of chords and pulsing noise: something an AAC encoder has to work at.
    A 7.3 s stretch repeats (cheap to make; 7.3 s so that segments of 6 s all differ)."""
    total = int(seconds * rate)
    t = np.arange(min(total, int(7.3 * rate))) / rate
    left = np.zeros_like(t)
    right = np.zeros_like(t)
    for frequency in (110, 220, 277, 330, 440, 660, 880, 1320):
        left += 0.05 * np.sin(2 * math.pi * frequency * t)
        right += 0.05 * np.sin(2 * math.pi * frequency * 1.001 * t)
    noise = np.random.default_rng(seed).standard_normal((2, t.size)) * 0.05
    pulse = 0.5 + 0.5 * np.sin(2 * math.pi * 2 * t)
    stretch = np.clip(np.stack([left, right]) + noise * pulse, -1, 1).astype(np.float32)
    return np.tile(stretch, (1, -(-total // t.size)))[:, :total]


def channels(samples: Any, count: int) -> Any:
    """The same signal in ``count`` channels."""
    return np.tile(samples, (count, 1))


def encode(audio: Any, fmt: str, *, rate: int = 48_000) -> bytes:
    """``audio`` (one row per channel, or one row for mono) encoded by FFmpeg in ``fmt``."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    container_name, codec, sample_format = FORMATS[fmt]
    if codec == "libvorbis" and codec not in av.codecs_available:
        codec = "vorbis"
    layout = LAYOUTS[audio.shape[0]]
    out = io.BytesIO()
    with av.open(out, "w", format=container_name) as container:
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        stream = container.add_stream(codec, rate=rate, options=options)
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        for start in range(0, audio.shape[1], FRAME_SIZE):
            chunk = audio[:, start : start + FRAME_SIZE]
            if sample_format.startswith("s16"):
                chunk = (chunk * 32767).round().astype(np.int16)
            if not sample_format.endswith("p"):
                chunk = np.ascontiguousarray(chunk.T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format=sample_format, layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()
