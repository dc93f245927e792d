"""A waveform to draw: the peak level of each slice of the audio, loudest slice = 1.

Blocking: FFmpeg does the work on the calling thread.
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.filter import Graph

POINTS = 1000
# Slices are measured at twice the resolution asked for, then merged in pairs (or so):
# the length the container states is an estimate, and the merge absorbs its error.
_OVERSAMPLE = 2
# Without a stated length: one slice per 100 ms.
_FALLBACK_SLICE_S = 0.1
_PEAK = "lavfi.astats.Overall.Peak_level"


class PeakMeter:
    """Feed it every frame of the audio, then ask for the peaks once.

    astats measures each slice in C; Python sees one number per slice, never a sample.
    Its cost is mostly per slice and channel (it clears each channel's histograms), so
    slices are few and long, and a stereo source's channels are interleaved into one
    (left, right, left ...) at twice the rate: a slice of twice the samples holds the same
    samples, so its peak is the peak across both channels, at one channel's cost.
    """

    def __init__(
        self,
        sample_rate: int,
        layout: str,
        expected_samples: int | None,
        points: int = POINTS,
        *,
        exact: bool = False,
    ) -> None:
        """``exact``: ``expected_samples`` is the audio's length as decoded, not a
        container's estimate: one slice a point is enough, for half the cost (a short
        song's waveform costs little else)."""
        self._points = points
        if expected_samples and exact:
            per_slice = max(1, -(-expected_samples // points))  # rounded up: at most points
        elif expected_samples:
            per_slice = max(1, expected_samples // (points * _OVERSAMPLE))
        else:
            per_slice = max(1, round(sample_rate * _FALLBACK_SLICE_S))
        self._levels: list[float] = []
        self._channels = 1 if layout == "mono" else 2
        self._rate = sample_rate * self._channels
        self._time_base = Fraction(1, self._rate)
        self._fed = 0
        # Packed float: the channels' samples interleaved, as the single channel needs them.
        self._packer = AudioResampler(format="flt", layout=layout, rate=sample_rate)
        self._graph = Graph()
        source = self._graph.add_abuffer(
            sample_rate=self._rate, format="flt", layout="mono", time_base=self._time_base
        )
        # pad=0: the last slice is as short as the audio left, not filled with silence.
        slices = self._graph.add(
            "asetnsamples", f"nb_out_samples={per_slice * self._channels}:pad=0"
        )
        stats = self._graph.add(
            "astats", "metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level"
        )
        sink = self._graph.add("abuffersink")
        source.link_to(slices)
        slices.link_to(stats)
        stats.link_to(sink)
        self._graph.configure()

    def add(self, frame: AudioFrame) -> None:
        for packed in self._packer.resample(frame):
            self._push(packed)

    def result(self) -> tuple[float, ...]:
        """About ``points`` values in 0..1 (exactly that many unless the audio has fewer
        slices); all zero for silence."""
        for packed in self._packer.resample(None):
            self._push(packed)
        self._graph.push(None)
        self._drain()
        merged = _merge(self._levels, self._points)
        loudest = max(merged, default=0.0)
        if loudest <= 0:
            return tuple(0.0 for _ in merged)
        return tuple(round(level / loudest, 4) for level in merged)

    def _push(self, packed: AudioFrame) -> None:
        """``packed`` as one channel: its interleaved samples, as they are in memory."""
        samples = packed.samples * self._channels
        single = AudioFrame(format="flt", layout="mono", samples=samples)
        plane = single.planes[0]
        # The packed plane may be padded past its samples: only theirs are copied.
        plane.update(bytes(memoryview(packed.planes[0])[: plane.buffer_size]))
        single.sample_rate = self._rate
        single.pts = self._fed
        single.time_base = self._time_base
        self._fed += samples
        self._graph.push(single)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                out = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            # Peak level in dBFS; "-inf" for a slice of digital silence.
            decibels = float(out.metadata.get(_PEAK, "-inf"))
            self._levels.append(0.0 if math.isinf(decibels) else 10 ** (decibels / 20))


def _merge(levels: list[float], points: int) -> list[float]:
    """``points`` values, each the peak of an equal share of ``levels`` (give or take one)."""
    count = len(levels)
    if count <= points:
        return levels
    return [max(levels[i * count // points : (i + 1) * count // points]) for i in range(points)]
