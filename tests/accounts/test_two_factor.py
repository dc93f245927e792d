"""Two-factor login (RFC 6238) with pyotp as the user's authenticator app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pyotp

from tests.conftest import PASSWORD, Harness, bearer

MakeHarness = Callable[..., Awaitable[Harness]]
TWO_FA = "/api/v1/users/2fa"
LOGIN = "/api/v1/users/login"
ME = "/api/v1/users/current-user"
JANE = {"email": "jane@example.com", "password": PASSWORD}


def code(secret: str, steps_ahead: int = 0) -> str:
    """What the authenticator shows now, or ``steps_ahead`` steps of 30 s later (the
    server takes a step either side; each code is good once, so a second login in one
    test uses the next step's)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def _logged_in(harness: Harness) -> tuple[httpx.AsyncClient, dict[str, str]]:
    await harness.sign_up()
    client = harness.client()
    return client, bearer((await harness.log_in(client))["accessToken"])


async def _turned_on(harness: Harness) -> tuple[httpx.AsyncClient, dict[str, str], str, list[str]]:
    client, auth = await _logged_in(harness)
    setup = await client.post(f"{TWO_FA}/setup", json={"password": PASSWORD}, headers=auth)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["data"]["secret"]
    enabled = await client.post(f"{TWO_FA}/enable", json={"code": code(secret)}, headers=auth)
    assert enabled.status_code == 200, enabled.text
    recovery: list[str] = enabled.json()["data"]["recoveryCodes"]
    return client, auth, secret, recovery


async def _login(harness: Harness, address: str, **extra: Any) -> httpx.Response:
    return await harness.client(address).post(LOGIN, json={**JANE, **extra})


async def test_set_up_with_an_authenticator_and_log_in_with_its_codes(harness: Harness) -> None:
    client, auth = await _logged_in(harness)
    setup = await client.post(f"{TWO_FA}/setup", json={"password": PASSWORD}, headers=auth)
    assert setup.status_code == 200, setup.text
    data = setup.json()["data"]
    secret, uri = data["secret"], data["uri"]
    assert uri.startswith("otpauth://totp/Bandstand:jane%40example.com?")
    # The URI a QR code carries gives the authenticator the same secret.
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP) and parsed.secret == secret
    assert parsed.issuer == "Bandstand"
    # Stored encrypted, and not on until a code comes back.
    [(stored, enabled_at)] = await harness.sql("SELECT totp_secret, totp_enabled_at FROM users")
    assert secret not in stored and enabled_at is None
    assert (await client.get(ME, headers=auth)).json()["data"]["twoFactor"] is False
    assert (await _login(harness, "10.0.0.1")).status_code == 200

    wrong = await client.post(f"{TWO_FA}/enable", json={"code": "000000"}, headers=auth)
    if code(secret) != "000000":
        assert wrong.status_code == 400
    on = await client.post(f"{TWO_FA}/enable", json={"code": code(secret)}, headers=auth)
    assert on.status_code == 200, on.text
    recovery = on.json()["data"]["recoveryCodes"]
    assert len(recovery) == len(set(recovery)) == 10
    assert "once" in on.json()["message"]
    hashes = [h for (h,) in await harness.sql("SELECT code_hash FROM recovery_codes")]
    assert len(hashes) == 10 and not set(recovery) & set(hashes)
    assert (await client.get(ME, headers=auth)).json()["data"]["twoFactor"] is True

    # A password alone is no longer a login: 401, naming the missing field.
    bare = await _login(harness, "10.0.0.2")
    assert bare.status_code == 401
    assert [e["field"] for e in bare.json()["errors"]] == ["totp"]
    assert "accessToken" not in bare.text and "set-cookie" not in bare.headers
    done = await _login(harness, "10.0.0.3", totp=code(secret, 1))
    assert done.status_code == 200, done.text
    assert done.json()["data"]["user"]["twoFactor"] is True
    # The code is good once, and a wrong one names the field too.
    replay = await _login(harness, "10.0.0.4", totp=code(secret, 1))
    assert replay.status_code == 401 and replay.json()["errors"][0]["field"] == "totp"
    # A wrong password still learns nothing of the second factor.
    wrong_password = await harness.client("10.0.0.5").post(
        LOGIN, json={"email": "jane@example.com", "password": "wrong-one", "totp": code(secret)}
    )
    assert wrong_password.status_code == 401 and wrong_password.json()["errors"] == []


async def test_a_recovery_code_logs_in_once(harness: Harness) -> None:
    _, _, _, recovery = await _turned_on(harness)
    first = await _login(harness, "10.0.1.1", totp=recovery[0])
    assert first.status_code == 200, first.text
    assert await harness.sql("SELECT count(*) FROM recovery_codes WHERE used_at IS NOT NULL") == [
        (1,)
    ]
    assert (await _login(harness, "10.0.1.2", totp=recovery[0])).status_code == 401
    # Written as people copy them: upper case, no hyphen.
    other = recovery[1].replace("-", "").upper()
    assert (await _login(harness, "10.0.1.3", totp=other)).status_code == 200


async def test_two_logins_with_one_code_at_once_get_one_login(harness: Harness) -> None:
    _, _, secret, _ = await _turned_on(harness)
    one = code(secret, 1)
    answers = await asyncio.gather(*(_login(harness, f"10.0.2.{i}", totp=one) for i in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401]


async def test_codes_are_throttled(make_harness: MakeHarness) -> None:
    harness: Harness = await make_harness(totp_per_user="3/10minutes")
    _, _, secret, _ = await _turned_on(harness)  # enable spent one
    assert [
        (await _login(harness, f"10.0.3.{i}", totp="000001")).status_code for i in range(2)
    ] == [
        401,
        401,
    ]
    held = await _login(harness, "10.0.3.9", totp=code(secret, 1))
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0


async def test_setup_needs_the_password_and_enable_needs_setup(harness: Harness) -> None:
    client, auth = await _logged_in(harness)
    early = await client.post(f"{TWO_FA}/enable", json={"code": "123456"}, headers=auth)
    assert early.status_code == 400
    wrong = await client.post(f"{TWO_FA}/setup", json={"password": "not-mine-1"}, headers=auth)
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "password"
    missing = await client.post(f"{TWO_FA}/setup", json={}, headers=auth)
    assert missing.status_code == 400
    assert await harness.sql("SELECT totp_secret FROM users") == [(None,)]
    stranger = harness.client("203.0.113.3")
    for path, body in (
        ("setup", {"password": PASSWORD}),
        ("enable", {"code": "123456"}),
        ("disable", {"password": PASSWORD, "code": "123456"}),
    ):
        assert (await stranger.post(f"{TWO_FA}/{path}", json=body)).status_code == 401, path


async def test_once_on_setup_and_enable_are_refused(harness: Harness) -> None:
    client, auth, secret, _ = await _turned_on(harness)
    again = await client.post(f"{TWO_FA}/setup", json={"password": PASSWORD}, headers=auth)
    assert again.status_code == 409
    twice = await client.post(f"{TWO_FA}/enable", json={"code": code(secret, 1)}, headers=auth)
    assert twice.status_code == 409


async def test_disable_needs_the_password_and_a_code(harness: Harness) -> None:
    client, auth, secret, recovery = await _turned_on(harness)
    no_password = await client.post(
        f"{TWO_FA}/disable", json={"password": "wrong-pass", "code": code(secret, 1)}, headers=auth
    )
    assert no_password.status_code == 400
    no_code = await client.post(
        f"{TWO_FA}/disable", json={"password": PASSWORD, "code": "000001"}, headers=auth
    )
    assert no_code.status_code == 400
    assert (
        await client.post(f"{TWO_FA}/disable", json={"password": PASSWORD}, headers=auth)
    ).status_code == 400
    off = await client.post(
        f"{TWO_FA}/disable", json={"password": PASSWORD, "code": recovery[3]}, headers=auth
    )
    assert off.status_code == 200, off.text
    rows = await harness.sql("SELECT totp_secret, totp_enabled_at, totp_last_step FROM users")
    assert rows == [(None, None, None)]
    assert await harness.sql("SELECT count(*) FROM recovery_codes") == [(0,)]
    assert (await client.get(ME, headers=auth)).json()["data"]["twoFactor"] is False
    assert (await _login(harness, "10.0.4.1")).status_code == 200


async def test_the_secret_does_not_open_under_another_key_or_user(harness: Harness) -> None:
    import uuid

    from bandstand.accounts import twofactor
    from bandstand.accounts.tokens import TokenSigner

    ours, theirs = TokenSigner("secret-one-" + "x" * 40), TokenSigner("secret-two-" + "x" * 40)
    user, other = uuid.uuid4(), uuid.uuid4()
    sealed = twofactor.seal(ours, user, "JBSWY3DPEHPK3PXP")
    assert twofactor.unseal(ours, user, sealed) == "JBSWY3DPEHPK3PXP"
    for signer, owner in ((theirs, user), (ours, other)):
        try:
            twofactor.unseal(signer, owner, sealed)
        except ValueError:
            continue
        raise AssertionError("opened")
    assert len(sealed) <= 300  # users.totp_secret
