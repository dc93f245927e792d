"""Domain errors carry their status; one set of handlers renders every failure as the envelope."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bandstand.kit.envelope import envelope

log = structlog.get_logger(__name__)


class AppError(Exception):
    status_code = 400
    message = "Bad request."
    # An answer whose side effects must stand (a spent attempt, a revoked login):
    # the transaction commits before the error is rendered.
    keep_changes = False

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors or []
        self.headers = headers


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    message = "Authentication required."


class Forbidden(AppError):
    status_code = 403
    message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    message = "Conflict."


class PayloadTooLarge(AppError):
    status_code = 413
    message = "Request body is too large."


class UnsupportedMediaType(AppError):
    status_code = 415
    message = "Unsupported media type."


class TooManyRequests(AppError):
    status_code = 429
    message = "Too many requests. Try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status_code = 503
    message = "Service unavailable."


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return "Malformed JSON body.", []
        message = str(err.get("msg", "Invalid value."))
        if err.get("type") == "missing":
            message = "This field is required."
        errors.append({"field": _field_name(tuple(err.get("loc", ()))), "message": message})
    return "Invalid input.", errors


async def _app_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return envelope(
        message=exc.message, status_code=exc.status_code, errors=exc.errors, headers=exc.headers
    )


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, errors = validation_errors(exc)
    return envelope(message=message, status_code=400, errors=errors)


_HTTP_MESSAGES = {
    404: "Route not found.",
    405: "Method not allowed.",
}


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    return envelope(message=message, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
