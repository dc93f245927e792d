"""Subsonic's error codes, as exceptions a method raises; the router renders each as a
``failed`` response with its code (HTTP 200, as the apps expect). A domain error from a
shared service (``bandstand.errors.AppError``) is translated by ``from_app_error``, so a
method may call the same services the REST API calls and let their refusals through."""

from __future__ import annotations

from bandstand.errors import AppError


class SubsonicError(Exception):
    """Code 0: a generic error (also what a wrong-typed parameter is)."""

    code = 0
    message = "A generic error."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        # Seconds, when the answer is "not now" (a limit): sent as ``Retry-After``.
        self.retry_after = retry_after


class MissingParameter(SubsonicError):
    code = 10
    message = "Required parameter is missing."

    def __init__(self, name: str) -> None:
        super().__init__(f"Required parameter is missing: {name}.")


class ClientMustUpgrade(SubsonicError):
    code = 20
    message = "Incompatible Subsonic REST protocol version. Client must upgrade."


class ServerMustUpgrade(SubsonicError):
    code = 30
    message = "Incompatible Subsonic REST protocol version. Server must upgrade."


class WrongCredentials(SubsonicError):
    code = 40
    message = "Wrong username or password."


class MechanismNotSupported(SubsonicError):
    code = 42
    message = "Provided authentication mechanism not supported."


class ConflictingMechanisms(SubsonicError):
    code = 43
    message = "Multiple conflicting authentication mechanisms provided."


class InvalidApiKey(SubsonicError):
    code = 44
    message = "Invalid API key."


class NotAuthorized(SubsonicError):
    code = 50
    message = "User is not authorized for the given operation."


class NotFound(SubsonicError):
    code = 70
    message = "The requested data was not found."


# A domain error's HTTP status, as the Subsonic code that means the same.
_CODES = {401: WrongCredentials, 403: NotAuthorized, 404: NotFound}


def from_app_error(exc: AppError) -> SubsonicError:
    """A shared service's refusal, in Subsonic's words: 404 is 70, 403 is 50, 401 is 40,
    anything else (bad input, a conflict, a limit) is 0, with the service's message and
    each field's."""
    message = exc.message
    details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors if "field" in e)
    if details:
        message = f"{message} ({details})"
    retry = (exc.headers or {}).get("Retry-After")
    kind = _CODES.get(exc.status_code, SubsonicError)
    return kind(message, retry_after=int(retry) if retry and retry.isdigit() else None)
