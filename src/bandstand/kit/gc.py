"""Garbage-collector settings for a long-running server."""

from __future__ import annotations

import gc

# Young-generation collections every 700 allocations (the default) run dozens of times per
# request and, now and then, a full collection walks every object the app holds: the long
# tail of response times. Collect less often, and never walk what start-up built.
GEN0_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Call once start-up is done: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
