"""Errors answered as pages: a browser that asked for a page (not the API, not a file)
gets the site's own 404 or error page, in the site's layout; everyone else the API's
JSON envelope, as before."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bandstand.errors import AppError
from bandstand.web.templating import render

Handler = Callable[[Request, Exception], Awaitable[Response]]
JsonHandler = Callable[[Request, Any], Response | Awaitable[Response]]
NOT_PAGES = ("/api/", "/static/", "/media/", "/docs", "/openapi.json", "/healthz", "/rest/")
HEADINGS = {404: "Not found", 403: "Not allowed", 401: "Sign in needed", 429: "Slow down"}


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(NOT_PAGES) and "text/html" in request.headers.get("accept", "")


def _as_page(json_handler: JsonHandler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        answer = json_handler(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        status = answer.status_code
        # A redirect (to sign in, say) is followed, not shown.
        if not _wants_page(request) or 300 <= status < 400:
            return answer
        if isinstance(exc, AppError):
            message = exc.message
        elif status == 404:
            message = "There is no page here. It may have been removed, or the link is wrong."
        else:
            message = "That did not work. Check what you sent and try again."
        settings = request.app.state.runtime.settings
        heading = HEADINGS.get(status, "Something went wrong")
        page = render(
            request, settings, "error.html", None, status=status, heading=heading, message=message
        )
        if "retry-after" in answer.headers:
            page.headers["retry-after"] = answer.headers["retry-after"]
        return page

    return handle


def install(app: FastAPI) -> None:
    """Wrap the API's handlers (``errors.install_error_handlers``, installed first)."""
    for kind in (AppError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))
