"""create_app(): middleware, routers and the lifespan that owns engines and clients."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bandstand import __version__
from bandstand.accounts.cookies import AUTH_COOKIES, DEVICE_COOKIE
from bandstand.accounts.deps import carries_access_token
from bandstand.accounts.passwords import dummy_hash
from bandstand.accounts.router import router as users_router
from bandstand.analytics.router import router as analytics_router
from bandstand.budgets import WriteBudgetMiddleware, budgeted_routes
from bandstand.comments.router import router as comments_router
from bandstand.config import Settings
from bandstand.engagement.counters.flush import counters_kept
from bandstand.errors import install_error_handlers
from bandstand.kit import datalock
from bandstand.kit.envelope import ERRORS, Envelope, envelope
from bandstand.kit.gc import settle_garbage_collector
from bandstand.logging import configure_logging
from bandstand.media.router import router as media_router
from bandstand.middleware import (
    BodyLimitMiddleware,
    BodyTimeoutMiddleware,
    CrossSiteWriteMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    UploadAuthMiddleware,
)
from bandstand.migrations import upgrade
from bandstand.moderation.router import admin_router, reports_router
from bandstand.observability import http as metrics_http
from bandstand.observability import metrics
from bandstand.playlists.router import router as playlists_router
from bandstand.releases.router import router as releases_router
from bandstand.runtime import Runtime
from bandstand.songs.router import router as songs_router
from bandstand.subsonic.router import router as subsonic_router
from bandstand.system import Pong, mount_static
from bandstand.system import router as system_router
from bandstand.web.errors import install as install_error_pages
from bandstand.web.router import include_pages
from bandstand.worker.run import jobs_running

API_PREFIX = "/api/v1"
# Answers that carry tokens or secrets (and any that sets an auth cookie) are not cached.
NO_STORE = re.compile(
    rf"^{API_PREFIX}/users/(register|verify-otp|login|refresh-token|2fa(/.*)?|app-passwords(/.*)?)$"
)


def _limit_for(settings: Settings) -> Callable[[Scope], int]:
    """The body limit is the route's, whatever the client says the body is: only the
    upload routes take files, and a song upload is the largest of them."""
    uploads = {
        f"{API_PREFIX}/songs/upload": settings.audio_max_bytes + settings.image_max_bytes,
        f"{API_PREFIX}/users/register": settings.image_max_bytes,
        f"{API_PREFIX}/users/update-avatar": settings.image_max_bytes,
        # The web app's forms that take an image (bandstand/web/).
        "/signup": settings.image_max_bytes,
        "/account/avatar": settings.image_max_bytes,
    }
    cover = re.compile(
        rf"^{API_PREFIX}/(songs/[^/]+/thumbnail|playlist/?|playlist/[^/]+/update"
        r"|releases|releases/[^/]+/thumbnail)$"
        r"|^/(studio/songs/[^/]+/cover|playlists|playlists/[^/]+/edit"
        r"|studio/releases|studio/releases/[^/]+/cover)$"
    )
    overhead = 1024 * 1024  # multipart framing and the text fields beside the files

    def limit(scope: Scope) -> int:
        path: str = scope.get("path", "")
        if path in uploads:
            return uploads[path] + overhead
        if cover.match(path):
            return settings.image_max_bytes + overhead
        return settings.max_json_bytes

    return limit


def _data_folder_held(settings: Settings) -> contextlib.AbstractContextManager[None]:
    if settings.is_embedded_database:
        return datalock.holding(settings.data_dir, "bandstand serve", settings.sqlite_file)
    return contextlib.nullcontext()


def create_app(settings: Settings | None = None, *, migrate: bool | None = None) -> FastAPI:
    """Build the application. ``migrate`` (default: on the embedded database) applies
    migrations at start-up, so ``bandstand serve`` needs nothing run before it."""
    settings = settings or Settings()
    configure_logging(settings.log_json)
    should_migrate = settings.is_embedded_database if migrate is None else migrate
    if settings.metrics_enabled:
        metrics.enable(settings.metrics_folder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Embedded, this process alone may write the data folder, and it must hold it
        # before the migrations or the counter rebuild write anything (kit/datalock.py).
        with _data_folder_held(settings):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            if should_migrate:
                await asyncio.to_thread(upgrade, settings.effective_database_url)
            # The first unknown-user login must not pay for making the timing-equaliser hash.
            await asyncio.to_thread(dummy_hash, settings.password_hash_cost)
            runtime = Runtime.build(settings)
            app.state.runtime = runtime
            try:
                async with (
                    counters_kept(runtime),
                    jobs_running(
                        runtime.queue,
                        runtime.sessionmaker,
                        state=runtime,
                        consume=settings.run_jobs_in_api,
                    ),
                ):
                    if settings.env != "test":
                        settle_garbage_collector()
                    yield
            finally:
                await runtime.close()
                metrics.mark_dead()

    app = FastAPI(
        title="Bandstand",
        version=__version__,
        summary="A self-hostable music platform for independent artists.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_error_pages(app)

    api = APIRouter(responses=ERRORS)
    # One router per URL prefix, so no router's order decides what another's paths mean
    # (tests/test_routes.py). Songs first all the same: its first routes are the likes,
    # the busiest write, matched before any other route is tried.
    api.include_router(songs_router)
    api.include_router(users_router)
    api.include_router(comments_router)
    api.include_router(playlists_router)
    api.include_router(releases_router)
    api.include_router(analytics_router)
    api.include_router(media_router)
    api.include_router(reports_router)
    api.include_router(admin_router)

    # Hot: rendered by hand (what every benchmark measures against), and checked
    # against its schema by a test.
    @api.get("/ping", include_in_schema=False, response_model=Envelope[Pong])
    async def ping() -> JSONResponse:
        return envelope({"pong": True}, "pong")

    # The prefix given here, not to ``api``: including a router without one, FastAPI
    # builds every route of its routers once more (to check none has an empty path).
    app.include_router(api, prefix=API_PREFIX)
    # Next: apps call /rest many times a second, and every route before it is tried.
    app.include_router(subsonic_router)
    app.include_router(system_router)
    if settings.metrics_enabled:
        metrics_http.install(app, settings)
    include_pages(app)
    mount_static(app)

    # Outermost last: the request id wraps all but the headers every answer carries, so
    # every fault gets one. Innermost: a write spends its budgets once the cheaper refusals
    # below have passed, and before its body is read.
    app.add_middleware(
        WriteBudgetMiddleware, routes=budgeted_routes(app.routes, API_PREFIX, settings)
    )
    app.add_middleware(
        CrossSiteWriteMiddleware, allowed_origins=settings.origins, cookie_names=AUTH_COOKIES
    )
    app.add_middleware(
        UploadAuthMiddleware,
        paths=re.compile(
            rf"^{API_PREFIX}/(songs/upload|songs/[^/]+/thumbnail|users/update-avatar"
            r"|playlist/?|playlist/[^/]+/update|releases|releases/[^/]+/thumbnail)$"
        ),
        authenticated=carries_access_token,
    )
    app.add_middleware(BodyLimitMiddleware, limit_for=_limit_for(settings))
    app.add_middleware(
        BodyTimeoutMiddleware,
        grace_s=settings.body_timeout_s,
        idle_s=settings.body_idle_timeout_s,
        min_rate=settings.body_min_rate,
    )
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
        )
    if settings.trusted_proxies:
        # Who the client is, for every limit and log below: the proxies' word only when
        # the connection comes from one of them (uvicorn's own reading is off, cli.py).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(RequestIdMiddleware)
    if settings.metrics_enabled:
        # Outside the request id's: a fault it turns into a 500 is counted as one.
        app.add_middleware(metrics_http.MetricsMiddleware, routes=app.routes)
    # Outermost, so the answers the layers above make themselves (a 413, a 500) carry them.
    app.add_middleware(
        SecurityHeadersMiddleware, no_store=NO_STORE, cookie_names=(*AUTH_COOKIES, DEVICE_COOKIE)
    )
    return app
