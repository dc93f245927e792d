"""Tokens and sessions: pinned JWTs, rotation with reuse detection, real logout."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import jwt

from bandstand.accounts.tokens import TokenSigner
from bandstand.kit.time import utcnow
from tests.conftest import Harness, bearer

ME = "/api/v1/users/current-user"
REFRESH = "/api/v1/users/refresh-token"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_access_token_claims(harness: Harness) -> None:
    await harness.sign_up()
    tokens = await harness.log_in(harness.client())
    header = jwt.get_unverified_header(tokens["accessToken"])
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert {"sub", "typ", "iat", "exp", "sid"} <= set(claims)
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == harness.settings.access_token_ttl_s
    assert "email" not in claims and "password" not in json.dumps(claims)
    stored = await harness.sql("SELECT token_hash FROM refresh_tokens")
    assert tokens["refreshToken"] not in str(stored)


async def test_bad_access_tokens_are_refused(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    good = tokens["accessToken"]
    claims = jwt.decode(good, options={"verify_signature": False})
    head, body, sig = good.split(".")
    tampered_claims = {**claims, "sub": "00000000-0000-0000-0000-000000000000"}
    signer = TokenSigner(harness.settings.signing_secret())
    expired = signer.issue("access", claims["sub"], -60, session_id=uuid.UUID(claims["sid"]))
    candidates = {
        "tampered": f"{head}.{_b64(tampered_claims)}.{sig}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{body}.",
        "expired": expired,
        "refresh as access": tokens["refreshToken"],
        "other secret": jwt.encode(claims, "another-secret-entirely-0123456789", algorithm="HS256"),
        "garbage": "not-a-token",
        "no typ": jwt.encode(
            {k: v for k, v in claims.items() if k != "typ"}, signer.key("access"), algorithm="HS256"
        ),
    }
    for name, token in candidates.items():
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json()["success"] is False
    client.cookies.clear()
    client.cookies.set("accessToken", candidates["tampered"])
    assert (await client.get(ME)).status_code == 401


async def test_cookie_authentication(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    await harness.log_in(client)
    response = await client.get(ME)
    assert response.status_code == 200
    assert response.json()["data"]["username"] == "janedoe"


async def test_refresh_rotates_and_reuse_revokes_the_family(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(refresh_reuse_grace_s=0)
    await harness.sign_up()
    client = harness.client()
    first = await harness.log_in(client)
    rotated = await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    assert rotated.status_code == 200
    second = rotated.json()["data"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await client.get(ME, headers=bearer(second["accessToken"]))).status_code == 200

    stolen = await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    assert stolen.status_code == 401
    # The whole login is over: the newest tokens stop working too.
    assert (
        await client.post(REFRESH, json={"refreshToken": second["refreshToken"]})
    ).status_code == 401
    assert (await client.get(ME, headers=bearer(second["accessToken"]))).status_code == 401
    # Another login of the same user is untouched.
    other = await harness.log_in(harness.client("10.3.3.3"))
    assert (await client.get(ME, headers=bearer(other["accessToken"]))).status_code == 200


async def test_two_tabs_refreshing_at_once_are_not_punished(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    first = await harness.log_in(client)
    a = await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    b = await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    assert a.status_code == b.status_code == 200
    for tokens in (a.json()["data"], b.json()["data"]):
        assert (await client.get(ME, headers=bearer(tokens["accessToken"]))).status_code == 200


async def test_reuse_after_the_grace_period_revokes(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    first = await harness.log_in(client)
    assert (
        await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    ).status_code == 200
    later = utcnow() - timedelta(seconds=harness.settings.refresh_reuse_grace_s + 1)
    await harness.sql(
        "UPDATE refresh_tokens SET rotated_at = :t WHERE rotated_at IS NOT NULL", t=later
    )
    assert (
        await client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    ).status_code == 401
    assert await harness.sql("SELECT count(*) FROM login_sessions WHERE revoked_at IS NULL") == [
        (0,)
    ]


async def test_refresh_by_cookie(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    await harness.log_in(client)
    response = await client.post(REFRESH)
    assert response.status_code == 200, response.text
    assert "refreshToken=" in response.headers["set-cookie"]


async def test_bad_refresh_tokens(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    fresh = harness.client()
    for token in (tokens["accessToken"], "garbage", tokens["refreshToken"][:-3] + "abc", ""):
        response = await fresh.post(REFRESH, json={"refreshToken": token})
        assert response.status_code == 401, token
    assert (await fresh.post(REFRESH)).status_code == 401
    wrong_type = await fresh.post(REFRESH, json={"refreshToken": 12345})
    assert wrong_type.status_code == 400


async def test_expired_refresh_token_is_refused(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    await harness.sql(
        "UPDATE refresh_tokens SET expires_at = :t", t=utcnow() - timedelta(seconds=1)
    )
    assert (
        await client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    ).status_code == 401


async def test_logout_really_revokes(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    response = await client.post("/api/v1/users/logout", headers=bearer(tokens["accessToken"]))
    assert response.status_code == 200
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith('accessToken=""') for c in cleared)
    assert (await client.get(ME, headers=bearer(tokens["accessToken"]))).status_code == 401
    assert (
        await client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    ).status_code == 401
    assert (await client.post("/api/v1/users/logout")).status_code == 401


async def test_change_password_ends_every_other_login(harness: Harness) -> None:
    await harness.sign_up()
    laptop, phone = harness.client("10.0.0.1"), harness.client("10.0.0.2")
    mine = await harness.log_in(laptop)
    other = await harness.log_in(phone)
    wrong_old = await laptop.post(
        "/api/v1/users/change-password",
        json={"oldPassword": "not-my-password", "newPassword": "a-brand-new-passphrase"},
        headers=bearer(mine["accessToken"]),
    )
    assert wrong_old.status_code == 400
    common = await laptop.post(
        "/api/v1/users/change-password",
        json={"oldPassword": "a-long-and-unusual-passphrase", "newPassword": "password123"},
        headers=bearer(mine["accessToken"]),
    )
    assert common.status_code == 400
    changed = await laptop.post(
        "/api/v1/users/change-password",
        json={
            "oldPassword": "a-long-and-unusual-passphrase",
            "newPassword": "a-brand-new-passphrase",
        },
        headers=bearer(mine["accessToken"]),
    )
    assert changed.status_code == 200
    assert (await laptop.get(ME, headers=bearer(mine["accessToken"]))).status_code == 200
    assert (await phone.get(ME, headers=bearer(other["accessToken"]))).status_code == 401
    assert (
        await phone.post(REFRESH, json={"refreshToken": other["refreshToken"]})
    ).status_code == 401
    await harness.log_in(harness.client("10.0.0.3"), password="a-brand-new-passphrase")
