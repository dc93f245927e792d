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
