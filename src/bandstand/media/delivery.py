"""Sending stored media to a client: by the proxy, by the object store, or by us."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.responses import (
    FileResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
)

from bandstand.errors import AppError, BadRequest, NotFound
from bandstand.runtime import Runtime


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
    rt: Runtime, key: str, content_type: str, headers: Headers, cache: str
) -> Response:
    """Serve a stored file: a presigned redirect from an object store, an
    ``X-Accel-Redirect`` for the proxy when offloading, else the bytes with Range support."""
    path = rt.storage.local_path(key)
    if path is None:
        url = await rt.storage.presigned_url(key, rt.settings.stream_url_ttl_s, content_type)
        if url is None:
            raise NotFound("Media not found.")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    if rt.settings.media_offload:
        prefix = rt.settings.accel_redirect_prefix.rstrip("/")
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
    response = FileResponse(
        path,
        media_type=content_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        stat_result=stat,
    )
    _check_range(headers, response, stat.st_size)
    return response
