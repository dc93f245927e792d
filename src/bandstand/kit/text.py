"""Text that is safe to store: no NUL or other control characters (tab and newlines aside).

PostgreSQL refuses NUL in text outright; the rest only ever arrive to cause mischief."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def plain(value: str) -> str:
    """A pydantic validator: refuse control characters."""
    if has_control_characters(value):
        raise ValueError("Control characters are not allowed.")
    return value
