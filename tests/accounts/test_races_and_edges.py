"""What a review found: parallel requests, odd cookies, control characters, big pictures."""

from __future__ import annotations

import asyncio
import io
import json
import random
import uuid
from datetime import timedelta

import jwt
import pytest
from PIL import Image

from bandstand.accounts.tokens import TokenSigner
from bandstand.kit.time import utcnow
from tests.conftest import PASSWORD, Harness, bearer

LOGIN = "/api/v1/users/login"


async def test_parallel_wrong_logins_cannot_exceed_the_budget(harness: Harness) -> None:
    await harness.sign_up()
    attacker = harness.client("203.0.113.5")
    responses = await asyncio.gather(
        *(
            attacker.post(LOGIN, json={"email": "jane@example.com", "password": f"guess-{i}"})
            for i in range(20)
        )
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) == 5 and statuses.count(429) == 15


async def test_two_tabs_refreshing_at_the_same_moment(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    body = {"refreshToken": tokens["refreshToken"]}
    a, b = await asyncio.gather(
        client.post("/api/v1/users/refresh-token", json=body),
        client.post("/api/v1/users/refresh-token", json=body),
    )
    assert a.status_code == b.status_code == 200


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "typ", "sid"])
async def test_an_access_token_missing_a_claim_is_refused(harness: Harness, claim: str) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    del claims[claim]
    signer = TokenSigner(harness.settings.signing_secret())
    token = jwt.encode(claims, signer.key("access"), algorithm="HS256")
    client.cookies.clear()
    assert (
        await client.get("/api/v1/users/current-user", headers=bearer(token))
    ).status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (LOGIN, {"username": "ja\u0000ne", "password": "x"}),
        (LOGIN, {"email": "j@\u0000x.com", "password": "x"}),
        (LOGIN, {"email": "jane@example.com", "password": "pass\u0000word"}),
        ("/api/v1/users/update-account", {"fullname": "Jane\u0000Doe"}),
        ("/api/v1/users/update-account", {"fullname": "Jane\u001bDoe"}),
    ],
)
async def test_control_characters_are_refused(
    harness: Harness, path: str, body: dict[str, str]
) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    method = client.patch if "update" in path else client.post
    response = await method(path, json=body, headers=bearer(tokens["accessToken"]))
    assert response.status_code == 400, response.text
    assert await harness.sql("SELECT fullname FROM users") == [("Jane Doe",)]


async def test_a_control_character_in_a_sign_up_form_is_refused(harness: Harness) -> None:
    response = await harness.register(harness.client(), fullname="Jane\x00Doe")
    assert response.status_code == 400
    assert harness.media_files() == [] and (await harness.messages()) == []


async def test_an_unparseable_cookie_does_not_switch_off_the_origin_check(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    cookie = f'prefs={{"theme":"dark"}}; accessToken={tokens["accessToken"]}'
    client.cookies.clear()
    response = await client.patch(
        "/api/v1/users/update-account",
        json={"fullname": "Hijacked"},
        headers={"cookie": cookie, "origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert await harness.sql("SELECT fullname FROM users") == [("Jane Doe",)]


async def test_a_picture_with_too_many_pixels_is_refused(harness: Harness) -> None:
    out = io.BytesIO()
    Image.new("L", (4200, 4200)).save(out, format="PNG")  # small file, 17.6 megapixels
    response = await harness.register(harness.client(), avatar=out.getvalue())
    assert response.status_code == 415
    assert harness.media_files() == []


async def test_a_large_picture_is_scaled_down(harness: Harness) -> None:
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (9, 9, 9)).save(out, format="JPEG")
    response = await harness.register(harness.client(), avatar=out.getvalue())
    assert response.status_code == 200
    [path] = harness.media_files()
    assert Image.open(path).size == (512, 512)


async def test_a_fault_logs_no_local_variables(harness: Harness, capsys) -> None:  # type: ignore[no-untyped-def]
    async def explode() -> None:
        password = "hunter2-local-secret"
        raise RuntimeError("boom" if password else "")

    harness.app.add_api_route("/api/v1/explode-quietly", explode)
    response = await harness.client().get("/api/v1/explode-quietly")
    assert response.status_code == 500
    logged = capsys.readouterr().out
    assert "RuntimeError: boom" in logged and "hunter2-local-secret" not in logged


async def test_password_checks_on_a_logged_in_account_are_throttled(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    statuses = []
    for i in range(7):
        response = await client.post(
            "/api/v1/users/change-password",
            json={"oldPassword": f"guess-{i}", "newPassword": "a-brand-new-passphrase"},
            headers=bearer(tokens["accessToken"]),
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]


async def test_logout_by_refresh_token_once_the_access_token_is_gone(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    response = await harness.client().post(
        "/api/v1/users/logout", json={"refreshToken": tokens["refreshToken"]}
    )
    assert response.status_code == 200
    refreshed = await client.post(
        "/api/v1/users/refresh-token", json={"refreshToken": tokens["refreshToken"]}
    )
    assert refreshed.status_code == 401
    assert (await harness.client().post("/api/v1/users/logout", json={})).status_code == 401


async def test_json_routes_keep_the_json_limit_whatever_the_content_type(harness: Harness) -> None:
    body = b"x" * (2 * 1024 * 1024)
    response = await harness.client().post(
        LOGIN, content=body, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 413


async def test_login_budget_is_per_account_not_per_spelling(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(login_per_pair="4/10minutes")
    await harness.sign_up()
    client = harness.client("203.0.113.77")
    for login in ("jane@example.com", "janedoe", "JANEDOE", "Jane@Example.com"):
        response = await client.post(LOGIN, json={"email": login, "password": "wrong-guess"})
        assert response.status_code == 401
    fifth = await client.post(LOGIN, json={"username": "janedoe", "password": PASSWORD})
    assert fifth.status_code == 429


async def test_expired_sign_up_cookie_is_refused(harness: Harness) -> None:
    signer = TokenSigner(harness.settings.signing_secret())
    stale = jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "typ": "signup",
            "iat": utcnow() - timedelta(hours=2),
            "exp": utcnow() - timedelta(hours=1),
        },
        signer.key("signup"),
        algorithm="HS256",
    )
    client = harness.client()
    client.cookies.set("emailForOTP", stale)
    response = await client.post("/api/v1/users/verify-otp", json={"otp": "123456"})
    assert response.status_code == 400
    assert json.loads(response.text)["success"] is False


async def test_callers_checked_together_each_get_their_own_account(harness: Harness) -> None:
    # On PostgreSQL, logins arriving together are checked in one statement: each answer
    # must still be its own caller's, and a revoked login in the crowd still refused.
    callers = []
    for n in range(6):
        email = f"crowd{n}@example.com"
        await harness.sign_up(email_address=email, username=f"crowd{n}")
        client = harness.client()
        callers.append((f"crowd{n}", bearer((await harness.log_in(client, email))["accessToken"])))
    revoked = callers.pop()
    logout = await harness.client().post("/api/v1/users/logout", headers=revoked[1])
    assert logout.status_code == 200
    crowd = [*callers * 5, revoked]
    random.Random(3).shuffle(crowd)
    me = harness.client()
    answers = await asyncio.gather(
        *(me.get("/api/v1/users/current-user", headers=auth) for _, auth in crowd)
    )
    for (username, _), answer in zip(crowd, answers, strict=True):
        if username == revoked[0]:
            assert answer.status_code == 401
        else:
            assert answer.status_code == 200
            assert answer.json()["data"]["username"] == username
