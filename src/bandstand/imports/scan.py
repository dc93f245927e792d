"""A folder read for an import: its files, in a stable order, and each file as the upload
checks would judge it, with its tags.

``examine`` runs in a worker process (``worker/cores.py``): it decodes the whole file, as
an upload's check does, and everything it takes and answers is pickled.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from bandstand.errors import AppError
from bandstand.imports import tags as tag_reader
from bandstand.imports.covers import is_image
from bandstand.imports.tags import Tags
from bandstand.media.audio import AudioLimits
from bandstand.songs.service import Checked, check_file

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Folder:
    """What an import finds under its folder: the files that may be audio, and the
    pictures beside them, by the folder they are in."""

    files: list[Path]
    images: dict[Path, list[Path]]


@dataclass(frozen=True)
class Examined:
    """A file read: its tags, and what the upload checks found (``checked``), or why
    they refused it (``refusal``). Neither for a file that was only read for its tags."""

    path: Path
    tags: Tags
    checked: Checked | None = None
    refusal: str | None = None


def natural(path: Path) -> tuple[tuple[int | str, ...], ...]:
    """Order ``2 Song`` before ``10 Song``, folder by folder."""
    return tuple(
        tuple(int(part) if part.isdigit() else part.casefold() for part in _DIGITS.split(name))
        for name in path.parts
    )


def walk(folder: Path) -> Folder:
    """Every file under ``folder``, in natural order, hidden ones (and those in hidden
    folders) left out; pictures apart. Folders linked from inside are not followed (a
    link to a parent would never end)."""
    files: list[Path] = []
    images: dict[Path, list[Path]] = {}
    for root, folders, names in os.walk(folder, followlinks=False):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            path = Path(root) / name
            if is_image(path):
                images.setdefault(path.parent, []).append(path)
            else:
                files.append(path)
    return Folder(sorted(files, key=natural), images)


def examine(
    path: Path, limits: AudioLimits, max_bytes: int, content_hash: str, check: bool
) -> Examined:
    """The file's tags and, with ``check``, the upload's checks (a refusal is answered,
    not raised). A refused file's picture is dropped: nothing will show it."""
    tags = tag_reader.read(path)
    if not check:
        return Examined(path, tags)
    try:
        checked = check_file(path, limits, max_bytes, content_hash, tags=False)
    except AppError as refused:
        return Examined(path, replace(tags, picture=None), refusal=refused.message)
    return Examined(path, tags, checked=checked)
