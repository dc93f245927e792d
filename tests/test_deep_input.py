"""Input nested deeper than a parser's stack is bad input: a 4xx envelope on every route
that takes JSON or JSON inside a form field, never a 500 (RecursionError)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.conftest import Harness
from tests.songs.support import artist

DEEP = "[" * 20_000
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SOME_ID = str(uuid.uuid4())


def _bodies(harness: Harness, playlist_id: str) -> list[tuple[str, str, str, list[str]]]:
    """(method, path, media type, form fields) of every route that takes a body; ids
    made up but the playlist's, so that its routes get as far as the body."""
    spec = harness.app.openapi()
    schemas: dict[str, Any] = spec["components"]["schemas"]
    found = []
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", SOME_ID, template.replace("{playlistId}", playlist_id))
        for method, operation in operations.items():
            if method.upper() not in WRITES or "requestBody" not in operation:
                continue
            for media_type, body in operation["requestBody"]["content"].items():
                schema = body.get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                fields = [
                    name
                    for name, field in schema.get("properties", {}).items()
                    if field.get("format") != "binary"
                ]
                found.append((method.upper(), path, media_type, fields))
    return found


async def test_deep_json_is_refused_on_every_route(harness: Harness) -> None:
    jane = await artist(harness)
    playlist = await jane.client.post(
        "/api/v1/playlist/", json={"playlist_name": "Deep"}, headers=jane.auth
    )
    assert playlist.status_code in (200, 201), playlist.text
    playlist_id = playlist.json()["data"]["_id"]
    bodies = _bodies(harness, playlist_id)
    taken = [b[:3] for b in bodies]
    assert ("POST", "/api/v1/playlist/", "multipart/form-data") in taken
    assert ("POST", f"/api/v1/playlist/{playlist_id}/addSongs", "application/json") in taken
    for method, path, media_type, fields in bodies:
        if media_type == "multipart/form-data":
            response = await jane.client.request(
                method,
                path,
                data=dict.fromkeys(fields, DEEP),
                files={"unused": ("x.bin", b"x")},
                headers=jane.auth,
            )
        else:
            response = await jane.client.request(
                method, path, content=DEEP, headers={**jane.auth, "content-type": media_type}
            )
        assert response.status_code < 500, (method, path, media_type, response.text)
        assert response.json()["success"] is False, (method, path, response.text)


async def test_a_recursion_of_our_own_is_still_a_fault(harness: Harness) -> None:
    def down(n: int) -> int:
        return down(n + 1) + 1

    async def recurse() -> int:
        return down(0)

    harness.app.add_api_route("/api/v1/recurse", recurse)
    response = await harness.client().get("/api/v1/recurse")
    assert response.status_code == 500
