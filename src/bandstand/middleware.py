"""Pure ASGI middleware: request ids and faults, body limits, cross-site write refusal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import structlog
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def send_envelope(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(
        {"statusCode": status, "data": None, "message": message, "success": False, "errors": []}
    ).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestIdMiddleware:
    """Tags every request with an id (header ``X-Request-ID``) and turns any fault that
    escapes the app into a 500 envelope that names the id, never a stack trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from bandstand.kit.ids import new_hex

        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_ID.fullmatch(incoming) else new_hex()
        started = False

        async def tagged_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, tagged_send)
            except Exception:
                log.exception("unhandled_error", method=scope.get("method"), path=scope.get("path"))
                if not started:
                    await send_envelope(
                        tagged_send,
                        500,
                        f"Internal server error. Quote request id {request_id} when reporting it.",
                    )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is too large (limit {limit} bytes).")


class BodyLimitMiddleware:
    """Refuses bodies over the limit for their kind, declared or streamed, with a 413."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                await send_envelope(send, 400, "Invalid Content-Length header.")
                return
            if int(declared) > limit:
                await send_envelope(
                    send,
                    413,
                    f"Request body is too large (limit {limit} bytes).",
                    {"connection": "close"},
                )
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


class CrossSiteWriteMiddleware:
    """Refuses a cookie-authenticated unsafe request sent from a page of another origin.

    Browsers attach cookies to cross-site form posts; they also say where the request
    came from (``Origin``, ``Sec-Fetch-Site``). A request carrying a bearer token is
    not at risk, and neither is a client that sends no cookies.
    """

    def __init__(
        self, app: ASGIApp, allowed_origins: list[str], cookie_names: tuple[str, ...]
    ) -> None:
        self.app = app
        self.allowed = {o.lower() for o in allowed_origins}
        self.cookie_names = cookie_names

    def _carries_auth_cookie(self, headers: Headers) -> bool:
        raw = headers.get("cookie")
        if not raw:
            return False
        # The parser the app authenticates with, so both agree on what was sent.
        jar = cookie_parser(raw)
        return any(name in jar for name in self.cookie_names)

    def _refuse(self, headers: Headers) -> bool:
        if headers.get("authorization") or not self._carries_auth_cookie(headers):
            return False
        origin = headers.get("origin")
        if origin is not None:
            return origin.lower().rstrip("/") not in self.allowed
        return headers.get("sec-fetch-site", "").lower() in {"cross-site", "same-site"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and self._refuse(Headers(scope=scope))
        ):
            await send_envelope(send, 403, "Cross-site request refused.")
            return
        await self.app(scope, receive, send)


class UploadAuthMiddleware:
    """Refuses an upload whose request carries no valid access token before its body is
    read: otherwise an anonymous client could make the server spool hundreds of megabytes
    to disk just to be told 401. (The route still checks the login in full.)"""

    def __init__(
        self, app: ASGIApp, paths: re.Pattern[str], authenticated: Callable[[Scope], bool]
    ) -> None:
        self.app = app
        self.paths = paths
        self.authenticated = authenticated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and self.paths.match(scope["path"])
            and not self.authenticated(scope)
        ):
            await send_envelope(send, 401, "Authentication required.", {"connection": "close"})
            return
        await self.app(scope, receive, send)
