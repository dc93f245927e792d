"""Every page that takes a form answers missing fields, mistyped values, a huge body and
malformed or unknown ids with a 4xx (a page or a redirect), never a 500 — walked over the
app's own page routes, signed in and with the form's CSRF token."""

from __future__ import annotations

import re
import uuid

from fastapi.routing import iter_route_contexts

from tests.conftest import Harness
from tests.songs.support import artist
from tests.web.support import TOKEN, browser

PARAM = re.compile(r"\{[^}]+\}")
BODIES = (
    {},
    {"content": ["a", "b"], "reason": "x" * 5000, "timestamp": "soon", "isPublic": "maybe"},
    {"playlist_name": "\x00" * 10, "password": 12, "until": "yesterday", "action": "explode"},
)


async def test_no_page_form_makes_a_server_error(harness: Harness) -> None:
    jane = await artist(harness)
    client = await browser(harness, jane)
    paths = sorted(
        route.path
        for route in iter_route_contexts(list(harness.app.routes))
        if "POST" in (getattr(route, "methods", None) or ())
        and not route.path.startswith(("/api/", "/rest/"))
    )
    assert len(paths) > 30, paths
    for path in paths:
        for ident in (str(uuid.uuid4()), "not-an-id"):
            target = PARAM.sub(ident, path)
            for body in BODIES:
                answer = await client.post(target, data={"csrf_token": TOKEN, **body})
                assert answer.status_code < 500, (target, body, answer.text[:300])
        huge = await client.post(
            PARAM.sub("x", path), data={"csrf_token": TOKEN, "a": "x" * 3_000_000}
        )
        assert 400 <= huge.status_code < 500 or huge.status_code in (303, 302), (
            path,
            huge.status_code,
        )
