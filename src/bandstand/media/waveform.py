"""A waveform to draw: the peak level of each slice of the audio, loudest slice = 1.

Blocking: FFmpeg does the work on the calling thread.
"""

from __future__ import annotations

import math

import av
from av.audio.frame import AudioFrame

from bandstand.media.graphs import frame_graph

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
    Its cost is mostly per slice (it clears its histograms), so slices are few and long.
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
        self._graph, source = frame_graph(sample_rate, layout)
        # pad=0: the last slice is as short as the audio left, not filled with silence.
        slices = self._graph.add("asetnsamples", f"nb_out_samples={per_slice}:pad=0")
        stats = self._graph.add(
            "astats", "metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level"
        )
        sink = self._graph.add("abuffersink")
        source.link_to(slices)
        slices.link_to(stats)
        stats.link_to(sink)
        self._graph.configure()

    def add(self, frame: AudioFrame) -> None:
        self._graph.push(frame)
        self._drain()

    def result(self) -> tuple[float, ...]:
        """About ``points`` values in 0..1 (exactly that many unless the audio has fewer
        slices); all zero for silence."""
        self._graph.push(None)
        self._drain()
        merged = _merge(self._levels, self._points)
        loudest = max(merged, default=0.0)
        if loudest <= 0:
            return tuple(0.0 for _ in merged)
        return tuple(round(level / loudest, 4) for level in merged)

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
