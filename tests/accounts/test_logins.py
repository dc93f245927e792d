"""A user's logins: listed (each device or browser), and one ended from another — its
tokens stop working at once. Nobody else's logins can be seen or ended."""

from __future__ import annotations

from tests.conftest import Harness, bearer
from tests.songs.support import artist, assert_error

SESSIONS = "/api/v1/users/sessions"
CURRENT = "/api/v1/users/current-user"


async def test_a_login_is_listed_and_ended_from_another(harness: Harness) -> None:
    jane = await artist(harness)
    laptop = bearer((await harness.tokens(jane.user))["accessToken"])
    listed = await jane.client.get(SESSIONS, headers=jane.auth)
    assert listed.status_code == 200, listed.text
    logins = listed.json()["data"]
    assert len(logins) == 2
    assert [login["current"] for login in logins].count(True) == 1
    assert set(logins[0]) == {"_id", "createdAt", "userAgent", "current"}
    other = next(login["_id"] for login in logins if not login["current"])

    ended = await jane.client.delete(f"{SESSIONS}/{other}", headers=jane.auth)
    assert ended.status_code == 200, ended.text
    assert_error(await jane.client.get(CURRENT, headers=laptop), 401)
    assert (await jane.client.get(CURRENT, headers=jane.auth)).status_code == 200
    left = (await jane.client.get(SESSIONS, headers=jane.auth)).json()["data"]
    assert [login["current"] for login in left] == [True]


async def test_nobody_else_sees_or_ends_them(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bob")
    [login] = (await jane.client.get(SESSIONS, headers=jane.auth)).json()["data"]
    assert_error(await bob.client.delete(f"{SESSIONS}/{login['_id']}", headers=bob.auth), 404)
    assert (await jane.client.get(CURRENT, headers=jane.auth)).status_code == 200
    bobs = (await bob.client.get(SESSIONS, headers=bob.auth)).json()["data"]
    assert login["_id"] not in {b["_id"] for b in bobs}
    assert_error(await bob.client.get(SESSIONS), 401)
    assert_error(await bob.client.delete(f"{SESSIONS}/not-an-id", headers=bob.auth), 400)
