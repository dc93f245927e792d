"""The service as a whole: the envelope everywhere, operator routes, offline docs."""

from __future__ import annotations

import re

from tests.conftest import Harness, bearer
from tests.schema_check import assert_conforms


async def test_unknown_route_and_wrong_method(harness: Harness) -> None:
    client = harness.client()
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "data": None,
        "message": "Route not found.",
        "success": False,
        "errors": [],
    }
    wrong = await client.delete("/api/v1/users/login")
    assert wrong.status_code == 405
    assert wrong.json()["message"] == "Method not allowed."


async def test_a_fault_is_a_500_envelope_with_a_request_id(harness: Harness, capsys) -> None:  # type: ignore[no-untyped-def]
    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    harness.app.add_api_route("/api/v1/explode", explode)
    response = await harness.client().get("/api/v1/explode")
    assert response.status_code == 500
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body["success"] is False and body["data"] is None
    assert request_id in body["message"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = capsys.readouterr().out
    assert "unhandled_error" in logged and request_id in logged and "RuntimeError" in logged


async def test_every_answer_carries_a_request_id(harness: Harness) -> None:
    response = await harness.client().get("/healthz", headers={"x-request-id": "trace-me-12345"})
    assert response.headers["x-request-id"] == "trace-me-12345"
    hostile = await harness.client().get("/healthz", headers={"x-request-id": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])


async def test_ping_answers_what_its_schema_says(harness: Harness) -> None:
    response = await harness.client().get("/api/v1/ping")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"pong": True}
    assert_conforms(harness.app, "GET", "/api/v1/ping", body)


async def test_health_and_readiness(harness: Harness) -> None:
    client = harness.client()
    assert (await client.get("/healthz")).json()["data"] == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    expected = {"database": "ok"} | ({"redis": "ok"} if harness.settings.redis_url else {})
    assert ready.json()["data"] == expected


async def test_readiness_fails_without_a_database(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness()
    await harness.app.state.runtime.engine.dispose()
    harness.app.state.runtime.engine.url = harness.app.state.runtime.engine.url.set(
        database="/nonexistent/dir/db.sqlite"
        if harness.settings.is_embedded_database
        else "no_such_database_here"
    )
    from bandstand.db import create_engine

    harness.app.state.runtime.engine = create_engine(
        harness.app.state.runtime.engine.url.render_as_string(hide_password=False)
    )
    response = await harness.client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["data"]["database"].startswith("unreachable")


async def test_the_player_page_comes_with_its_hls_library(harness: Harness) -> None:
    client = harness.client()
    page = await client.get("/static/player/index.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    scripts = re.findall(r"""<script src=["']([^"']+)""", page.text)
    assert scripts == ["hls.light.min.js", "player.js"]
    library = await client.get("/static/player/hls.light.min.js")
    assert library.status_code == 200 and b"MediaSource" in library.content
    assert "https://" not in page.text


async def test_docs_render_with_no_asset_from_the_internet(harness: Harness) -> None:
    client = harness.client()
    page = await client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert '"validatorUrl": null' in page.text
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    spec = (await client.get("/openapi.json")).json()
    paths = set(spec["paths"])
    for path in (
        "/api/v1/users/register",
        "/api/v1/users/verify-otp",
        "/api/v1/users/login",
        "/api/v1/users/logout",
        "/api/v1/users/refresh-token",
        "/api/v1/users/current-user",
        "/api/v1/users/change-password",
        "/api/v1/users/update-account",
        "/api/v1/users/update-avatar",
        "/api/v1/users/watchHistory",
        "/api/v1/users/{userId}/content",
        "/api/v1/users/get/{userId}",
        "/api/v1/songs/{songId}/like",
        "/api/v1/songs/{songId}/unlike",
        "/api/v1/songs/likedSongs",
        "/api/v1/comments/{songId}/comments",
        "/api/v1/comments/{songId}",
        "/api/v1/comments/{songId}/reply/{parentId}",
        "/api/v1/comments/{commentId}/like",
        "/api/v1/comments/{commentId}/unlike",
        "/api/v1/comments/{commentId}/delete",
        "/api/v1/comments/nuke/{commentId}",
        "/api/v1/comments/{commentId}/approve",
        "/api/v1/comments/analytics/{songId}",
        "/api/v1/analytics/{songId}",
        "/api/v1/playlist/",
        "/api/v1/playlist/get",
        "/api/v1/playlist/{playlistId}/addSongs",
        "/api/v1/playlist/{playlistId}/removeSong/{songId}",
        "/api/v1/playlist/{playlistId}/update",
        "/api/v1/playlist/get/{playlistId}",
        "/api/v1/playlist/getPublicPlaylist",
        "/api/v1/playlist/delete",
    ):
        assert path in paths, path
    # The play is a POST on the song's own path, beside its GET.
    assert set(spec["paths"]["/api/v1/songs/{songId}"]) == {"get", "post"}


async def test_media_route_serves_only_generated_names(harness: Harness) -> None:
    client = harness.client()
    for path in (
        "/media/../../etc/passwd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/avatars/../../bandstand.db",
        "/media/avatars/nothere.webp",
        f"/media/avatars/{'0' * 32}.webp",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["success"] is False


async def test_cookie_writes_from_a_foreign_origin_are_refused(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    url = "/api/v1/users/update-account"
    body = {"fullname": "Changed"}
    evil = await client.patch(url, json=body, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403
    sneaky = await client.patch(url, json=body, headers={"sec-fetch-site": "cross-site"})
    assert sneaky.status_code == 403
    assert await harness.sql("SELECT fullname FROM users") == [("Jane Doe",)]
    allowed = await client.patch(url, json=body, headers={"origin": "https://app.example"})
    assert allowed.status_code == 200
    own = await client.patch(url, json=body, headers={"origin": "http://testserver"})
    assert own.status_code == 200
    # A bearer token is not something a foreign page can make a browser send.
    bare = harness.client()
    with_bearer = await bare.patch(
        url, json=body, headers={"origin": "https://evil.example", **bearer(tokens["accessToken"])}
    )
    assert with_bearer.status_code == 200
    # Reading is not refused: a GET changes nothing.
    assert (
        await client.get("/api/v1/users/current-user", headers={"origin": "https://evil.example"})
    ).status_code == 200


async def test_media_route_serves_no_song_audio(harness: Harness) -> None:
    from tests.audio import tone
    from tests.images import png_bytes

    await harness.sign_up()
    client = harness.client()
    auth = bearer((await harness.log_in(client))["accessToken"])
    uploaded = await client.post(
        "/api/v1/songs/upload",
        data={"title": "Private bytes"},
        files={
            "songFile": ("a.mp3", tone("mp3", 1.0), "audio/mpeg"),
            "thumbnail": ("c.png", png_bytes(), "image/png"),
        },
        headers=auth,
    )
    assert uploaded.status_code == 201
    [original] = [p for p in harness.media_files() if p.parent.parent.name == "songs"]
    key = original.relative_to(harness.settings.media_dir).as_posix()
    assert (await client.get(f"/media/{key}")).status_code == 404
    assert (await client.get(uploaded.json()["data"]["thumbnail"])).status_code == 200


async def test_page_numbers_are_capped(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    auth = bearer((await harness.log_in(client))["accessToken"])
    response = await client.get("/api/v1/songs/home?page=100001", headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page"


async def test_an_anonymous_upload_is_refused_before_its_body_is_read(harness: Harness) -> None:
    sent = 0

    async def body():  # type: ignore[no-untyped-def]
        nonlocal sent
        for _ in range(50):
            sent += 1
            yield b"x" * 65536

    for token in (None, "forged.token.value"):
        headers = {"content-type": "multipart/form-data; boundary=x"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = await harness.client().post(
            "/api/v1/songs/upload", content=body(), headers=headers
        )
        assert response.status_code == 401
        assert response.json()["success"] is False
    assert sent <= 2  # httpx may have produced the first chunk; the app read none of it
    assert not (harness.settings.data_dir / "tmp").exists() or not any(
        (harness.settings.data_dir / "tmp").iterdir()
    )
