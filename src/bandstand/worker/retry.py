"""How long a failed job waits before its next try."""

from __future__ import annotations

import math
import random

from bandstand.config import Settings


def backoff_s(settings: Settings, tries: int) -> float:
    """After try ``tries`` failed: the first wait, times each try's number so far (5, 10,
    30, 120 s ... for 5 s), capped, plus up to half again of jitter so that jobs failing
    together do not all come back together."""
    wait = min(settings.job_retry_delay_s * math.factorial(tries), settings.job_retry_max_delay_s)
    return wait * (1 + random.random() / 2)  # noqa: S311 (jitter, not a secret)
