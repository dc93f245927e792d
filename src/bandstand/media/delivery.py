"""Sending stored media to a client: by the proxy, by the object store, or by us."""

from __future__ import annotations

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


def _check_range(headers: Headers, size: int) -> None:
    """Answer a bad Range in the envelope; FileResponse serves every good one (single,
    several as multipart/byteranges, If-Range with ETag)."""
    header = headers.get("range")
    if header is None or "if-range" in headers:
        return
    try:
        FileResponse._parse_range_header(header, size)
    except MalformedRangeHeader as exc:
        raise BadRequest("Malformed Range header.") from exc
    except RangeNotSatisfiable as exc:
        raise RangeNotSatisfiableError(size) from exc


async def deliver(
    rt: Runtime, key: str, content_type: str, headers: Headers, cache: str
) -> Response:
    path = rt.storage.local_path(key)
    if path is None:
        url = await rt.storage.presigned_url(key, rt.settings.stream_url_ttl_s, content_type)
        if url is None:
            raise NotFound("Media not found.")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    if rt.settings.media_offload:
        prefix = rt.settings.accel_redirect_prefix.rstrip("/")
        return Response(
            headers={"X-Accel-Redirect": f"{prefix}/{key}", "Content-Type": content_type}
        )
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise NotFound("Media not found.") from exc
    _check_range(headers, size)
    return FileResponse(
        path,
        media_type=content_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )
