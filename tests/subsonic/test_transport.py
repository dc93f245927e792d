"""The transport as apps use it: ``/rest/<method>`` and ``.view``, GET and a POSTed form
(formPost) with repeated parameters kept, XML by default and JSON with ``f=json``, the
envelope's attributes, and every refusal a Subsonic error with HTTP 200, never a 500."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from starlette.requests import Request

from bandstand import __version__
from bandstand.subsonic import registry
from bandstand.subsonic.params import Params
from bandstand.subsonic.router import _params
from tests.conftest import Harness
from tests.subsonic.support import (
    NS,
    REST,
    SCHEMA,
    connected,
    error_of,
    json,
    listener,
    xml,
    xml_error,
)


async def test_every_way_an_app_calls(harness: Harness, site: str) -> None:
    jane = await listener(harness)
    for use_get in (False, True):
        for use_views in (False, True):
            async with connected(
                site, jane.username, jane.secret, use_get=use_get, use_views=use_views
            ) as app:
                assert await app.ping() is True, (use_get, use_views)
                assert (await app.get_user(jane.username)).username == jane.username


async def test_the_envelope_in_json_and_in_xml(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    answer = await json(client, "ping", **jane.auth)
    assert answer == {
        "status": "ok",
        "version": "1.16.1",
        "type": "bandstand",
        "serverVersion": __version__,
        "openSubsonic": True,
    }
    response = await client.get(f"{REST}/ping.view", params=jane.auth)
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    SCHEMA.validate(response.text)
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's answer
    assert root.tag == f"{NS}subsonic-response"
    assert root.attrib == {
        "status": "ok",
        "version": "1.16.1",
        "type": "bandstand",
        "serverVersion": __version__,
        "openSubsonic": "true",
    }
    # Any other f is XML; web apps on other sites may read the answers.
    other = await client.get(f"{REST}/ping", params={**jane.auth, "f": "jsonp"})
    assert other.headers["content-type"].startswith("text/xml")
    assert other.headers["access-control-allow-origin"] == "*"


async def test_a_posted_form_and_the_query_string_are_merged(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    # The credentials in the body, the format in the query string.
    response = await client.post(
        f"{REST}/getUser.view?f=json", data={**jane.auth, "username": "janedoe"}
    )
    assert response.status_code == 200
    assert response.json()["subsonic-response"]["user"]["username"] == "janedoe"
    # The format in the body too.
    response = await client.post(f"{REST}/ping", data={**jane.auth, "f": "json"})
    assert response.json()["subsonic-response"]["status"] == "ok"


def _request(query: str, body: bytes, content_type: str) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/rest/x",
        "query_string": query.encode(),
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


async def test_repeated_parameters_are_all_kept_in_order() -> None:
    request = _request(
        "id=1&id=2&u=a", b"id=3&songId=x&songId=y&empty=", "application/x-www-form-urlencoded"
    )
    params = await _params(request)
    assert params.all("id") == ["1", "2", "3"]
    assert params.all("songId") == ["x", "y"]
    assert params.get("id") == "1" and params.get("u") == "a"
    assert params.get("empty") == "" and params.all("missing") == []
    # A body of another type is not a form: not read.
    other = await _params(_request("id=1", b'{"id": 2}', "application/json"))
    assert other.all("id") == ["1"]


def test_typed_parameters() -> None:
    params = Params([("n", "12"), ("neg", "-3"), ("bad", "1.5"), ("yes", "TRUE"), ("no", "0")])
    assert params.integer("n") == 12 and params.integer("neg") == -3
    assert params.integer("absent", 7) == 7
    assert params.boolean("yes", False) is True and params.boolean("no", True) is False
    for call in (
        lambda: params.integer("bad"),
        lambda: params.integer("n", maximum=10),
        lambda: params.integer("neg", minimum=0),
        lambda: params.boolean("n", False),
        lambda: params.required("absent"),
        lambda: Params([("t", "a\x00b")]).text("t", max_length=10),
        lambda: Params([("t", "abc")]).text("t", max_length=2),
    ):
        try:
            call()
        except Exception as exc:
            assert type(exc).__module__.startswith("bandstand.subsonic"), exc
            assert getattr(exc, "code", None) in (0, 10)
        else:
            raise AssertionError("accepted")


async def test_refusals_are_subsonic_errors_with_http_200(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("nope", {}, 0, "Unknown method"),
        ("nope.view", jane.auth, 0, "Unknown method"),
        ("getIndexes", {**jane.auth, "ifModifiedSince": "yesterday"}, 0, "ifModifiedSince"),
        ("getIndexes", {**jane.auth, "ifModifiedSince": "-1"}, 0, "ifModifiedSince"),
        ("getIndexes", {**jane.auth, "ifModifiedSince": "9" * 40}, 0, "ifModifiedSince"),
        ("getUser", jane.auth, 10, "username"),
        ("getUser", {**jane.auth, "username": "x\x00y"}, 0, "username"),
        ("ping", {**jane.auth, "v": "2.0.0"}, 30, "Server must upgrade"),
        ("ping", {**jane.auth, "v": "0.9.0"}, 20, "Client must upgrade"),
        ("ping", {**jane.auth, "v": "one"}, 0, "'v'"),
    ]
    for method, params, code, words in cases:
        response = await client.get(f"{REST}/{method}", params={**params, "f": "json"})
        assert response.status_code == 200, (method, response.text)
        assert "Traceback" not in response.text
        found, message = error_of(response.json()["subsonic-response"])
        assert found == code and words in message, (method, params, message)
        assert xml_error(await xml(client, method, **params))[0] == code
    # A newer minor version of the protocol is served.
    assert (await json(client, "ping", **jane.auth, v="1.99.0"))["status"] == "ok"


async def test_hostile_requests(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    form = {"content-type": "application/x-www-form-urlencoded"}
    bodies = [
        b"\xff\xfe\x00u=janedoe",
        b"&".join(b"x" for _ in range(10_001)),
        b"u=%ff%fe&p=%00",
        b"=&&==&u",
    ]
    for body in bodies:
        response = await client.post(f"{REST}/ping?f=json", content=body, headers=form)
        assert response.status_code == 200, response.text[:200]
        assert response.json()["subsonic-response"]["status"] == "failed"
    # A body larger than any call needs is refused before it is read (the app's body
    # limit, in its own envelope).
    huge = await client.post(f"{REST}/ping", content=b"x" * 200_000, headers=form)
    assert huge.status_code == 413
    # A name that is no method; a method name that is huge.
    for name in ("..%2f..%2fetc", "x" * 5000, "ping.view.view"):
        response = await client.get(f"{REST}/{name}", params={**jane.auth, "f": "json"})
        assert response.status_code == 200
        assert error_of(response.json()["subsonic-response"])[0] == 0
    # Hostile text where a name goes still answers within the rules.
    response = await client.get(
        f"{REST}/getUser", params={**jane.auth, "f": "json", "username": "<script>&\"'"}
    )
    assert error_of(response.json()["subsonic-response"])[0] == 50


def test_the_methods_built_so_far_are_registered() -> None:
    assert {
        "ping",
        "getLicense",
        "getOpenSubsonicExtensions",
        "tokenInfo",
        "getUser",
        "getMusicFolders",
        "getScanStatus",
        "startScan",
        "getIndexes",
        "getMusicDirectory",
        "getArtists",
        "getArtist",
        "getAlbum",
        "getSong",
        "getGenres",
    } <= set(registry.names())
    assert registry.find("GETALBUM") is registry.find("getAlbum") is not None
