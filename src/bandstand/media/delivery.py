"""Sending stored media to a client: by the proxy, by the object store, or by us."""

from __future__ import annotations

import asyncio
import os

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
)
from starlette.types import Receive, Scope, Send

from bandstand.config import Settings
from bandstand.errors import AppError, BadRequest, NotFound
from bandstand.storage import Storage

# A single range up to this size is read with one pread, in one thread hop, and sent as one
# body: players ask for a few hundred KiB at a time, and FileResponse would spend a thread
# hop on each 64 KiB (plus the open, the seek and the close) and a task group on each answer.
ONE_READ_MAX = 1024 * 1024


class RangeNotSatisfiableError(AppError):
    status_code = 416
    message = "The requested range is not satisfiable."

    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"})


def _range_applies(headers: Headers, response: FileResponse) -> bool:
    """Whether FileResponse will act on the Range header: there is one, and any If-Range
    names this very file (the rule FileResponse applies: a strong ETag or the exact date)."""
    if "range" not in headers:
        return False
    if_range = headers.get("if-range")
    if if_range is None:
        return True
    current = (response.headers["etag"], response.headers["last-modified"])
    return not if_range.startswith("W/") and if_range in current


def _check_range(headers: Headers, response: FileResponse, size: int) -> None:
    """Answer a bad Range in the envelope, as every error is; FileResponse serves every
    good one (single, several as multipart/byteranges) but would answer bad ones in
    plain text."""
    if not _range_applies(headers, response):
        return
    try:
        FileResponse._parse_range_header(headers["range"], size)
    except MalformedRangeHeader as exc:
        raise BadRequest("Malformed Range header.") from exc
    except RangeNotSatisfiable as exc:
        raise RangeNotSatisfiableError(size) from exc


async def deliver(
    storage: Storage,
    settings: Settings,
    key: str,
    content_type: str,
    request: Request,
    cache: str,
) -> Response:
    """Serve a stored file: a presigned redirect from an object store (signed for the
    request's method: a URL signed for GET is refused a HEAD), an ``X-Accel-Redirect`` for
    the proxy when offloading, else the bytes with Range support. ``settings`` say which
    (``stream_url_ttl_s``, ``media_offload``, ``accel_redirect_prefix``)."""
    headers = request.headers
    path = storage.local_path(key)
    if path is None:
        url = await storage.presigned_url(
            key, settings.stream_url_ttl_s, content_type, head=request.method == "HEAD"
        )
        if url is None:
            raise NotFound("Media not found.")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    if settings.media_offload:
        prefix = settings.accel_redirect_prefix.rstrip("/")
        return Response(
            headers={
                "X-Accel-Redirect": f"{prefix}/{key}",
                "Content-Type": content_type,
                "Cache-Control": cache,
            }
        )
    try:
        stat = await asyncio.to_thread(path.stat)
    except FileNotFoundError as exc:
        raise NotFound("Media not found.") from exc
    response = _MediaFile(
        path,
        media_type=content_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        stat_result=stat,
    )
    _check_range(headers, response, stat.st_size)
    return response


def _read(path: str | os.PathLike[str], start: int, length: int) -> bytes:
    with open(path, "rb") as file:
        return os.pread(file.fileno(), length, start)


class _MediaFile(FileResponse):
    """FileResponse with a short path for what players send most: one byte range of a
    bounded size. Everything else (no range, several, HEAD, If-Range that does not match)
    is FileResponse's own, in chunks of 256 KiB rather than 64 (a quarter of the thread hops
    for a whole file or an open-ended range)."""

    chunk_size = 256 * 1024

    def _single_range(self, scope: Scope) -> tuple[int, int] | None:
        if scope["method"] != "GET" or self.stat_result is None:
            return None
        headers = Headers(scope=scope)
        if not _range_applies(headers, self):
            return None
        try:
            ranges = self._parse_range_header(headers["range"], self.stat_result.st_size)
        except (MalformedRangeHeader, RangeNotSatisfiable):
            return None  # deliver() answered these already; FileResponse would too
        if len(ranges) != 1 or ranges[0][1] - ranges[0][0] > ONE_READ_MAX:
            return None
        return ranges[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = self._single_range(scope)
        if span is None or self.stat_result is None:
            await super().__call__(scope, receive, send)
            return
        start, end = span
        body = await asyncio.to_thread(_read, self.path, start, end - start)
        if len(body) != end - start:
            raise RuntimeError(f"File at path {self.path} is shorter than expected.")
        headers = MutableHeaders(raw=list(self.raw_headers))
        headers["content-range"] = f"bytes {start}-{end - 1}/{self.stat_result.st_size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})
