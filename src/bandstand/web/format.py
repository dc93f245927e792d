"""Filters the templates use to show numbers and times as people read them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any


def duration(seconds: float | None) -> str:
    """3:07, or 1:02:03 for an hour or more."""
    if seconds is None:
        return "–:––"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def count(value: int | None) -> str:
    """1,234 below ten thousand; 12.3k, 4.5M above."""
    n = int(value or 0)
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def day(value: str | datetime | None) -> str:
    """5 Dec 2026."""
    if value is None:
        return ""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return f"{when.day} {when:%b %Y}"


FILTERS: dict[str, Callable[..., Any]] = {"duration": duration, "count": count, "day": day}
