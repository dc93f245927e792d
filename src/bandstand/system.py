"""Operator routes: liveness, readiness, offline API docs, local media files."""

from __future__ import annotations

import asyncio
import mimetypes
from importlib import resources
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand.accounts.deps import MaybePrincipalDep
from bandstand.db import ReadSessionDep
from bandstand.errors import NotFound
from bandstand.kit.envelope import Envelope, answer
from bandstand.media.delivery import deliver
from bandstand.media.images import COVER_SIZES
from bandstand.resources import EngineDep, LimiterDep, SettingsDep, StorageDep
from bandstand.songs import repository as songs
from bandstand.storage import InvalidKey, check_key

router = APIRouter(include_in_schema=False)
PUBLIC_PREFIXES = {"avatars", "covers"}


class Alive(BaseModel):
    status: Literal["ok"]


class Pong(BaseModel):
    """``GET /api/v1/ping`` (app.py), rendered by hand: the benchmarks' baseline."""

    pong: Literal[True]


# Each service checked (``database``, and ``redis`` when one is set): "ok", or why not.
Checks = dict[str, str]


@router.api_route("/healthz", methods=["GET", "HEAD"], response_model=Envelope[Alive])
async def healthz() -> Envelope[Alive]:
    return answer(Alive(status="ok"), "Alive.")


@router.get("/readyz", response_model=Envelope[Checks])
async def readyz(
    response: Response, engine: EngineDep, limiter: LimiterDep, settings: SettingsDep
) -> Envelope[Checks]:
    checks: Checks = {}
    try:
        async with asyncio.timeout(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if settings.redis_url:
        try:
            async with asyncio.timeout(3):
                checks["redis"] = "ok" if await limiter.ping() else "unreachable"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ready else 503
    return answer(checks, "Ready." if ready else "Not ready.", response.status_code)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Bandstand API",
        swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        # Swagger UI would otherwise post the spec to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"])
async def media(
    key: str,
    request: Request,
    storage: StorageDep,
    settings: SettingsDep,
    session: ReadSessionDep,
    principal: MaybePrincipalDep,
) -> Response:
    """Public media: avatars and covers, nothing else (songs stream by signed URL only).
    Keys are checked against what the server generates. The cover of a song taken down,
    or of a banned owner's, is 404 to all but its owner, as the song is (embedded: in
    production the proxy serves covers itself, ``bandstand proxy-config``)."""
    try:
        check_key(key)
    except InvalidKey as exc:
        raise NotFound("Media not found.") from exc
    prefix = key.split("/", 1)[0]
    if prefix not in PUBLIC_PREFIXES:
        raise NotFound("Media not found.")
    viewer_id = principal.user_id if principal else None
    if prefix == "covers" and await songs.cover_hidden(session, _cover_keys(key), viewer_id):
        raise NotFound("Media not found.")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    cache = "public, max-age=31536000, immutable"
    return await deliver(storage, settings, key, media_type, request, cache)


def _cover_keys(key: str) -> list[str]:
    """The key a song names its cover by, for one of the cover's files: the largest size
    (``covers/<id>/640.webp`` for ``covers/<id>/64.webp``), or the file itself for a cover
    stored before sizes existed (``covers/<id>.webp``)."""
    if key.count("/") != 2:
        return [key]
    return [f"{key.rsplit('/', 1)[0]}/{max(COVER_SIZES)}.webp"]


class _Versioned:
    """Static files named with their content's hash (``?v=``, web/templating.asset) are
    the same for good: browsers keep them a year and never ask again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get("query_string", b"").startswith(b"v="):
            await self.app(scope, receive, send)
            return

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                headers["cache-control"] = "public, max-age=31536000, immutable"
            await send(message)

        await self.app(scope, receive, send_cached)


def mount_static(app: FastAPI) -> None:
    """``/static``: the web app's scripts and styles, the vendored libraries, /docs' own;
    compressed for browsers that take gzip."""
    directory = resources.files("bandstand").joinpath("static")
    files = _Versioned(GZipMiddleware(StaticFiles(directory=str(directory)), minimum_size=500))
    app.mount("/static", files, name="static")
