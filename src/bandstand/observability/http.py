"""``/metrics`` and the middleware that counts every request by its route template."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandstand.config import Settings
from bandstand.observability import metrics
from bandstand.observability.collectors import BacklogCollector, read_jobs


class MetricsMiddleware:
    """Counts and times each request under the path of the route that matched it
    (``/api/v1/songs/{song_id}``), never the URL asked: one series per route, however
    many songs there are. A request no route matched counts as ``unmatched``."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        # The app's routes, complete by the first request (the middleware is built then).
        self._routes = routes
        self._templates: dict[int, str] | None = None

    def _template(self, route: object) -> str:
        """The full path of a matched route: a route included from a router knows its
        path under that router only (``/upload``), the app the prefixes too."""
        if route is None:
            return "unmatched"
        if self._templates is None:
            self._templates = {}
            for context in iter_route_contexts(self._routes):
                if context.path is not None:
                    self._templates.setdefault(id(context.original_route), context.path)
        return self._templates.get(id(route)) or getattr(route, "path", None) or "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: a fault that escapes is one

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = self._template(scope.get("route"))
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


def install(app: FastAPI, settings: Settings) -> None:
    """``GET /metrics`` in Prometheus's text format, for whoever sends
    ``Authorization: Bearer <metrics_token>``; anyone else is told there is nothing
    here (404), so the endpoint does not announce itself."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    expected = f"Bearer {token}".encode()

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not token or not secrets.compare_digest(given, expected):
            return Response(status_code=404)
        runtime = request.app.state.runtime
        jobs = await read_jobs(runtime.read_sessionmaker)
        jobs = dataclasses.replace(jobs, pending_counters=await runtime.counters.pending_count())
        body = await asyncio.to_thread(_render, BacklogCollector(jobs))
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _render(jobs: BacklogCollector) -> bytes:
    """Every process's series (the shared folder) and the outbox as read now."""
    registry = CollectorRegistry()
    folder = metrics.enabled()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    registry.register(jobs)
    return generate_latest(registry)
