"""The one response shape of CONTRACT.md §2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

T = TypeVar("T")


class FieldError(BaseModel):
    field: str
    message: str


class Envelope(BaseModel, Generic[T]):
    statusCode: int
    data: T | None
    message: str
    success: bool
    errors: list[FieldError] = Field(default_factory=list)


def answer(data: T, message: str = "OK", status_code: int = 200) -> Envelope[T]:
    """An answer in the envelope, for the route's ``response_model`` to serialise: ``data``
    is the schema's own object, so what is answered is what the schema says. (The route
    declares ``status_code`` too: FastAPI takes the status from there, or from the
    ``Response`` it was given when the status depends on the outcome, as readiness's.)"""
    return Envelope[T](
        statusCode=status_code, data=data, message=message, success=status_code < 400
    )


def envelope(
    data: Any = None,
    message: str = "OK",
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The envelope rendered by hand: for errors, and for the busy routes whose bytes a
    benchmark showed worth writing directly (each checked against its schema by a test)."""
    body = {
        "statusCode": status_code,
        "data": data,
        "message": message,
        "success": status_code < 400,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


# The schema every error answer has, by the name FastAPI gives ``Envelope[None]`` (in the
# document because routes answer it: tests/test_docs.py checks).
ERROR_SCHEMA = "Envelope_NoneType_"

# The errors every API route documents, each pointing at that schema rather than naming a
# model: FastAPI makes a validator per route and status for a model (1,656 here, 0.4 s of
# each app's start), and error answers are rendered by hand (``envelope``), never validated.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
        },
    }
    for status, description in (
        (400, "Invalid input: `errors` lists each field's problem"),
        (401, "Not authenticated"),
        (403, "Not allowed"),
        (404, "Not found (also what a private resource looks like to others)"),
        (409, "Conflict"),
        (413, "Body too large"),
        (415, "Unsupported media type"),
        (429, "Rate limited; see `Retry-After`"),
        (500, "Fault; the message names the request id"),
    )
}
