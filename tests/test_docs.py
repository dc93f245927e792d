"""What /docs offers a newcomer: the upload form as the spec has it (one Genre field) and
forms filled with examples rather than "string" — checked with the sample generator of the
Swagger UI we ship, run by Node.js."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

from bandstand.kit.envelope import ERROR_SCHEMA
from tests import services
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import artist, uploaded

SWAGGER = Path(str(resources.files("bandstand").joinpath("static/swagger-ui")))
# Swagger UI's own sample of each schema: what "Try it out" puts in a form or a JSON body.
SAMPLES = """
const ui = require(process.argv[1] + "/swagger-ui-bundle.js");
const system = { getSystem: () => ({ fn: {} }) };
const { sampleFromSchema } = ui.plugins.JSONSchema202012Samples(system).fn.jsonSchema202012;
const schemas = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(schemas.map((schema) => sampleFromSchema(schema))));
"""
# The users routes whose bodies a newcomer fills in first (the README's walk-through).
FIRST_FORMS = {
    ("/api/v1/users/register", "multipart/form-data"),
    ("/api/v1/users/verify-otp", "application/json"),
    ("/api/v1/users/login", "application/json"),
    ("/api/v1/users/change-password", "application/json"),
    ("/api/v1/users/update-account", "application/json"),
    ("/api/v1/songs/upload", "multipart/form-data"),
}


def _inlined(spec: dict[str, Any], schema: Any) -> Any:
    """``schema`` as Swagger UI's resolver hands it to the form: every ``$ref`` replaced by
    what it points at, and ``allOf`` merged into the schema that holds it."""
    if isinstance(schema, list):
        return [_inlined(spec, item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _inlined(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    resolved = {key: _inlined(spec, value) for key, value in schema.items()}
    for part in resolved.pop("allOf", []):
        resolved["properties"] = {**part.get("properties", {}), **resolved.get("properties", {})}
        resolved["required"] = [*part.get("required", []), *resolved.get("required", [])]
    return resolved


def _body_schema(spec: dict[str, Any], path: str, media_type: str) -> dict[str, Any]:
    operation = next(iter(spec["paths"][path].values()))
    schema: dict[str, Any] = _inlined(spec, operation["requestBody"]["content"][media_type])
    return schema["schema"]  # type: ignore[no-any-return]


def _swagger_samples(schemas: list[dict[str, Any]]) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        services.missing("Node.js", "Swagger UI's sample generator is run by `node`")
        raise AssertionError  # unreachable: missing() skips or fails
    done = subprocess.run(
        [node, "-e", SAMPLES, str(SWAGGER)],
        input=json.dumps(schemas),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    samples: list[Any] = json.loads(done.stdout)
    return samples


async def test_the_upload_form_has_one_genre_field(harness: Harness) -> None:
    spec = (await harness.client().get("/openapi.json")).json()
    form = _body_schema(spec, "/api/v1/songs/upload", "multipart/form-data")
    assert set(form["properties"]) == {"songFile", "thumbnail", "title", "description", "Genre"}


async def test_the_first_forms_are_filled_with_examples_not_string(harness: Harness) -> None:
    spec = (await harness.client().get("/openapi.json")).json()
    schemas = [_body_schema(spec, path, media_type) for path, media_type in sorted(FIRST_FORMS)]
    for (path, _), sample in zip(sorted(FIRST_FORMS), _swagger_samples(schemas), strict=True):
        filled = {k: v for k, v in sample.items() if k not in {"songFile", "thumbnail", "avatar"}}
        assert filled, path
        assert "string" not in filled.values(), (path, filled)


async def test_genre_is_read_under_either_spelling(harness: Harness) -> None:
    jane = await artist(harness)
    for field in ("Genre", "genre"):
        song = await uploaded(jane, tone("mp3", 0.5), title=field, **{field: "Ambient"})
        assert song["genre"] == "Ambient", field


async def test_every_schema_the_document_refers_to_is_in_it(harness: Harness) -> None:
    """Error answers name the error envelope's schema rather than a model of their own
    (kit/envelope.py): it, as every schema referred to, is among the components. Every
    reference points there: one to a schema's own ``$defs`` (as Pydantic writes a model's
    schema for a body a route documents by hand) cannot be followed from the document."""
    spec = (await harness.client().get("/openapi.json")).json()
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec)))
    assert {ref for ref in refs if not ref.startswith("#/components/schemas/")} == set()
    names = {ref.removeprefix("#/components/schemas/") for ref in refs}
    assert ERROR_SCHEMA in names
    assert names <= set(spec["components"]["schemas"])
    errors = spec["paths"]["/api/v1/songs/home"]["get"]["responses"]["404"]
    assert errors["content"]["application/json"]["schema"]["$ref"].endswith(ERROR_SCHEMA)
