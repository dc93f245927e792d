"""What a route adds to the OpenAPI document by hand: the body of a route that reads its
own (JSON, or a form with a cover image), which FastAPI cannot see."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def json_or_form_body(model: type[BaseModel], *, file: str, required: bool) -> dict[str, Any]:
    """``openapi_extra`` for a route that takes ``model`` as JSON, or as a form with an
    image in the field ``file`` as well."""
    schema = self_contained_schema(model)
    form = {
        **schema,
        "properties": {
            **schema["properties"],
            file: {"type": "string", "format": "binary", "description": "Cover image"},
        },
    }
    content = {"application/json": {"schema": schema}, "multipart/form-data": {"schema": form}}
    return {"requestBody": {"required": required, "content": content}}


def self_contained_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with the definitions it refers to written in place: Pydantic
    puts them under the schema's own ``$defs``, which a ``#/$defs/...`` reference inside
    the OpenAPI document cannot reach (it points at the document's root)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolved(node: Any, through: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolved(item, through) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in through:
                raise ValueError(f"{model.__name__}: {name} refers to itself")
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return resolved({**definitions[name], **rest}, (*through, name))
        return {key: resolved(value, through) for key, value in node.items()}

    found: dict[str, Any] = resolved(schema, ())
    return found
