"""The body of create: JSON, or multipart when a cover comes with it (CONTRACT §2: a
route whose file is optional takes JSON too), as playlists' create takes it. Both are read
into the same model, so they accept exactly the same fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from bandstand.config import Settings
from bandstand.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from bandstand.releases.schemas import ReleaseCreate
from bandstand.resources import SettingsDep

COVER = "thumbnail"
# Form fields that carry a list: repeated, or once as a JSON array or comma-separated.
_LISTS = {"songIds"}


@dataclass(frozen=True)
class Submitted:
    data: ReleaseCreate
    cover: bytes | None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "transfer-encoding" in request.headers


def _invalid(field: str, message: str) -> BadRequest:
    return BadRequest("Invalid input.", errors=[{"field": field, "message": message}])


async def _json(request: Request, settings: Settings) -> dict[str, Any]:
    # The route's body limit is a cover's; JSON gets no more than any other JSON route.
    limit = settings.max_json_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body is too large (limit {limit} bytes).")
    if not body:
        return {}
    try:
        fields = json.loads(body)
    except ValueError as exc:
        raise BadRequest("Malformed JSON body.") from exc
    if not isinstance(fields, dict):
        raise BadRequest("The body must be a JSON object.")
    return fields


async def _form(form: FormData, settings: Settings) -> tuple[dict[str, Any], bytes | None]:
    fields: dict[str, Any] = {}
    cover = None
    for name in form:
        values = form.getlist(name)
        if name == COVER:
            given = values[0] if len(values) == 1 else None
            # A file input left empty sends a nameless, empty part: no cover.
            if isinstance(given, UploadFile) and (given.filename or given.size):
                cover = await given.read(settings.image_max_bytes + 1)
            elif given is None or (given and not isinstance(given, UploadFile)):
                raise _invalid(COVER, "Send one image file as thumbnail.")
        elif any(isinstance(v, UploadFile) for v in values):
            raise _invalid(name, f"Only {COVER} may be a file.")
        else:
            fields[name] = values if name in _LISTS and len(values) > 1 else values[0]
    return fields, cover


async def _read(request: Request, settings: Settings) -> tuple[dict[str, Any], bytes | None]:
    kind = _media_type(request)
    if kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=50) as form:
            return await _form(form, settings)
    if kind == "application/json" or not _has_body(request):
        return await _json(request, settings), None
    raise UnsupportedMediaType(
        "Send the body as application/json, or as multipart/form-data with a thumbnail."
    )


async def _submitted(request: Request, settings: SettingsDep) -> Submitted:
    fields, cover = await _read(request, settings)
    try:
        data = ReleaseCreate.model_validate(fields)
    except ValidationError as exc:
        # Rendered like every other invalid body: 400, a message per field.
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc
    return Submitted(data=data, cover=cover)


CreateBody = Annotated[Submitted, Depends(_submitted)]
