"""Domain errors carry their status; one set of handlers renders every failure as the envelope."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import redis.exceptions
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bandstand.kit.envelope import envelope

log = structlog.get_logger(__name__)

# Seconds a client is told to wait when a dependency is down: long enough for a restart
# to finish, short enough that nobody gives up.
RETRY_AFTER_S = 5


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
    """Something the answer needs (the database, Redis) cannot be reached: the request
    itself was fine and may succeed once it is back, so the answer says when to retry."""

    status_code = 503
    message = "A service Bandstand depends on is unavailable. Try again shortly."

    def __init__(self, message: str | None = None, retry_after: int = RETRY_AFTER_S) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


# Errors that say a dependency is out of reach, not that the request or the code is wrong.
# Raw OS and asyncpg errors are here because connecting is not wrapped by SQLAlchemy.
# Neither InterfaceError is: asyncpg raises it for faults of ours (too many query
# arguments, a second operation on a busy connection); a connection that died under a
# query is told by SQLAlchemy's ``connection_invalidated``, or by the message below.
_DATABASE_DOWN: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)
_ASYNCPG_CLOSED = "connection is closed"
_REDIS_DOWN: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,  # refused, reset, still loading its data
    redis.exceptions.TimeoutError,
)
_SQLITE_DOWN = (
    "database is locked",
    "unable to open database file",
    "disk I/O error",
    "database or disk is full",
)
# The disk under the database file, not the file's name or the server, is what failed.
SQLITE_DISK = ("disk I/O error", "database or disk is full")
# Built-in errors say a dependency is down only when raised by a database or Redis client
# (a refused or timed-out connect); raised by anything else they are ordinary faults.
_NETWORK_DOWN: tuple[type[Exception], ...] = (ConnectionError, socket.gaierror, TimeoutError)
_CLIENT_MODULES = {"asyncpg": "the database", "sqlalchemy": "the database", "redis": "Redis"}
_CLIENT_MODULES |= {"aiosqlite": "the database", "sqlite3": "the database"}
DEPENDENCY_ERRORS = _DATABASE_DOWN + _REDIS_DOWN + _NETWORK_DOWN


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: SQLAlchemy's ``orig``, then each ``__cause__``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def _raised_by_client(exc: BaseException) -> str | None:
    """The dependency whose client code ``exc`` came through, judged by the modules of
    its traceback's frames; None when no database or Redis client raised it."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        dependency = _CLIENT_MODULES.get(module.partition(".")[0])
        if dependency is not None:
            return dependency
        tb = tb.tb_next
    return None


def unreachable(exc: BaseException) -> str | None:
    """The dependency ``exc`` says is out of reach ("the database", "Redis"), or None when
    it is an ordinary fault. A wrapped error is judged by what it wraps."""
    chain = list(causes(exc))
    for cause in chain:
        if isinstance(cause, sqlite3.OperationalError):
            # SQLite says "operational" of a syntax error too: only these are the file's.
            return "the database" if str(cause).startswith(_SQLITE_DOWN) else None
    for cause in chain:
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return "the database"
        if isinstance(cause, _REDIS_DOWN):
            return "Redis"
        if isinstance(cause, _DATABASE_DOWN):
            return "the database"
        if isinstance(cause, asyncpg.exceptions.InterfaceError) and str(cause).startswith(
            _ASYNCPG_CLOSED
        ):
            return "the database"
    for cause in chain:
        if isinstance(cause, _NETWORK_DOWN) and (dependency := _raised_by_client(cause)):
            return dependency
    return None


def disk_trouble(exc: BaseException) -> str | None:
    """SQLite's own words when the disk under the database file failed or filled up."""
    for cause in causes(exc):
        if isinstance(cause, sqlite3.OperationalError) and str(cause).startswith(SQLITE_DISK):
            return str(cause)
    return None


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


async def _dependency_error(_: Request, exc: Exception) -> Response:
    dependency = unreachable(exc)
    if dependency is None:
        raise exc  # an ordinary fault: the request-id middleware makes it a 500
    log.warning(
        "dependency_unavailable", dependency=dependency, error=f"{type(exc).__name__}: {exc}"[:300]
    )
    return await _app_error(_, ServiceUnavailable())


def _nested_too_deeply(exc: RecursionError) -> bool:
    """Whether the stack ran out inside the JSON decoder: the input was nested deeper than
    it can go, which is bad input, not a fault of ours."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__") == json.decoder.__name__


async def _recursion_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RecursionError)
    if not _nested_too_deeply(exc):
        raise exc
    return envelope(message="Malformed JSON body: nested too deeply.", status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for kind in DEPENDENCY_ERRORS:
        app.add_exception_handler(kind, _dependency_error)
    app.add_exception_handler(RecursionError, _recursion_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
