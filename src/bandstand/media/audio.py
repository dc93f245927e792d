"""Audio is judged by its bytes and by FFmpeg decoding it, never by its name.

Blocking: decoding a long file takes a while; call these from a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import mutagen

# format → (file extension, Content-Type)
FORMATS = {
    "mp3": ("mp3", "audio/mpeg"),
    "wav": ("wav", "audio/wav"),
    "flac": ("flac", "audio/flac"),
    "ogg": ("ogg", "audio/ogg"),
    "m4a": ("m4a", "audio/mp4"),
    "aac": ("aac", "audio/aac"),
}
# A file that decodes to less than this share of the length it declares is truncated.
COMPLETE_SHARE = 0.9


class UnsupportedAudio(ValueError):
    """Not one of the audio formats we accept (by its first bytes)."""


class InvalidAudio(ValueError):
    """Looks like audio but FFmpeg cannot decode it whole."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float
    codec: str
    sample_rate: int
    channels: int
    bitrate: int

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]


@dataclass(frozen=True)
class AudioTags:
    title: str | None = None
    artist: str | None = None
    genre: str | None = None


def sniff(head: bytes) -> str:
    """The audio format the first bytes announce, or UnsupportedAudio."""
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync; layer bits 00 mean ADTS AAC.
        return "aac" if head[1] & 0x06 == 0 else "mp3"
    raise UnsupportedAudio("The file is not MP3, WAV, FLAC, Ogg (Vorbis/Opus) or AAC/M4A audio.")


def probe(path: Path) -> AudioInfo:
    """Decode the whole file with FFmpeg and describe it, or refuse it."""
    with path.open("rb") as handle:
        kind = sniff(handle.read(16))
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InvalidAudio("The file has no audio stream.")
            stream = container.streams.audio[0]
            samples = 0
            for frame in container.decode(stream):
                samples += frame.samples
            declared = (container.duration or 0) / av.time_base
            sample_rate = stream.codec_context.sample_rate or stream.sample_rate or 0
            codec = stream.codec_context.name
            channels = stream.codec_context.channels
            bitrate = container.bit_rate or stream.bit_rate or 0
    except av.FFmpegError as exc:
        raise InvalidAudio("FFmpeg could not decode the file.") from exc
    if samples == 0 or sample_rate == 0:
        raise InvalidAudio("The file holds no decodable audio.")
    duration = samples / sample_rate
    if declared and duration < COMPLETE_SHARE * declared:
        raise InvalidAudio("The file is truncated.")
    if not bitrate:
        bitrate = int(path.stat().st_size * 8 / duration)
    return AudioInfo(kind, round(duration, 3), codec, sample_rate, channels, bitrate)


def read_tags(path: Path) -> AudioTags:
    """Title, artist and genre from the file's own tags, where it has them."""
    try:
        tagged = mutagen.File(str(path), easy=True)
    except Exception:  # mutagen raises many kinds on odd files; tags are optional
        return AudioTags()
    if tagged is None or not tagged.tags:
        return AudioTags()

    def first(name: str) -> str | None:
        values = tagged.tags.get(name) if hasattr(tagged.tags, "get") else None
        value = str(values[0]).strip() if values else ""
        return value or None

    return AudioTags(title=first("title"), artist=first("artist"), genre=first("genre"))
