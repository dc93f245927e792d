"""Audio the tests make with FFmpeg (PyAV): tones in every accepted format."""

from __future__ import annotations

import io
import math
from fractions import Fraction

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
    container_name, codec, sample_format = FORMATS[fmt]
    if codec == "libopus":
        rate = 48_000
    if codec == "libvorbis" and codec not in av.codecs_available:
        codec = "vorbis"
    out = io.BytesIO()
    with av.open(out, "w", format=container_name) as container:
        for key, value in (tags or {}).items():
            container.metadata[key] = value
        # FFmpeg's own Vorbis encoder counts as experimental.
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.layout = "stereo" if channels == 2 else "mono"
        total = int(seconds * rate)
        frame_size = 1024
        for start in range(0, total, frame_size):
            count = min(frame_size, total - start)
            t = (np.arange(start, start + count) / rate).astype(np.float32)
            wave = (0.3 * np.sin(2 * math.pi * frequency * t)).astype(np.float32)
            planar = sample_format.endswith("p")
            if sample_format.startswith("s16"):
                samples = (wave * 32767).astype(np.int16)
            else:
                samples = wave
            if planar:
                array = np.tile(samples, (channels, 1))
            else:
                array = np.repeat(samples, channels).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(
                array, format=sample_format, layout="stereo" if channels == 2 else "mono"
            )
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
