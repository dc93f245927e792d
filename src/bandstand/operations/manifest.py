"""What a backup folder holds, written last so that a folder without it is no backup.

```
manifest.json     this file: versions, counts, and each file's size and sha256
database.sqlite3  the SQLite database (its online backup API), or
database.pgdump   pg_dump's custom format
secret_key        the data folder's own key, when BANDSTAND_SECRET_KEY is not set
media/<key>       every stored media file, under its storage key
```
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bandstand.operations import Refused
from bandstand.storage import check_key

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_DUMP_FILE = "database.pgdump"
SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
MEDIA = "media"
# The tables whose rows a manifest counts, by the name the manifest gives them.
COUNTED = {
    "users": "users",
    "songs": "songs",
    "likes": "song_likes",
    "comments": "comments",
    "playlists": "playlists",
}


class FileEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    size: int
    sha256: str


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int
    bandstand_version: str
    alembic_revision: str
    backend: Literal["sqlite", "postgresql"]
    created_at: dt.datetime
    counts: dict[str, int]
    database: FileEntry
    # A hash of the signing secret, never the secret: two-factor secrets and app
    # passwords are sealed under it, so a restore under another key would lose them.
    secret_fingerprint: str
    media: list[FileEntry]

    @field_validator("database")
    @classmethod
    def _database_file(cls, value: FileEntry) -> FileEntry:
        if value.key not in {SQLITE_FILE, PG_DUMP_FILE}:
            raise ValueError(f"unknown database file {value.key!r}")
        return value

    @field_validator("media")
    @classmethod
    def _storage_keys(cls, value: list[FileEntry]) -> list[FileEntry]:
        # Names the server could have made, never a path out of the backup folder.
        for item in value:
            check_key(item.key)
        return value


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def entry(root: Path, name: str) -> FileEntry:
    """The size and hash of ``root/name`` (blocking: from a thread)."""
    path = root / name
    return FileEntry(key=name, size=path.stat().st_size, sha256=sha256_of(path))


def secret_fingerprint(secret: str) -> str:
    return hashlib.sha256(b"bandstand-backup\0" + secret.encode()).hexdigest()[:16]


def write(folder: Path, manifest: Manifest) -> None:
    partial = folder / f".{MANIFEST}.part"
    partial.write_text(manifest.model_dump_json(indent=2) + "\n")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(folder / MANIFEST)


def read(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``, or Refused saying what is wrong with it."""
    path = folder / MANIFEST
    if not path.is_file():
        raise Refused(f"{folder} is not a complete backup: it has no {MANIFEST}")
    try:
        manifest = Manifest.model_validate(json.loads(path.read_text()))
    except (ValueError, ValidationError) as exc:
        said = str(exc).splitlines()[0]
        raise Refused(f"{path} is damaged ({said}); use another backup") from None
    if manifest.format != FORMAT:
        raise Refused(
            f"{path} is in backup format {manifest.format}; this Bandstand reads {FORMAT}"
        )
    return manifest


def verify(folder: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is there with its size and hash (blocking)."""
    listed = [(folder, manifest.database), *((folder / MEDIA, f) for f in manifest.media)]
    for root, expected in listed:
        path = root / expected.key
        if not path.is_file():
            raise Refused(f"the backup lacks {path}: it is incomplete")
        if path.stat().st_size != expected.size or sha256_of(path) != expected.sha256:
            raise Refused(f"{path} does not match its checksum in {MANIFEST}: it is damaged")
