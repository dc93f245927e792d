"""Every answer says nosniff; answers that carry tokens are never stored by a cache."""

from __future__ import annotations

import httpx

from tests.conftest import Harness
from tests.songs.support import artist, stream_path, uploaded

USERS = "/api/v1/users"


def _nosniff_once(response: httpx.Response) -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"], response.headers


async def test_every_answer_says_nosniff(harness: Harness) -> None:
    client = harness.client()
    answers = [
        await client.get("/api/v1/ping"),
        await client.get("/api/v1/nothing-here"),  # 404 envelope
        await client.get(f"{USERS}/current-user"),  # 401
        await client.post(  # 413 from a middleware
            f"{USERS}/login", content=b"x" * 200_000, headers={"content-type": "application/json"}
        ),
        await client.get("/healthz"),
    ]
    for answer in answers:
        _nosniff_once(answer)
    assert answers[0].headers.get("cache-control") is None  # nothing secret in it


async def test_media_keeps_its_own_caching(harness: Harness) -> None:
    jane = await artist(harness)
    song = await uploaded(jane)
    streamed = await jane.client.get(stream_path(song))
    assert streamed.status_code == 200
    _nosniff_once(streamed)
    assert streamed.headers["cache-control"] == "private, max-age=3600"


async def test_answers_with_tokens_are_not_stored(harness: Harness) -> None:
    client = harness.client()
    registered = await harness.register(client, email_address="jane@example.com")
    assert registered.status_code == 200, registered.text
    verified = await client.post(
        f"{USERS}/verify-otp",
        json={
            "otp": await harness.last_code("jane@example.com"),
            "registrationId": registered.json()["data"]["registrationId"],
        },
    )
    assert verified.status_code == 201, verified.text
    login = await client.post(
        f"{USERS}/login",
        json={"email": "jane@example.com", "password": "a-long-and-unusual-passphrase"},
    )
    assert login.status_code == 200, login.text
    refreshed = await client.post(
        f"{USERS}/refresh-token", json={"refreshToken": login.json()["data"]["refreshToken"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    wrong = await harness.client().post(
        f"{USERS}/login", json={"email": "jane@example.com", "password": "wrong"}
    )
    for answer in (registered, verified, login, refreshed, wrong):
        assert answer.headers.get_list("cache-control") == ["no-store"], answer.request.url
        _nosniff_once(answer)


async def test_any_answer_that_sets_an_auth_cookie_is_not_stored(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    await harness.log_in(client)
    assert client.cookies.get("accessToken")
    logout = await client.post(f"{USERS}/logout")
    assert logout.status_code == 200, logout.text
    assert "accessToken=" in logout.headers.get("set-cookie", "")
    assert logout.headers["cache-control"] == "no-store"
