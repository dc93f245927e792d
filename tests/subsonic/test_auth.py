"""Who may call /rest: app passwords as ``u`` + ``p`` (plain or ``enc:``), ``u`` + ``t`` +
``s`` and ``apiKey``, through the real client where it speaks the form; never the account
password; a wrong, revoked or banned key refused; a storm of wrong ones limited."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from libopensonic import errors

from tests.conftest import PASSWORD, Harness
from tests.subsonic.support import (
    APP_PASSWORDS,
    REST,
    connected,
    error_of,
    json,
    listener,
    made_app_password,
    set_column,
    xml,
    xml_error,
)


async def test_a_token_and_salt_is_what_the_client_sends_by_default(
    harness: Harness, site: str
) -> None:
    jane = await listener(harness)
    async with connected(site, jane.username, jane.secret) as app:
        assert await app.ping() is True
        assert (await app.token_info()).username == jane.username


async def test_p_as_enc_hex(harness: Harness, site: str) -> None:
    jane = await listener(harness)
    async with connected(site, jane.username, jane.secret, legacy_auth=True) as app:
        assert await app.ping() is True


async def test_api_key_alone(harness: Harness, site: str) -> None:
    jane = await listener(harness)
    async with connected(site, api_key=jane.secret) as app:
        assert await app.ping() is True
        assert (await app.token_info()).username == jane.username


async def test_p_plain_and_the_username_in_any_case_or_the_email(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    for login in (jane.username, jane.username.upper(), "janedoe@example.com"):
        answer = await json(client, "ping", u=login, p=jane.secret)
        assert answer["status"] == "ok", (login, answer)


async def test_the_account_password_is_never_accepted(harness: Harness, site: str) -> None:
    jane = await listener(harness)
    client = harness.client()
    assert error_of(await json(client, "ping", u=jane.username, p=PASSWORD))[0] == 40
    hexed = PASSWORD.encode().hex()
    assert error_of(await json(client, "ping", u=jane.username, p=f"enc:{hexed}"))[0] == 40
    assert error_of(await json(client, "ping", apiKey=PASSWORD))[0] == 44
    async with connected(site, jane.username, PASSWORD) as app:
        with pytest.raises(errors.CredentialError):
            await app.ping()


async def test_wrong_credentials(harness: Harness) -> None:
    jane = await listener(harness)
    bob = await listener(harness, "bob")
    client = harness.client()
    salt = "c19b2d"
    token = hashlib.md5((jane.secret + salt).encode(), usedforsecurity=False).hexdigest()
    cases: list[tuple[dict[str, Any], int]] = [
        ({"u": jane.username, "p": jane.secret + "x"}, 40),
        ({"u": jane.username, "p": "enc:zz"}, 40),
        ({"u": jane.username, "p": ""}, 40),
        ({"u": "nobody", "p": jane.secret}, 40),
        # Bob's key is not Jane's, even with her name.
        ({"u": jane.username, "p": bob.secret}, 40),
        ({"u": jane.username, "t": token, "s": salt + "x"}, 40),
        ({"u": jane.username, "t": "not-hex", "s": salt}, 40),
        ({"u": "bob", "t": token, "s": salt}, 40),
        ({"apiKey": jane.secret + "x"}, 44),
        ({"apiKey": "x" * 5000}, 44),
        ({"u": jane.username * 50, "p": jane.secret}, 40),
    ]
    for params, code in cases:
        assert error_of(await json(client, "ping", **params))[0] == code, params
    # And the right ones, for contrast.
    ok = await json(client, "ping", u=jane.username, t=token.upper(), s=salt)
    assert ok["status"] == "ok"


async def test_missing_and_conflicting_mechanisms(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    cases: list[tuple[dict[str, Any], int]] = [
        ({}, 10),
        ({"p": jane.secret}, 10),
        ({"u": jane.username}, 10),
        ({"u": jane.username, "t": "0" * 32}, 10),
        # OpenSubsonic: an apiKey with ``u`` (or a password) is error 43.
        ({"apiKey": jane.secret, "u": jane.username}, 43),
        ({"apiKey": jane.secret, "p": jane.secret}, 43),
        ({"u": jane.username, "p": jane.secret, "t": "0" * 32, "s": "abc"}, 43),
    ]
    for params, code in cases:
        assert error_of(await json(client, "ping", **params))[0] == code, params
        assert xml_error(await xml(client, "ping", **params))[0] == code, params


async def test_a_revoked_key_stops_working_and_another_goes_on(harness: Harness) -> None:
    jane = await listener(harness)
    second = await made_app_password(jane.who, "Tablet")
    client = harness.client()
    assert (await json(client, "ping", **jane.auth))["status"] == "ok"
    revoked = await jane.who.client.delete(f"{APP_PASSWORDS}/{jane.key_id}", headers=jane.who.auth)
    assert revoked.status_code == 200, revoked.text
    assert error_of(await json(client, "ping", **jane.auth))[0] == 40
    assert error_of(await json(client, "ping", apiKey=jane.secret))[0] == 44
    other = {"u": jane.username, "p": second["secret"]}
    assert (await json(client, "ping", **other))["status"] == "ok"


async def test_a_banned_users_keys_stop_working_until_the_ban_ends(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()
    await harness.sql("UPDATE users SET ban_reason = 'spam' WHERE username_key = 'janedoe'")
    await set_column(harness, "users", "banned_at", jane.id, True)
    code, message = error_of(await json(client, "ping", **jane.auth))
    assert code == 50 and "banned" in message and "spam" in message
    assert error_of(await json(client, "ping", apiKey=jane.secret))[0] == 50
    # Only a caller with the right secret is told of the ban.
    assert error_of(await json(client, "ping", u=jane.username, p="wrong"))[0] == 40
    await set_column(harness, "users", "banned_at", jane.id, False)
    assert (await json(client, "ping", **jane.auth))["status"] == "ok"


async def test_a_storm_of_wrong_secrets_is_refused_right_or_wrong(make_harness: Any) -> None:
    harness: Harness = await make_harness(login_per_client="3/minute")
    jane = await listener(harness)
    client = harness.client("10.1.2.3")
    for _ in range(3):
        assert error_of(await json(client, "ping", u=jane.username, p="guess"))[0] == 40
    response = await client.get(f"{REST}/ping", params={**jane.auth, "f": "json"})
    code, message = error_of(response.json()["subsonic-response"])
    assert code == 40 and "Too many" in message
    assert int(response.headers["retry-after"]) >= 1
    # Another address is not held back by this one's storm.
    assert (await json(harness.client("10.9.9.9"), "ping", **jane.auth))["status"] == "ok"


async def test_right_secrets_spend_nothing(make_harness: Any) -> None:
    harness: Harness = await make_harness(login_per_client="3/minute")
    jane = await listener(harness)
    client = harness.client("10.1.2.4")
    for _ in range(10):
        assert (await json(client, "ping", **jane.auth))["status"] == "ok"


async def test_extensions_are_listed_without_credentials(harness: Harness, site: str) -> None:
    client = harness.client()
    answer = await json(client, "getOpenSubsonicExtensions")
    assert answer["status"] == "ok" and answer["openSubsonic"] is True
    names = {e["name"]: e["versions"] for e in answer["openSubsonicExtensions"]}
    assert names == {"apiKeyAuthentication": [1], "formPost": [1], "songLyrics": [1]}
    await xml(client, "getOpenSubsonicExtensions")
    # Wrong credentials do not matter to it.
    assert (await json(client, "getOpenSubsonicExtensions", u="x", p="y"))["status"] == "ok"
    async with connected(site, api_key="not-checked") as app:
        found = await app.get_open_subsonic_extensions()
    assert {e.name for e in found} == {"apiKeyAuthentication", "formPost", "songLyrics"}


async def test_last_use_is_recorded_at_most_once_a_minute(harness: Harness) -> None:
    jane = await listener(harness)
    client = harness.client()

    async def last_used() -> Any:
        listed = await jane.who.client.get(APP_PASSWORDS, headers=jane.who.auth)
        (key,) = listed.json()["data"]
        return key["lastUsedAt"]

    assert await last_used() is None
    await json(client, "ping", **jane.auth)
    first = await last_used()
    assert first is not None
    await json(client, "ping", **jane.auth)
    assert await last_used() == first
    await harness.sql("UPDATE app_passwords SET last_used_at = '2020-01-01 00:00:00'")
    await json(client, "ping", apiKey=jane.secret)
    assert (await last_used()) > "2021"
