"""A new email takes effect only once the code sent to it comes back; the old address is
told. The mail is read from the outbox the mail job writes (tests/mail proves SMTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bandstand.kit.time import utcnow
from tests.conftest import PASSWORD, Harness, bearer, code_in

MakeHarness = Callable[..., Awaitable[Harness]]
UPDATE = "/api/v1/users/update-account"
CONFIRM = "/api/v1/users/email/confirm"
ME = "/api/v1/users/current-user"
NEW = {"email": "New@Example.com", "currentPassword": PASSWORD}


async def _jane(harness: Harness) -> dict[str, str]:
    await harness.sign_up()
    return bearer((await harness.log_in(harness.client()))["accessToken"])


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_the_email_changes_only_with_the_code_sent_to_it(harness: Harness) -> None:
    auth = await _jane(harness)
    client = harness.client()
    asked = await client.patch(UPDATE, json={**NEW, "fullname": "Jane Q. Doe"}, headers=auth)
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["data"]["email"] == "jane@example.com"  # not yet
    assert body["data"]["pendingEmail"] == "new@example.com"
    assert body["data"]["fullname"] == "Jane Q. Doe"  # the rest changes at once
    assert "new@example.com" in body["message"] and "code" in body["message"]
    assert await harness.sql("SELECT email FROM users") == [("jane@example.com",)]
    [(stored_hash, attempts)] = await harness.sql("SELECT code_hash, attempts FROM email_changes")

    to_new, to_old = sorted(await harness.messages(), key=lambda m: m["To"] != "new@example.com")
    assert to_new["To"] == "new@example.com" and to_old["To"] == "jane@example.com"
    code = code_in(to_new)
    assert code not in stored_hash and attempts == 0
    notice = to_old.get_payload(decode=True)
    assert isinstance(notice, bytes)
    assert b"new@example.com" in notice and code.encode() not in notice
    # The old address logs in until the change is confirmed; the new one does not.
    await harness.log_in(harness.client("10.1.0.1"), "jane@example.com")
    early = await harness.client("10.1.0.2").post(
        "/api/v1/users/login", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert early.status_code == 401

    done = await client.post(CONFIRM, json={"code": code}, headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["data"]["email"] == "new@example.com"
    assert await harness.sql("SELECT count(*) FROM email_changes") == [(0,)]
    me = await client.get(ME, headers=auth)
    assert me.json()["data"]["email"] == "new@example.com"
    await harness.log_in(harness.client("10.1.0.3"), "new@example.com")
    # Good once.
    again = await client.post(CONFIRM, json={"code": code}, headers=auth)
    assert again.status_code == 400


async def test_wrong_codes_are_limited_and_an_expired_code_is_refused(harness: Harness) -> None:
    auth = await _jane(harness)
    client = harness.client()
    assert (await client.patch(UPDATE, json=NEW, headers=auth)).status_code == 200
    code = await harness.last_code("new@example.com")
    for _ in range(5):
        wrong = await client.post(CONFIRM, json={"code": _wrong(code)}, headers=auth)
        assert (wrong.status_code, wrong.json()["message"]) == (400, "The code is not correct.")
    assert await harness.sql("SELECT attempts FROM email_changes") == [(5,)]
    late = await client.post(CONFIRM, json={"code": code}, headers=auth)
    assert late.status_code == 400 and "Too many wrong codes" in late.json()["message"]
    assert await harness.sql("SELECT email FROM users") == [("jane@example.com",)]

    # A new request starts again, and its code dies when it expires.
    assert (await client.patch(UPDATE, json=NEW, headers=auth)).status_code == 200
    fresh = await harness.last_code("new@example.com")
    await harness.sql("UPDATE email_changes SET expires_at = :t", t=utcnow() - timedelta(seconds=1))
    expired = await client.post(CONFIRM, json={"code": fresh}, headers=auth)
    assert expired.status_code == 400 and "expired" in expired.json()["message"]


async def test_a_second_request_kills_the_first_code(harness: Harness) -> None:
    auth = await _jane(harness)
    client = harness.client()
    await client.patch(UPDATE, json=NEW, headers=auth)
    first = await harness.last_code("new@example.com")
    other = {"email": "other@example.com", "currentPassword": PASSWORD}
    assert (await client.patch(UPDATE, json=other, headers=auth)).status_code == 200
    # The first address's code does not confirm the second address.
    stale = await client.post(CONFIRM, json={"code": first}, headers=auth)
    second = await harness.last_code("other@example.com")
    if first != second:
        assert stale.status_code == 400
    done = await client.post(CONFIRM, json={"code": second}, headers=auth)
    assert done.json()["data"]["email"] == "other@example.com"


async def test_an_address_taken_meanwhile_is_a_conflict_at_confirm(harness: Harness) -> None:
    auth = await _jane(harness)
    client = harness.client()
    await client.patch(UPDATE, json=NEW, headers=auth)
    code = await harness.last_code("new@example.com")
    # The address's owner signs up before Jane confirms (the code went to the owner's inbox).
    await harness.sign_up(email_address="new@example.com", username="owner")
    clash = await client.post(CONFIRM, json={"code": code}, headers=auth)
    assert clash.status_code == 409
    assert [e["field"] for e in clash.json()["errors"]] == ["email"]
    assert await harness.sql("SELECT email FROM users WHERE username = 'janedoe'") == [
        ("jane@example.com",)
    ]
    # A taken address is refused when asked for, too.
    taken = await client.patch(UPDATE, json=NEW, headers=auth)
    assert taken.status_code == 409


async def test_confirm_is_throttled_and_needs_a_login(make_harness: MakeHarness) -> None:
    harness: Harness = await make_harness(email_confirm_per_user="3/15minutes")
    auth = await _jane(harness)
    client = harness.client()
    nothing = await client.post(CONFIRM, json={"code": "123456"}, headers=auth)
    assert nothing.status_code == 400 and "No email change" in nothing.json()["message"]
    await client.patch(UPDATE, json=NEW, headers=auth)
    code = await harness.last_code("new@example.com")
    await client.post(CONFIRM, json={"code": _wrong(code)}, headers=auth)
    await client.post(CONFIRM, json={"code": _wrong(code)}, headers=auth)
    held = await client.post(CONFIRM, json={"code": code}, headers=auth)
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    stranger = await harness.client("203.0.113.1").post(CONFIRM, json={"code": code})
    assert stranger.status_code == 401
    for bad in ({"code": "12345"}, {"code": "abcdef"}, {}, {"code": code, "email": "x@y.z"}):
        assert (await client.post(CONFIRM, json=bad, headers=auth)).status_code == 400, bad


async def test_sending_codes_is_throttled_per_user(make_harness: MakeHarness) -> None:
    harness: Harness = await make_harness(email_change_per_user="2/hour")
    auth = await _jane(harness)
    client = harness.client()
    statuses = []
    for i in range(3):
        body = {"email": f"new{i}@example.com", "currentPassword": PASSWORD}
        statuses.append((await client.patch(UPDATE, json=body, headers=auth)).status_code)
    assert statuses == [200, 200, 429]
    assert len(await harness.messages()) == 4  # a code and a notice, twice


async def test_two_confirms_at_once_change_the_email_once(harness: Harness) -> None:
    auth = await _jane(harness)
    client = harness.client()
    await client.patch(UPDATE, json=NEW, headers=auth)
    code = await harness.last_code("new@example.com")
    answers = await asyncio.gather(
        *(client.post(CONFIRM, json={"code": code}, headers=auth) for _ in range(3))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1, [a.text for a in answers]
    assert await harness.sql("SELECT email FROM users") == [("new@example.com",)]
