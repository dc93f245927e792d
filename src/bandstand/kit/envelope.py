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


def envelope(
    data: Any = None,
    message: str = "OK",
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "statusCode": status_code,
        "data": data,
        "message": message,
        "success": status_code < 400,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Envelope[None], "description": description}
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
