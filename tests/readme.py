"""The README's walk-through as a script: its shell blocks, pointed at a test's server and
files, and what running them printed.

The blocks are taken exactly as a reader sees them; only the address of the server and
the ``/path/to/...`` placeholders change, so the test runs the reader's commands.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## A first walk-through"
# The address the README tells readers `make run` serves.
BASE_URL = "http://127.0.0.1:8000"
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_PLACEHOLDER = re.compile(r"/path/to/[\w.-]+")


def walkthrough_blocks(text: str) -> list[str]:
    """The ```sh blocks of the walk-through section, in order."""
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    section = text[start : following if following != -1 else len(text)]
    return _BLOCK.findall(section)


def placeholders(script: str) -> set[str]:
    """The files a reader must supply (``/path/to/track.mp3`` ...)."""
    return set(_PLACEHOLDER.findall(script))


def localise(script: str, base_url: str, files: dict[str, Path]) -> str:
    """The script aimed at ``base_url``, with each placeholder replaced by a real file."""
    missing = placeholders(script) - files.keys()
    if missing:
        raise KeyError(f"no file for the README's {sorted(missing)}")
    script = script.replace(BASE_URL, base_url.rstrip("/"))
    return _PLACEHOLDER.sub(lambda match: str(files[match.group(0)]), script)


@dataclass(frozen=True)
class Printed:
    """One thing the script printed: a JSON document (``json``), or else a line of text."""

    json: Any = None
    text: str = ""

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The API's envelope, if this is one."""
        if isinstance(self.json, dict) and {"statusCode", "success", "data"} <= self.json.keys():
            return self.json
        return None


def transcript(stdout: str) -> list[Printed]:
    """What was printed, in order. ``curl -s`` ends its JSON without a newline, so a
    document may be followed on its line by the next document or by text."""
    decoder = json.JSONDecoder()
    found: list[Printed] = []
    at = 0
    while at < len(stdout):
        if stdout[at].isspace():
            at += 1
            continue
        if stdout[at] in "{[":
            try:
                document, at = decoder.raw_decode(stdout, at)
            except json.JSONDecodeError:
                pass
            else:
                found.append(Printed(json=document))
                continue
        end = stdout.find("\n", at)
        end = len(stdout) if end == -1 else end
        found.append(Printed(text=stdout[at:end].strip()))
        at = end
    return found
