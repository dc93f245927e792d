"""A call's parameters: the query string and a form body (OpenSubsonic's ``formPost``)
merged, every value kept (``id`` and ``songId`` come many times), read by typed getters
that refuse a wrong value with a Subsonic error naming the parameter: a missing one is
code 10, a wrong one code 0. Nothing here ever raises anything else."""

from __future__ import annotations

from collections.abc import Iterable

from bandstand.kit.text import has_control_characters
from bandstand.subsonic.errors import MissingParameter, SubsonicError

# Far above any real call (a playlist of thousands of songs), far below what would cost.
MAX_FIELDS = 10_000
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class BadParameter(SubsonicError):
    def __init__(self, name: str, expected: str) -> None:
        super().__init__(f"Invalid value for parameter '{name}': expected {expected}.")


class Params:
    """Every value sent for each name, query string first, then the form body."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str) -> str | None:
        """The first value sent for ``name``, as sent."""
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        """Every value sent for ``name``, in order (``id=1&id=2``)."""
        return list(self._values.get(name, ()))

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise MissingParameter(name)
        return value

    def text(self, name: str, *, max_length: int, required: bool = False) -> str | None:
        """A value to store or search by: at most ``max_length`` characters, no control
        characters (PostgreSQL refuses NUL; the rest only ever come to cause mischief)."""
        value = self.required(name) if required else self.get(name)
        if value is None:
            return None
        if len(value) > max_length or has_control_characters(value):
            raise BadParameter(name, f"text of at most {max_length} characters")
        return value

    def integer(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        """A whole number; out of range is refused, not clamped (a client asking for
        ``size=-1`` has a bug worth telling it about)."""
        raw = self.required(name) if required else self.get(name)
        if raw is None or raw == "":
            return default
        raw = raw.strip()
        if not (raw.lstrip("-").isdigit() and raw.isascii() and len(raw) <= 19):
            raise BadParameter(name, "a whole number")
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else f" from {minimum}"
            high = "" if maximum is None else f" up to {maximum}"
            raise BadParameter(name, f"a whole number{low}{high}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise BadParameter(name, "true or false")
