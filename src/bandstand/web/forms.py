"""Form posts read as the API reads its bodies, and a refused form settled as the API's
transaction would be.

A page that catches a service's error to show it in the form still answers normally, so
the request's transaction would commit whatever the service did before refusing. ``undo``
does what ``db.transaction`` does with an error the JSON route lets through: keep what
must stand (a spent attempt), roll back the rest (a stored file, a half-made change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from bandstand.db import commit, rollback
from bandstand.errors import AppError, BadRequest, validation_errors

Model = TypeVar("Model", bound=BaseModel)


def text(form: FormData, name: str) -> str:
    """The text field ``name``, or "" (a missing field, or a file where text belongs)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def validated(schema: type[Model], data: Mapping[str, Any]) -> Model:
    """``data`` checked by the API's own schema; a refusal is a ``BadRequest`` naming each
    field, as the JSON route's 400 does."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        _, errors = validation_errors(RequestValidationError(exc.errors()))
        for error in errors:
            error["message"] = error["message"].removeprefix("Value error, ")
        whole = [e["message"] for e in errors if e["field"] == "body"]
        message = whole[0] if whole else "Check the fields marked below."
        raise BadRequest(message, errors=errors) from exc


def field_errors(exc: AppError) -> dict[str, str]:
    """Each field's message, for the form to show beside it."""
    return {error["field"]: error["message"] for error in exc.errors}


def refusal(exc: AppError) -> dict[str, Any]:
    """What a refused form is shown again with: the refusal's status, its message, and
    each field's message (``render(..., **refusal(exc))``)."""
    return {"status": exc.status_code, "error": exc.message, "fields": field_errors(exc)}


async def undo(session: AsyncSession, exc: AppError) -> None:
    """End the request's transaction as the JSON route's would end on ``exc``."""
    await (commit(session) if exc.keep_changes else rollback(session))
