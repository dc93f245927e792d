"""Pure ASGI middleware: request ids and faults, body limits and timeouts, cross-site
write refusal, the headers every answer carries."""

from __future__ import annotations

import asyncio
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
        # The browser's own word that a page of this very site sent it (a page cannot
        # forge it): whatever address the site was opened by, its own pages may write.
        if headers.get("sec-fetch-site", "").lower() == "same-origin":
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


class BodyTimedOut(HTTPException):
    def __init__(self) -> None:
        # The rest of the body may still be on its way: the connection is not reused.
        super().__init__(408, "Request body not received in time.", {"connection": "close"})


class BodyTimeoutMiddleware:
    """Cuts off a request body that stalls or trickles (a client holding a connection
    and a worker's attention by sending a byte now and then): each read of the body may
    wait ``idle_s`` at most, and the whole body must arrive within ``grace_s`` plus one
    second for every ``min_rate`` bytes received. A slow upload that keeps coming is
    never cut; one byte a second is, after the grace. Answered 408, connection closed."""

    def __init__(self, app: ASGIApp, grace_s: float, idle_s: float, min_rate: int) -> None:
        self.app = app
        self.grace_s = grace_s
        self.idle_s = idle_s
        self.min_rate = max(1, min_rate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        received = 0
        complete = False

        async def timed_receive() -> Message:
            nonlocal received, complete
            if complete:
                # After the body only a disconnect can come, whenever it does.
                return await receive()
            deadline = started + self.grace_s + received / self.min_rate
            wait = min(self.idle_s, deadline - loop.time())
            if wait <= 0:
                raise BodyTimedOut
            try:
                async with asyncio.timeout(wait):
                    message = await receive()
            except TimeoutError:
                raise BodyTimedOut from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)


class SecurityHeadersMiddleware:
    """Every answer says ``X-Content-Type-Options: nosniff`` (a JSON answer is never run
    as a script or a page). Answers that carry tokens or secrets — those of ``no_store``
    paths and any that sets one of ``cookie_names`` — say ``Cache-Control: no-store``,
    so no browser or proxy cache keeps them."""

    def __init__(
        self, app: ASGIApp, no_store: re.Pattern[str], cookie_names: tuple[str, ...]
    ) -> None:
        self.app = app
        self.no_store = no_store
        self.cookies = tuple(f"{name}=".encode() for name in cookie_names)

    def _sets_secret_cookie(self, headers: list[tuple[bytes, bytes]]) -> bool:
        return any(k.lower() == b"set-cookie" and v.startswith(self.cookies) for k, v in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secret_path = self.no_store.match(scope["path"]) is not None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if secret_path or self._sets_secret_cookie(headers):
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
