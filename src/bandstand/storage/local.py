from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

from bandstand.kit.ids import new_hex
from bandstand.storage import check_key


class LocalStorage:
    """Files in a folder under the data dir, written atomically."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root.resolve()
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self._copy, path, self.path(key))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def get_file(self, key: str, target: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path(key), target)

    async def delete(self, key: str) -> None:
        target = self.path(key)
        await asyncio.to_thread(self._remove, target)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def keys(self, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self._keys, prefix)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    async def presigned_url(
        self, key: str, ttl_s: int, content_type: str, *, head: bool = False
    ) -> str | None:
        check_key(key)
        return None

    def _keys(self, prefix: str) -> list[str]:
        # Walk only the folder the prefix names (a song's, when deleting it), not the tree.
        start = (self.root / prefix.rsplit("/", 1)[0]).resolve() if "/" in prefix else self.root
        if not start.is_relative_to(self.root) or not start.is_dir():
            return []
        found = (p.relative_to(self.root).as_posix() for p in start.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix) and not k.endswith(".part"))

    def _remove(self, target: Path) -> None:
        target.unlink(missing_ok=True)
        # Families of files live in a folder of their own; drop it once empty.
        parent = target.parent
        if parent != self.root and parent.parent != self.root:
            with contextlib.suppress(OSError):
                parent.rmdir()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{new_hex()}.part")
        try:
            with partial.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    @staticmethod
    def _copy(source: Path, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{new_hex()}.part")
        try:
            with source.open("rb") as reader, partial.open("wb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
                writer.flush()
                os.fsync(writer.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
