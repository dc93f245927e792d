"""Login: by email or username, one answer for every failure, throttled without lock-outs."""

from __future__ import annotations

import statistics
import time

from tests.conftest import PASSWORD, Harness, bearer

LOGIN = "/api/v1/users/login"


async def test_login_by_email_any_case_or_username(harness: Harness) -> None:
    # The whole way a new user comes in: the emailed-code sign-up, then a login.
    await harness.sign_up_by_email(username="JaneDoe")
    client = harness.client()
    for body in (
        {"email": "JANE@Example.com", "password": PASSWORD},
        {"username": "janedoe", "password": PASSWORD},
        {"email": "JaneDoe", "password": PASSWORD},
    ):
        response = await client.post(LOGIN, json=body)
        assert response.status_code == 200, (body, response.text)
        data = response.json()["data"]
        assert set(data) == {"user", "accessToken", "refreshToken"}
        assert data["user"]["username"] == "JaneDoe"
        assert "password" not in str(data["user"]).lower()
    cookies = response.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith("accessToken="))
    refresh = next(c for c in cookies if c.startswith("refreshToken="))
    for cookie in (access, refresh):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie
    assert "Path=/api/v1/users" in refresh


async def test_secure_cookies_in_production(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(env="production")
    await harness.sign_up()
    response = await harness.client().post(
        LOGIN, json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    for cookie in response.headers.get_list("set-cookie"):
        assert "Secure" in cookie and "HttpOnly" in cookie


async def test_unknown_user_and_wrong_password_look_the_same(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    wrong = await client.post(
        LOGIN, json={"email": "jane@example.com", "password": "not-it-at-all"}
    )
    unknown = await client.post(LOGIN, json={"email": "nobody@example.com", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_unknown_user_costs_about_as_much_as_a_wrong_password(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(
        login_per_pair="1000/minute",
        login_per_client="1000/minute",
        login_per_account="1000/minute",
        password_hash_cost="owasp",  # the real cost, or HTTP would drown the difference
    )
    await harness.sign_up()
    client = harness.client()

    async def timed(body: dict[str, str]) -> float:
        start = time.perf_counter()
        response = await client.post(LOGIN, json=body)
        assert response.status_code == 401
        return time.perf_counter() - start

    wrong, unknown = [], []
    for _ in range(7):
        wrong.append(await timed({"email": "jane@example.com", "password": "wrong-password"}))
        unknown.append(await timed({"email": "ghost@example.com", "password": "wrong-password"}))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    # Both run one argon2id verification; without the dummy hash the ratio would be ~0.05.
    assert 0.5 < ratio < 2.0, ratio


async def test_failed_logins_are_throttled_per_account_and_client(harness: Harness) -> None:
    await harness.sign_up()
    attacker = harness.client("203.0.113.5")
    for _ in range(5):
        response = await attacker.post(
            LOGIN, json={"email": "jane@example.com", "password": "guess-123"}
        )
        assert response.status_code == 401
    blocked = await attacker.post(LOGIN, json={"email": "jane@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 600
    # The real user, elsewhere, is not locked out by that attacker.
    await harness.log_in(harness.client("198.51.100.7"))


async def test_failures_from_one_client_across_accounts_are_throttled(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(login_per_client="3/10minutes")
    sprayer = harness.client("203.0.113.9")
    statuses = [
        (
            await sprayer.post(LOGIN, json={"email": f"u{i}@example.com", "password": "guess-1"})
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


async def test_distributed_attack_cannot_lock_out_a_known_device(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(login_per_account="3/10minutes")
    await harness.sign_up()
    phone = harness.client("192.0.2.10")
    await harness.log_in(phone)  # the phone now carries a device cookie
    for i in range(4):
        bot = harness.client(f"203.0.113.{i + 20}")
        await bot.post(LOGIN, json={"email": "jane@example.com", "password": "guess-1"})
    stranger = harness.client("198.51.100.99")
    held = await stranger.post(LOGIN, json={"email": "jane@example.com", "password": PASSWORD})
    assert held.status_code == 429
    # The account-wide hold is for strangers; the user's own device still gets in.
    assert (
        await phone.post(LOGIN, json={"email": "jane@example.com", "password": PASSWORD})
    ).status_code == 200


async def test_success_clears_the_failures_of_that_client(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    for _ in range(4):
        await client.post(LOGIN, json={"email": "jane@example.com", "password": "typo-typo"})
    await harness.log_in(client)
    for _ in range(4):
        response = await client.post(
            LOGIN, json={"email": "jane@example.com", "password": "typo-typo"}
        )
        assert response.status_code == 401


async def test_banned_user_cannot_log_in_and_tokens_die(harness: Harness) -> None:
    user = await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    assert (
        await client.get("/api/v1/users/current-user", headers=bearer(tokens["accessToken"]))
    ).status_code == 200
    await harness.sql("UPDATE users SET banned_at = CURRENT_TIMESTAMP WHERE username = 'janedoe'")
    assert (
        await client.get("/api/v1/users/current-user", headers=bearer(tokens["accessToken"]))
    ).status_code == 401
    # The refresh and a new login are refused with the ban (tests/accounts/test_bans.py).
    refreshed = await client.post(
        "/api/v1/users/refresh-token", json={"refreshToken": tokens["refreshToken"]}
    )
    assert refreshed.status_code == 403
    again = await harness.client("10.2.2.2").post(
        LOGIN, json={"email": "jane@example.com", "password": PASSWORD}
    )
    assert again.status_code == 403
    assert user["_id"]


async def test_deleted_user_tokens_die_at_once(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    await harness.sql("DELETE FROM users")
    response = await client.get("/api/v1/users/current-user", headers=bearer(tokens["accessToken"]))
    assert response.status_code == 401
