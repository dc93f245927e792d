"""A banned user's login and refresh are refused with the moderators' reason (403); only
someone who knows the password learns the account is banned."""

from __future__ import annotations

from datetime import datetime, timedelta

from bandstand.kit.time import utcnow
from tests.conftest import PASSWORD, Harness, bearer

LOGIN = "/api/v1/users/login"
REFRESH = "/api/v1/users/refresh-token"
JANE = {"email": "jane@example.com", "password": PASSWORD}


async def _ban(harness: Harness, reason: str | None, until: datetime | None = None) -> None:
    await harness.sql(
        "UPDATE users SET banned_at = :now, ban_reason = :reason, banned_until = :until",
        now=utcnow(),
        reason=reason,
        until=until,
    )


async def test_login_is_refused_with_the_reason(harness: Harness) -> None:
    await harness.sign_up()
    await _ban(harness, "Spam in comments")
    refused = await harness.client().post(LOGIN, json=JANE)
    assert refused.status_code == 403
    body = refused.json()
    assert body["message"] == "This account is banned: Spam in comments."
    assert body["data"] is None and body["success"] is False
    assert "accessToken" not in refused.text and "set-cookie" not in refused.headers


async def test_the_end_of_a_ban_is_told_and_a_ban_without_reason_still_refuses(
    harness: Harness,
) -> None:
    await harness.sign_up()
    until = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    await _ban(harness, "Harassment.", until)
    refused = await harness.client().post(LOGIN, json=JANE)
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        f"This account is banned: Harassment. The ban ends {until:%Y-%m-%d %H:%M} UTC."
    )
    await _ban(harness, None)
    bare = await harness.client("10.0.0.2").post(LOGIN, json=JANE)
    assert (bare.status_code, bare.json()["message"]) == (403, "This account is banned.")


async def test_a_wrong_password_learns_nothing_of_the_ban(harness: Harness) -> None:
    await harness.sign_up()
    await _ban(harness, "Spam in comments")
    wrong = await harness.client().post(
        LOGIN, json={"email": "jane@example.com", "password": "not-the-password"}
    )
    unknown = await harness.client().post(
        LOGIN, json={"email": "ghost@example.com", "password": "not-the-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "banned" not in wrong.text.lower()


async def test_refresh_is_refused_with_the_reason_and_access_dies(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    tokens = await harness.log_in(client)
    await _ban(harness, "Copyright infringement")
    # As a moderator's ban does (moderation revokes the sessions too), or not: refused either way.
    refused = await client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    assert refused.status_code == 403
    assert refused.json()["message"] == "This account is banned: Copyright infringement."
    await harness.sql("UPDATE login_sessions SET revoked_at = :now", now=utcnow())
    again = await client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    assert again.status_code == 403
    me = await client.get("/api/v1/users/current-user", headers=bearer(tokens["accessToken"]))
    assert me.status_code == 401


async def test_after_the_ban_is_lifted_the_user_logs_in(harness: Harness) -> None:
    await harness.sign_up()
    await _ban(harness, "Spam")
    assert (await harness.client().post(LOGIN, json=JANE)).status_code == 403
    await harness.sql("UPDATE users SET banned_at = NULL, ban_reason = NULL")
    await harness.log_in(harness.client())
