"""What the media tests share: running the processing on made-up audio, decoding what it
wrote, and FFmpeg's own ebur128 (the ffmpeg program from imageio-ffmpeg, a separate build)
as the independent reference for loudness."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg  # type: ignore[import-untyped]

from bandstand.media.processing import ProcessedAudio, process_audio


def process(tmp_path: Path, data: bytes, name: str = "song") -> tuple[ProcessedAudio, Path]:
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / f"{name}-out"
    return process_audio(source, out), out


def decoded(path: Path, fmt: str | None = None) -> tuple[float, int, int]:
    """Seconds decoded, sample rate and channels of a file (or an HLS playlist)."""
    with av.open(str(path), format=fmt) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate, stream.rate, stream.channels


def ffmpeg_ebur128(path: Path, *, dualmono: bool = False) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) from the ffmpeg program's summary."""
    options = "peak=true" + (":dualmono=true" if dualmono else "")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-af", f"ebur128={options}", "-f", "null", "-"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = done.stderr[done.stderr.rindex("Summary:") :]
    integrated = re.search(r"I:\s+(\S+) LUFS", summary)
    peak = re.search(r"Peak:\s+(\S+) dBFS", summary)
    assert integrated and peak, summary
    return float(integrated.group(1)), float(peak.group(1))


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4 file's top-level boxes, in order."""
    data = path.read_bytes()
    boxes = []
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        boxes.append(data[at + 4 : at + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        if size < 8:
            break
        at += size
    return boxes
