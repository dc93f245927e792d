"""Releases from tags: which files make one release, in what order, called what, of what
kind and year.

Files are grouped by album artist and album. A file with an album but no album artist is
grouped with those of the same album in its folder (a disc's folder, ``CD1``, counts as
its parent's): track artists vary on one album ("feat." guests, compilations), folders
rarely do. A file without an album is a single, on no release.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bandstand.imports.scan import natural
from bandstand.imports.tags import Tags
from bandstand.models import ReleaseKind
from bandstand.songs.service import MAX_TITLE, from_tag

_DISC_FOLDER = re.compile(r"^(cd|dis[ck])\s*[-_ ]?\s*\d{1,2}$", re.IGNORECASE)
# Tracks of a release, by kind, when no tag names it (Bandcamp's and the stores' rule of
# thumb): one a single, up to six an EP, more an album.
SINGLE_MAX, EP_MAX = 1, 6


@dataclass
class Member:
    """A file of the folder that is, or will be, a song: ``song_id`` and ``release_id``
    for one already there (an earlier import of the same bytes)."""

    path: Path
    tags: Tags
    song_id: uuid.UUID | None = None
    release_id: uuid.UUID | None = None

    @property
    def already_there(self) -> bool:
        return self.song_id is not None


@dataclass
class Group:
    """One release's files, in track order."""

    key: tuple[str, ...]
    title: str
    members: list[Member] = field(default_factory=list)

    @property
    def kind(self) -> str:
        named = next((m.tags.kind for m in self.members if m.tags.kind), None)
        if named:
            return named
        return kind_for(len(self.members))

    @property
    def year(self) -> int | None:
        return next((m.tags.year for m in self.members if m.tags.year), None)

    @property
    def release_id(self) -> uuid.UUID | None:
        """The release an earlier import put some of these files on, to add the rest to."""
        return next((m.release_id for m in self.members if m.release_id), None)


def kind_for(tracks: int) -> str:
    if tracks <= SINGLE_MAX:
        return ReleaseKind.SINGLE.value
    if tracks <= EP_MAX:
        return ReleaseKind.EP.value
    return ReleaseKind.ALBUM.value


def album_of(tags: Tags) -> str | None:
    """The album as a release is titled: tidied as a tag is for a title."""
    return from_tag(tags.album, MAX_TITLE)


def _key(member: Member) -> tuple[str, ...] | None:
    album = album_of(member.tags)
    if album is None:
        return None
    artist = from_tag(member.tags.album_artist, MAX_TITLE)
    if artist:
        return ("artist", artist.casefold(), album.casefold())
    return ("folder", str(album_folder(member.path)), album.casefold())


def album_folder(path: Path) -> Path:
    """The folder an album's file is in: a disc's folder (``CD1``) counts as its parent."""
    folder = path.parent
    return folder.parent if _DISC_FOLDER.match(folder.name) else folder


def _order(member: Member) -> tuple[int, float, tuple[tuple[int | str, ...], ...]]:
    tags = member.tags
    track = tags.track if tags.track is not None else math.inf
    return (tags.disc or 1, track, natural(member.path))


def group(members: Sequence[Member]) -> tuple[list[Group], list[Member]]:
    """The releases the files make (in the order their first file comes), and the files
    that are singles."""
    groups: dict[tuple[str, ...], Group] = {}
    singles: list[Member] = []
    for member in members:
        key = _key(member)
        if key is None:
            singles.append(member)
            continue
        found = groups.get(key)
        if found is None:
            found = groups[key] = Group(key=key, title=album_of(member.tags) or "")
        found.members.append(member)
    for found in groups.values():
        found.members.sort(key=_order)
        # Named as its first track names it.
        found.title = album_of(found.members[0].tags) or found.title
    return list(groups.values()), singles
