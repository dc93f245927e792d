"""FFmpeg filter graphs fed with the frames processing converts (planar float)."""

from __future__ import annotations

from fractions import Fraction

from av.filter import Graph
from av.filter.context import FilterContext


def frame_graph(sample_rate: int, layout: str) -> tuple[Graph, FilterContext]:
    """A new graph and its source, which takes ``fltp`` frames at this rate and layout."""
    graph = Graph()
    source = graph.add_abuffer(
        sample_rate=sample_rate, format="fltp", layout=layout, time_base=Fraction(1, sample_rate)
    )
    return graph, source
