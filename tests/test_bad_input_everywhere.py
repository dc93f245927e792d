"""Bad input on every write route the API declares, as an admin (so that role checks let
it reach the body): no body, a body of the wrong shape, wrong types, an oversized body and
a malformed id each get a 4xx envelope, never a 500 (on routes that take a body or an id).
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Harness
from tests.moderation.support import staff

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that end a session or remove the caller's content: tried last, they change who
# is asking.
LAST = ("/users/logout", "/2fa/disable")


def _writes(harness: Harness, ident: str) -> list[tuple[str, str]]:
    spec = harness.app.openapi()
    found = []
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", ident, template)
        found += [
            (method.upper(), path)
            for method, operation in operations.items()
            # A route that reads no body and names no id ignores both (logout, a POST
            # that reads the history): nothing to refuse.
            if method.upper() in WRITES and ("requestBody" in operation or path != template)
        ]
    return sorted(found, key=lambda route: route[1].endswith(LAST))


def _refused(response: Any, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    body = response.json()
    assert body["success"] is False and body["data"] is None, (what, body)


FAMILIES = ("likes", "plays", "comments", "uploads", "playlists", "reports", "account")
FAMILIES += ("writes", "search")
# Budgets no walk spends: a 429 would hide what the route itself answers.
UNLIMITED = {
    f"limit_{family}_per_{who}": "1000000/minute"
    for family in FAMILIES
    for who in ("user", "client")
}


async def test_bad_bodies_and_ids_are_4xx_on_every_write_route(make_harness: Any) -> None:
    harness: Harness = await make_harness(**UNLIMITED)
    boss = await staff(harness, "bossbad", "admin")
    bad_bodies: list[dict[str, Any]] = [
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {"json": [1, 2, 3]},
        {"json": {"reason": 12, "note": ["x"], "code": {}, "role": 7, "action": None}},
        {"content": b"x" * (3 * 1024 * 1024), "headers": {"content-type": "application/json"}},
    ]
    for method, path in _writes(harness, "not-an-id"):
        for body in bad_bodies:
            kwargs = {**body, "headers": {**boss.auth, **body.get("headers", {})}}
            response = await boss.client.request(method, path, **kwargs)
            what = f"{method} {path} {str(body)[:60]}"
            assert response.status_code != 429, what
            _refused(response, what)
    # The walk reaches the routes this suite was written for, and many others.
    assert len(_writes(harness, "x")) > 40
