"""Everything derived from one audio file, from a single decode: AAC in HLS at each bit
rate, a progressive M4A, EBU R 128 loudness and a waveform.

The source is decoded once and converted once (planar float at 44.1 or 48 kHz, mono or
stereo), channels first: a source of many channels is mixed down at its own rate before it
is resampled, so that the resampler works on two channels, not eight. Each frame then goes
to one AAC encoder per bit rate, to the loudness meter and to the peak meter: nothing past
the conversion costs more for a 384 kHz, 8-channel source than for a CD. The M4A holds
the very packets of the highest HLS bit rate, so nothing is encoded twice. FFmpeg does all
the per-sample work; Python only moves frames along.

Blocking and CPU-bound: run ``process_audio`` in a thread or a worker process, never on
the event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer

from bandstand.media import hls
from bandstand.media.audio import (
    DECODE_ERRORS,
    FORGIVEN_BAD_PACKETS,
    FORGIVEN_BAD_SHARE,
    FORMATS,
    UnsupportedAudio,
    sniff_file,
)
from bandstand.media.hls import Variant
from bandstand.media.loudness import LoudnessMeter
from bandstand.media.waveform import PeakMeter

BITRATES = (64_000, 160_000)
# How often a long run calls its ``pause`` (at most): the longest another user's song
# waits for a turn (the worker runs it meanwhile, worker/tries.py).
PAUSE_EVERY_S = 0.5
# Samples per converted frame (about 0.7 s): each frame costs a call into FFmpeg per
# encoder and meter, and a dictionary of the loudness meter's figures, whatever its length;
# the encoders cut frames to AAC's 1024 samples themselves.
FRAME_SAMPLES = 32_768
PROGRESSIVE = f"{hls.variant_name(max(BITRATES))}.m4a"
PROGRESSIVE_CONTENT_TYPE = "audio/mp4"
# Errors of the machine, not of the file (a full disk, permissions): they propagate as they
# are, for the caller to retry or report, rather than blame the upload.
_NOT_THE_FILES_FAULT = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.EMFILE,
    errno.ENFILE,
    errno.EIO,
}
_CONTENT_TYPES = {
    ".m3u8": hls.PLAYLIST_CONTENT_TYPE,
    ".m4s": hls.SEGMENT_CONTENT_TYPE,
    ".mp4": hls.SEGMENT_CONTENT_TYPE,
    ".m4a": PROGRESSIVE_CONTENT_TYPE,
}


class ProcessingError(Exception):
    """FFmpeg could not make the renditions; ``reason`` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProcessedAudio:
    """What ``process_audio`` wrote, by file name within its folder, and what it measured."""

    master_playlist: str
    variants: tuple[Variant, ...]  # by bit rate, lowest first
    progressive: str
    sample_rate: int
    channels: int
    duration: float  # seconds decoded from the source
    loudness_lufs: float | None  # None: silence, or under 0.4 s (see loudness.Loudness)
    true_peak_dbtp: float | None
    gain_db: float  # to TARGET_LUFS, limited by the true peak (loudness.normalising_gain)
    peaks: tuple[float, ...]  # about waveform.POINTS values, 0..1, the loudest exactly 1
    # Every file written, in an order safe to upload one by one: each before the playlist
    # that names it, the master playlist last.
    files: tuple[str, ...]
    # Seconds of CPU the process spent on it (the operator's cost per second of audio).
    cpu_s: float = 0.0


def content_type(name: str) -> str:
    """The Content-Type of a file ``process_audio`` writes."""
    return _CONTENT_TYPES[Path(name).suffix]


def process_audio(
    source: Path,
    out_dir: Path,
    pause: Callable[[], None] | None = None,
    *,
    length_s: float | None = None,
) -> ProcessedAudio:
    """Make every rendition of ``source`` in ``out_dir`` (created if missing), and measure
    its loudness and waveform. Raises ``ProcessingError`` for a file FFmpeg cannot process;
    the folder may then hold partial output, which the caller discards. ``out_dir`` is best
    a fresh temporary folder (its path may not contain ``%``). ``pause`` is called between
    frames, every ``PAUSE_EVERY_S`` or so: whatever it does meanwhile (another song's turn)
    delays this one, not the other way round; what it raises ends the processing there.
    ``length_s`` is the length decoding found when the file was checked, if known: the
    waveform is sliced by it rather than by the container's estimate."""
    try:
        kind = sniff_file(source)
    except UnsupportedAudio as exc:
        raise ProcessingError(str(exc)) from exc
    except OSError as exc:
        if exc.errno in _NOT_THE_FILES_FAULT:
            raise
        raise ProcessingError("The file could not be read.") from exc
    # Absolute paths: FFmpeg reads "name:" at the start of a relative one as a protocol.
    out_dir = out_dir.resolve()
    if "%" in str(out_dir):
        # FFmpeg's HLS muxer expands % in segment paths, and loses them even when escaped.
        raise ValueError(f"The output folder's path may not contain '%': {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.process_time()
    try:
        with av.open(
            str(source.resolve()), format=FORMATS[kind].demuxer, metadata_errors="ignore"
        ) as container:
            made = _process(container, out_dir, pause, length_s)
            return dataclasses.replace(made, cpu_s=time.process_time() - started)
    except ProcessingError:
        raise
    except (*DECODE_ERRORS, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in _NOT_THE_FILES_FAULT:
            raise
        raise ProcessingError("FFmpeg could not process the file.") from exc


def _process(
    container: InputContainer,
    out_dir: Path,
    pause: Callable[[], None] | None,
    length_s: float | None,
) -> ProcessedAudio:
    if not container.streams.audio:
        raise ProcessingError("The file has no audio stream.")
    stream = container.streams.audio[0]
    context = stream.codec_context
    if context is None or not context.sample_rate or not context.channels:
        raise ProcessingError("FFmpeg cannot decode the file's audio.")
    rate = _output_rate(context.sample_rate)
    layout = "mono" if context.channels == 1 else "stereo"
    converter = _Converter(rate, layout)
    loudness = LoudnessMeter(rate, layout)
    if length_s:
        peaks = PeakMeter(rate, layout, round(length_s * rate), exact=True)
    else:
        peaks = PeakMeter(rate, layout, _expected_samples(container, stream, rate))
    with _Renditions(out_dir, rate, layout) as renditions:

        def feed(frames: list[AudioFrame]) -> None:
            for frame in frames:
                renditions.add(frame)
                loudness.add(frame)
                peaks.add(frame)

        next_pause = time.monotonic() + PAUSE_EVERY_S
        for decoded in _decode(container, stream):
            feed(converter.convert(decoded))
            if pause is not None and time.monotonic() >= next_pause:
                pause()
                next_pause = time.monotonic() + PAUSE_EVERY_S
        feed(converter.flush())
        if not converter.samples:
            raise ProcessingError("The file holds no decodable audio.")
        renditions.finish()
    variants = tuple(hls.read_variant(out_dir, bitrate) for bitrate in sorted(BITRATES))
    master = hls.write_master(out_dir, variants)
    measured = loudness.result()
    return ProcessedAudio(
        master_playlist=master,
        variants=variants,
        progressive=PROGRESSIVE,
        sample_rate=rate,
        channels=1 if layout == "mono" else 2,
        duration=round(converter.samples / rate, 3),
        loudness_lufs=measured.integrated_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        gain_db=measured.gain_db,
        peaks=peaks.result(),
        files=(*(name for v in variants for name in v.files), PROGRESSIVE, master),
    )


def _output_rate(source_rate: int) -> int:
    """44.1 kHz for the CD family of rates (no resampling for the commonest), else 48 kHz.
    Lower rates are raised too: every variant and player gets a rate AAC-LC is made for."""
    return 44_100 if source_rate % 11_025 == 0 else 48_000


def _expected_samples(container: InputContainer, stream: AudioStream, rate: int) -> int | None:
    """The length the file states, in output samples: an estimate (ADTS states none, and
    FFmpeg guesses it from the bit rate), good enough to size the waveform's slices."""
    if container.duration:
        return int(container.duration * rate / av.time_base)
    if stream.duration and stream.time_base:
        return int(stream.duration * stream.time_base * rate)
    return None


def _decode(container: InputContainer, stream: AudioStream) -> Iterator[AudioFrame]:
    """Every frame. A packet or two that will not decode is skipped, as ``audio.probe``
    forgives it; more than that and the file is refused."""
    packets = bad = 0
    for packet in container.demux(stream):
        packets += 1
        try:
            frames = packet.decode()
        except av.FFmpegError:
            bad += 1
            continue
        yield from frames
    if bad > max(FORGIVEN_BAD_PACKETS, FORGIVEN_BAD_SHARE * packets):
        raise ProcessingError("FFmpeg could not decode the file.")


class _Converter:
    """Decoded frames in, planar float at the output rate and layout out, timed from 0 in
    samples, in frames of ``FRAME_SAMPLES`` (the last shorter). A source that changes rate
    or layout midway (MP3 may) gets new resamplers.

    Two steps: the mix-down to the output layout (and planar float) at the source's rate,
    skipped where there is nothing to do, then the change of rate, which also gathers the
    samples into long frames. In one step FFmpeg resamples every source channel before
    mixing them down: for 8 channels at 384 kHz, four times the work of resampling the two
    that are kept."""

    def __init__(self, rate: int, layout: str) -> None:
        self._rate = rate
        self._time_base = Fraction(1, rate)
        self._layout = layout
        self._steps: tuple[AudioResampler, AudioResampler] | None = None
        self._shape: tuple[str, str, int] | None = None
        self._fed = 0
        self.samples = 0

    def convert(self, frame: AudioFrame) -> list[AudioFrame]:
        flushed: list[AudioFrame] = []
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if shape != self._shape:
            flushed = self.flush()
            mix = AudioResampler(format="fltp", layout=self._layout, rate=frame.sample_rate)
            rate = AudioResampler(
                format="fltp", layout=self._layout, rate=self._rate, frame_size=FRAME_SAMPLES
            )
            self._steps = (mix, rate)
            self._shape = shape
            self._fed = 0
        assert self._steps is not None
        mix, rate = self._steps
        frame.pts = self._fed
        frame.time_base = Fraction(1, frame.sample_rate)
        self._fed += frame.samples
        converted: list[AudioFrame] = []
        for mixed in mix.resample(frame):
            converted += rate.resample(mixed)
        # What the flush gave is timed already.
        return flushed + self._timed(converted)

    def flush(self) -> list[AudioFrame]:
        if self._steps is None:
            return []
        (mix, rate), self._steps, self._shape = self._steps, None, None
        converted: list[AudioFrame] = []
        for mixed in mix.resample(None):
            converted += rate.resample(mixed)
        converted += rate.resample(None)
        return self._timed(converted)

    def _timed(self, frames: list[AudioFrame]) -> list[AudioFrame]:
        for frame in frames:
            frame.pts = self.samples
            frame.time_base = self._time_base
            self.samples += frame.samples
        return frames


class _Renditions:
    """One AAC encoder and HLS muxer per bit rate; the highest also feeds the M4A."""

    def __init__(self, out_dir: Path, rate: int, layout: str) -> None:
        self._containers: list[OutputContainer] = []
        self._encoders: list[tuple[AudioStream, OutputContainer]] = []
        try:
            for bitrate in sorted(BITRATES):
                container = self._opened(hls.open_variant(out_dir, bitrate))
                stream = hls.add_aac_stream(container, bitrate, rate, layout)
                # Opens the encoder, which fills in the parameters the M4A's stream copies.
                container.start_encoding()
                self._encoders.append((stream, container))
            self._top = self._encoders[-1][0]
            self._m4a = self._opened(
                av.open(
                    str(out_dir / PROGRESSIVE),
                    "w",
                    format="ipod",
                    # The index up front, so that a player starts before the whole file is in.
                    options={"movflags": "+faststart"},
                )
            )
            self._m4a_stream = self._m4a.add_stream_from_template(self._top)
        except BaseException:
            self._abandon()
            raise

    def _opened(self, container: OutputContainer) -> OutputContainer:
        self._containers.append(container)
        return container

    def add(self, frame: AudioFrame | None) -> None:
        for stream, container in self._encoders:
            try:
                packets = stream.encode(frame)
            except av.FFmpegError as exc:
                # Decoded audio that will not encode: FFmpeg's AAC encoder refuses NaN and
                # infinite samples, which float WAV can hold and decoding lets through.
                raise ProcessingError(
                    "FFmpeg could not encode the audio: it holds invalid samples."
                ) from exc
            for packet in packets:
                # mux() writes a new reference to the packet's data: it can go out twice.
                container.mux(packet)
                if stream is self._top:
                    packet.stream = self._m4a_stream
                    self._m4a.mux(packet)

    def finish(self) -> None:
        """Flush the encoders and write every trailer (the playlists' last lines)."""
        self.add(None)
        while self._containers:
            self._containers.pop(0).close()

    def _abandon(self) -> None:
        # Only after a failure is anything left open; errors closing it would hide that one.
        while self._containers:
            with contextlib.suppress(*DECODE_ERRORS, OSError):
                self._containers.pop().close()

    def __enter__(self) -> _Renditions:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._abandon()
