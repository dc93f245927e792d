"""EBU R 128 loudness of decoded audio, measured by FFmpeg's ebur128 filter.

Blocking: FFmpeg does the work on the calling thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import av
from av.audio.frame import AudioFrame

from bandstand.media.graphs import frame_graph

TARGET_LUFS = -14.0
# A player applying the gain must not push the true peak above this, as loudness-normalising
# players do (Spotify raises a quiet track only until its true peak reaches -1 dBTP;
# ReplayGain players lower a gain that would clip): the dB kept under full scale is room
# for the peaks a lossy encoder adds.
PEAK_CEILING_DBTP = -1.0
# ebur128 reports the absolute gate until a 400 ms block rises above it: that is what it
# says for silence, and for audio shorter than one block. Loudness is undefined then.
ABSOLUTE_GATE_LUFS = -70.0
_INTEGRATED = "lavfi.r128.I"
_TRUE_PEAK = "lavfi.r128.true_peak"


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness and true peak of the whole file, and the gain a player applies
    to bring it towards ``TARGET_LUFS``: as much as reaches the target, but never so much
    that the true peak would pass ``PEAK_CEILING_DBTP`` (``normalising_gain``). Undefined
    loudness (silence, under 0.4 s) is ``None`` with a gain of 0 dB: no gain can bring
    silence to a level. A true peak of exactly zero (digital silence) is ``None`` too."""

    integrated_lufs: float | None
    true_peak_dbtp: float | None
    gain_db: float


class LoudnessMeter:
    """Feed it every frame of the audio as played, then ask for the result once.

    The filter puts its running figures into the metadata of a frame each time a 100 ms
    block ends; the final summary FFmpeg prints goes to its log, which we do not read.
    The metadata gives loudness to 0.001 LU and the linear true peak to 0.001 of full
    scale: ±0.02 dB at −6 dBTP, coarser only for audio that never gets near full scale.
    """

    def __init__(self, sample_rate: int, layout: str) -> None:
        self._rate = sample_rate
        self._layout = layout
        self._block = sample_rate // 10  # the filter's own block: rate / 10, rounded down
        self._samples = 0
        self._integrated = ABSOLUTE_GATE_LUFS
        self._true_peak = 0.0
        self._graph, source = frame_graph(sample_rate, layout)
        # Mono is heard from two speakers: measured as one channel it would read 3 dB low.
        dualmono = "1" if layout == "mono" else "0"
        meter = self._graph.add("ebur128", f"metadata=1:peak=true:dualmono={dualmono}")
        sink = self._graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        self._graph.configure()

    def add(self, frame: AudioFrame) -> None:
        self._samples += frame.samples
        self._push(frame)

    def result(self) -> Loudness:
        """The figures for everything added. Integrated loudness is the one FFmpeg reports,
        over whole blocks only. The true peak also covers the samples after the last whole
        block, which FFmpeg's own summary can miss: silence is added up to one more block
        boundary, and only the peak is read there."""
        integrated = self._integrated
        tail = self._samples % self._block
        self._push(_silence(self._block - tail, self._layout, self._rate, self._samples))
        self._graph.push(None)
        self._drain()
        loudness = None if integrated <= ABSOLUTE_GATE_LUFS else integrated
        peak = 20 * math.log10(self._true_peak) if self._true_peak > 0 else None
        return Loudness(
            integrated_lufs=loudness,
            true_peak_dbtp=None if peak is None else round(peak, 2),
            gain_db=normalising_gain(loudness, peak),
        )

    def _push(self, frame: AudioFrame) -> None:
        self._graph.push(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                out = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            metadata = out.metadata
            if _INTEGRATED in metadata:
                self._integrated = float(metadata[_INTEGRATED])
                self._true_peak = float(metadata[_TRUE_PEAK])


def normalising_gain(loudness_lufs: float | None, true_peak_dbtp: float | None) -> float:
    """The gain (dB, to 0.01) that brings the audio to ``TARGET_LUFS``, lowered where
    needed so that true peak + gain stays at or under ``PEAK_CEILING_DBTP``: a quiet song
    with loud peaks comes up only as far as its peaks allow, and is heard a little under
    the target rather than clipped. The limit is rounded down, so that neither the exact
    true peak nor the reported one (to 0.01 dB) plus the gain passes the ceiling."""
    if loudness_lufs is None:
        return 0.0
    gain = round(TARGET_LUFS - loudness_lufs, 2)
    if true_peak_dbtp is None:
        return gain
    # round() first: 0.67 * 100 is 66.99999999999999, whose floor would cost 0.01 dB.
    limit = math.floor(round((PEAK_CEILING_DBTP - true_peak_dbtp) * 100, 6)) / 100
    return min(gain, limit)


def _silence(samples: int, layout: str, sample_rate: int, pts: int) -> AudioFrame:
    frame = AudioFrame(format="fltp", layout=layout, samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = Fraction(1, sample_rate)
    return frame
