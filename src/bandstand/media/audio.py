"""Audio is judged by its bytes and by FFmpeg decoding it, never by its name.

Blocking: decoding a long file takes a while; call these from a thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import mutagen
from av.audio.stream import AudioStream
from av.container import InputContainer

from bandstand.config import Settings


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str
    # FFmpeg is told which demuxer to use rather than left to guess: a guess can land on
    # one that opens other files or URLs (an HLS playlist hidden behind an ID3 header).
    demuxer: str
    # Whether the container states its length, so that decoding less means the file is cut.
    # ADTS AAC states nothing; FFmpeg's figure for it is an estimate from the bitrate.
    states_length: bool = True


FORMATS = {
    "mp3": Format("mp3", "audio/mpeg", "mp3"),
    "wav": Format("wav", "audio/wav", "wav"),
    "flac": Format("flac", "audio/flac", "flac"),
    "ogg": Format("ogg", "audio/ogg", "ogg"),
    "m4a": Format("m4a", "audio/mp4", "mp4"),
    "aac": Format("aac", "audio/aac", "aac", states_length=False),
}
# The codecs each container may carry: what browsers' <audio> plays from that container.
CODECS = {
    "mp3": {"mp3"},
    "wav": {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"},
    "flac": {"flac"},
    "ogg": {"vorbis", "opus", "flac"},
    "m4a": {"aac", "alac"},
    "aac": {"aac"},
}
# What a file can state at all; the settings (``AudioLimits``) may accept less.
SAMPLE_RATES = range(8_000, 384_001)
MAX_CHANNELS = 8
MIN_DURATION_S = 0.1
# Far above any real song's bitrate (8 channels of 384 kHz 32-bit PCM is 98 Mbit/s).
MAX_BITRATE = 100_000_000
# Decoders legitimately stop a little short of the stated length (encoder delay, a
# length estimated from the bitrate); more missing than this means the file was cut.
MISSING_TOLERANCE_S = 0.1
MISSING_TOLERANCE_SHARE = 0.01
FORGIVEN_BAD_PACKETS = 2
FORGIVEN_BAD_SHARE = 0.01
# The largest an Ogg page can be: 27-byte header, 255 lacing values, 255 × 255 of data.
OGG_MAX_PAGE = 27 + 255 + 255 * 255
# What PyAV raises on hostile input besides its own errors (bad metadata, odd layouts).
DECODE_ERRORS = (av.FFmpegError, ValueError, IndexError, EOFError, OverflowError)


# Decoding is the heaviest thing an upload asks for: it gets threads of its own, so a burst
# of uploads queues here instead of starving password checks and file I/O in the default pool.
_DECODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audio-probe")


class UnsupportedAudio(ValueError):
    """Not one of the audio formats we accept (by its first bytes)."""


class InvalidAudio(ValueError):
    """Looks like audio but FFmpeg cannot decode it whole."""


@dataclass(frozen=True)
class AudioLimits:
    """What an upload may ask of FFmpeg (settings ``audio_max_*``): its length, its rate
    and channels, and the samples of all its channels together, which is what decoding
    costs. A file that states more is refused before any of it is decoded; one that
    decodes to more than it stated is refused as soon as it passes."""

    max_duration_s: float
    max_sample_rate: int
    max_channels: int
    max_samples: int

    @classmethod
    def of(cls, settings: Settings) -> AudioLimits:
        return cls(
            max_duration_s=settings.audio_max_duration_s,
            max_sample_rate=settings.audio_max_sample_rate,
            max_channels=settings.audio_max_channels,
            max_samples=settings.audio_max_samples,
        )

    def check(self, sample_rate: int, channels: int, stated_s: float | None) -> None:
        """Refuse, from what the file states, what these limits do not take."""
        if sample_rate > self.max_sample_rate:
            raise UnsupportedAudio(
                f"Audio sampled above {self.max_sample_rate / 1000:g} kHz is not accepted "
                f"(this file: {sample_rate / 1000:g} kHz); listeners hear at most 48 kHz. "
                f"Export it at 48 kHz, or at most {self.max_sample_rate / 1000:g} kHz."
            )
        if channels > self.max_channels:
            raise UnsupportedAudio(
                f"Audio with more than {self.max_channels} channels is not accepted "
                f"(this file: {channels}); listeners hear stereo. Mix it down first."
            )
        if stated_s is not None and stated_s > self.max_duration_s:
            raise InvalidAudio(TOO_LONG)
        if stated_s is not None and stated_s * sample_rate * channels > self.max_samples:
            raise InvalidAudio(self.too_many_samples)

    def max_frames(self, sample_rate: int, channels: int) -> tuple[int, str]:
        """The most samples per channel decoding may yield, and why no more."""
        by_length = int(self.max_duration_s * sample_rate)
        by_samples = self.max_samples // channels
        if by_samples < by_length:
            return by_samples, self.too_many_samples
        return by_length, TOO_LONG

    @property
    def too_many_samples(self) -> str:
        hours = self.max_samples / (48_000 * 2 * 3600)
        return (
            "The file holds more audio than a song may: its length times its sample rate "
            f"times its channels passes what {hours:.3g} hours of 48 kHz stereo hold. "
            "Shorten it, or export it at a lower sample rate or with fewer channels."
        )


TOO_LONG = "The audio is longer than a song may be."


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
        return FORMATS[self.format].extension

    @property
    def content_type(self) -> str:
        return FORMATS[self.format].content_type


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


def sniff_file(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
        if not (head.startswith(b"ID3") and len(head) >= 10):
            return sniff(head)
        # Taggers put ID3v2 before FLAC and ADTS AAC too, and FFmpeg skips it: look past it.
        # Its size is "syncsafe", seven bits a byte; a footer adds ten more bytes.
        size = int.from_bytes(bytes(b & 0x7F for b in head[6:10]), "big")
        handle.seek(10 + size + (10 if head[5] & 0x10 else 0))
        try:
            return sniff(handle.read(16))
        except UnsupportedAudio:
            return "mp3"


@dataclass(frozen=True)
class _Decoded:
    samples: int
    stated: float
    sample_rate: int
    codec: str
    channels: int
    bitrate: int


def _decode(path: Path, kind: str, limits: AudioLimits) -> _Decoded:
    with av.open(str(path), format=FORMATS[kind].demuxer, metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise InvalidAudio("The file has no audio stream.")
        if any(
            not v.disposition & av.stream.Disposition.attached_pic for v in container.streams.video
        ):
            raise UnsupportedAudio("The file holds video; upload audio only.")
        stream = container.streams.audio[0]
        context = stream.codec_context
        if context is None:  # FFmpeg has no decoder for what the file claims to hold
            raise UnsupportedAudio("The file's audio codec is not one we accept.")
        # The codec's own name ("mp3"), not the decoder FFmpeg picked ("mp3float").
        codec = context.codec.canonical_name
        if codec not in CODECS[kind]:
            raise UnsupportedAudio(f"{codec} audio in a {kind} file is not accepted.")
        sample_rate = context.sample_rate or stream.sample_rate or 0
        if sample_rate not in SAMPLE_RATES or not 1 <= context.channels <= MAX_CHANNELS:
            raise InvalidAudio("The file states an impossible sample rate or channel count.")
        stated = (container.duration or 0) / av.time_base
        # Before decoding anything: a few hundred kilobytes can state ten minutes of
        # 384 kHz, 8-channel audio, which takes longer to decode than to upload.
        limits.check(sample_rate, context.channels, stated if FORMATS[kind].states_length else None)
        max_frames, why = limits.max_frames(sample_rate, context.channels)
        samples = _decode_samples(container, stream, max_frames, why)
        return _Decoded(
            samples=samples,
            stated=stated,
            sample_rate=sample_rate,
            codec=codec,
            channels=context.channels,
            bitrate=container.bit_rate or stream.bit_rate or 0,
        )


def _decode_samples(
    container: InputContainer, stream: AudioStream, max_samples: int, too_many: str
) -> int:
    """Samples decoded (per channel). A packet or two that will not decode (junk after the
    last frame, which players skip) is forgiven; whether the file is whole is judged by
    its length. Decoding stops as soon as the file proves to hold more than ``max_samples``
    (refused for ``too_many``): a few kilobytes can claim days of silence, and a stated
    length can lie."""
    samples = packets = bad = 0
    for packet in container.demux(stream):
        packets += 1
        try:
            samples += sum(frame.samples for frame in packet.decode())
        except av.FFmpegError:
            bad += 1
        if samples > max_samples:
            raise InvalidAudio(too_many)
    if bad > max(FORGIVEN_BAD_PACKETS, FORGIVEN_BAD_SHARE * packets):
        raise InvalidAudio("FFmpeg could not decode the file.")
    return samples


def probe(path: Path, limits: AudioLimits) -> AudioInfo:
    """Decode the whole file with FFmpeg and describe it, or refuse it: at once if what it
    states is more than ``limits`` take, and as soon as decoding passes them."""
    kind = sniff_file(path)
    try:
        found = _decode(path, kind, limits)
    except (InvalidAudio, UnsupportedAudio):
        raise
    except DECODE_ERRORS as exc:
        raise InvalidAudio("FFmpeg could not decode the file.") from exc
    decoded = found.samples / found.sample_rate
    if decoded < MIN_DURATION_S:
        raise InvalidAudio("The file holds no decodable audio.")
    if _cut_short(kind, decoded, found.stated) or not _ends_whole(kind, path):
        raise InvalidAudio("The file is truncated.")
    duration = decoded
    if FORMATS[kind].states_length and found.stated:
        # The stated length leaves out encoder priming and padding that decoding counts.
        duration = min(decoded, found.stated)
    bitrate = found.bitrate or int(path.stat().st_size * 8 / duration)
    if bitrate > MAX_BITRATE:
        raise InvalidAudio("The file states an impossible bitrate.")
    return AudioInfo(
        kind, round(duration, 3), found.codec, found.sample_rate, found.channels, bitrate
    )


def _cut_short(kind: str, decoded: float, stated: float) -> bool:
    if not FORMATS[kind].states_length or not stated:
        return False
    return stated - decoded > max(MISSING_TOLERANCE_S, MISSING_TOLERANCE_SHARE * stated)


def _ends_whole(kind: str, path: Path) -> bool:
    """Formats whose stated length FFmpeg takes from what is there need their own check."""
    if kind == "wav":
        return _wav_data_whole(path)
    if kind == "ogg":
        return _ogg_ends_with_last_page(path)
    return True


def _wav_data_whole(path: Path) -> bool:
    """The data chunk holds as many bytes as its header says."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(12)
        while len(header := handle.read(8)) == 8:
            length = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                # Writers that could not seek back to fill in the length leave 0 or ~0.
                return length in (0, 0xFFFFFFFF) or handle.tell() + length <= size
            handle.seek(length + (length & 1), 1)
    return False


def _ogg_ends_with_last_page(path: Path) -> bool:
    """The last complete page is marked end-of-stream: Ogg states no length, and FFmpeg
    reads it off the last page there is, so a cut file would otherwise pass."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - OGG_MAX_PAGE))
        tail = handle.read()
    at = tail.rfind(b"OggS")
    while at != -1:
        if _whole_page_at(tail, at):
            return bool(tail[at + 5] & 0x04)
        at = tail.rfind(b"OggS", 0, at)
    return False


def _whole_page_at(tail: bytes, at: int) -> bool:
    header = tail[at : at + 27]
    if len(header) < 27 or header[4] != 0:
        return False
    lacing = tail[at + 27 : at + 27 + header[26]]
    return len(lacing) == header[26] and at + 27 + len(lacing) + sum(lacing) <= len(tail)


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


def _examine(path: Path, limits: AudioLimits) -> tuple[AudioInfo, AudioTags]:
    return probe(path, limits), read_tags(path)


async def examine(path: Path, limits: AudioLimits) -> tuple[AudioInfo, AudioTags]:
    """``probe`` and ``read_tags`` on the decoding threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DECODERS, _examine, path, limits)
