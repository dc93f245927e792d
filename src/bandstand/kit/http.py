"""Request-shape guards shared by routers (async: FastAPI runs sync dependencies in threads)."""

from __future__ import annotations

from fastapi import Depends, Request

from bandstand.errors import UnsupportedMediaType


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "transfer-encoding" in request.headers


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _require_json(request: Request) -> None:
    if _has_body(request) and _media_type(request) != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")


async def _require_multipart(request: Request) -> None:
    if _media_type(request) != "multipart/form-data":
        raise UnsupportedMediaType("Send the body as multipart/form-data.")


JSON_BODY = Depends(_require_json)
MULTIPART_BODY = Depends(_require_multipart)
