"""Sign-up by emailed code: held server-side, bound to its handle, single use."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from bandstand.kit.time import utcnow
from tests.conftest import PASSWORD, Harness, code_in

VERIFY = "/api/v1/users/verify-otp"


async def test_sign_up_with_cookie_creates_the_user_once(harness: Harness) -> None:
    client = harness.client()
    started = await harness.register(client, email_address="Jane@Example.COM")
    assert started.status_code == 200
    body = started.json()
    assert body["message"] == "OTP sent to your email."
    assert set(body["data"]) == {"registrationId", "email", "expiresIn"}
    assert body["data"]["email"] == "jane@example.com"
    cookie = started.cookies["emailForOTP"]
    assert "jane@example.com" not in cookie  # a signed handle, not the address
    set_cookie = started.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert await harness.sql("SELECT count(*) FROM users") == [(0,)]

    code = await harness.last_code("jane@example.com")
    verified = await client.post(VERIFY, json={"otp": code})
    assert verified.status_code == 201, verified.text
    user = verified.json()["data"]
    assert user["username"] == "janedoe" and user["email"] == "jane@example.com"
    assert 'emailforotp=""' in verified.headers["set-cookie"].lower()
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(0,)]

    again = await client.post(
        VERIFY, json={"otp": code, "registrationId": body["data"]["registrationId"]}
    )
    assert again.status_code == 400
    assert await harness.sql("SELECT count(*) FROM users") == [(1,)]


async def test_pending_sign_up_lives_in_the_database_with_hashed_secrets(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(password_hash_cost="owasp")
    client = harness.client()
    started = await harness.register(client)
    code = await harness.last_code()
    rows = await harness.sql("SELECT password_hash, otp_hash, expires_at FROM pending_signups")
    assert len(rows) == 1
    password_hash, otp_hash, _ = rows[0]
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in password_hash
    assert code not in otp_hash and len(otp_hash) == 64
    assert started.json()["data"]["expiresIn"] == 300


async def test_a_second_sign_up_for_the_same_address_cannot_take_over(harness: Harness) -> None:
    victim = harness.client("10.0.0.1")
    attacker = harness.client("10.0.0.2")
    mine = await harness.register(victim, username="victim", password=PASSWORD)
    theirs = await harness.register(attacker, username="attacker", password="attacker-password-1")
    assert mine.status_code == theirs.status_code == 200
    code = code_in((await harness.messages())[0])
    # The victim's code, presented with the attacker's handle, does nothing.
    stolen = await attacker.post(
        VERIFY, json={"otp": code, "registrationId": theirs.json()["data"]["registrationId"]}
    )
    assert stolen.status_code == 400
    done = await victim.post(VERIFY, json={"otp": code})
    assert done.status_code == 201
    assert done.json()["data"]["username"] == "victim"
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(0,)]
    await harness.log_in(harness.client(), "jane@example.com", PASSWORD)
    refused = await harness.client().post(
        "/api/v1/users/login", json={"email": "jane@example.com", "password": "attacker-password-1"}
    )
    assert refused.status_code == 401


async def test_five_wrong_codes_kill_the_code(harness: Harness) -> None:
    client = harness.client()
    started = await harness.register(client)
    registration_id = started.json()["data"]["registrationId"]
    code = await harness.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = await client.post(VERIFY, json={"otp": wrong, "registrationId": registration_id})
        assert response.status_code == 400
        assert response.json()["message"] == "The code is not correct."
    assert await harness.sql("SELECT otp_attempts FROM pending_signups") == [(5,)]
    late = await client.post(VERIFY, json={"otp": code, "registrationId": registration_id})
    assert late.status_code == 400
    assert "Too many wrong codes" in late.json()["message"]
    assert await harness.sql("SELECT count(*) FROM users") == [(0,)]


async def test_an_expired_code_is_refused(harness: Harness) -> None:
    client = harness.client()
    await harness.register(client)
    code = await harness.last_code()
    await harness.sql(
        "UPDATE pending_signups SET otp_expires_at = :t", t=utcnow() - timedelta(seconds=1)
    )
    response = await client.post(VERIFY, json={"otp": code})
    assert response.status_code == 400
    assert "expired" in response.json()["message"]


async def test_resend_gives_a_new_code_and_kills_the_old(harness: Harness) -> None:
    client = harness.client()
    await harness.register(client)
    old = await harness.last_code()
    resent = await client.post("/api/v1/users/resend-otp")
    assert resent.status_code == 200, resent.text
    new = await harness.last_code()
    assert len(await harness.messages()) == 2
    if old != new:
        assert (await client.post(VERIFY, json={"otp": old})).status_code == 400
    assert (await client.post(VERIFY, json={"otp": new})).status_code == 201


async def test_resending_is_throttled_per_address(harness: Harness) -> None:
    client = harness.client()
    await harness.register(client)
    statuses = [(await client.post("/api/v1/users/resend-otp")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = await client.post("/api/v1/users/resend-otp")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert len(await harness.messages()) == 3


async def test_a_stranger_cannot_block_someone_elses_sign_up(harness: Harness) -> None:
    for _ in range(3):
        await harness.register(harness.client("203.0.113.66"), username="squatter")
    blocked = await harness.register(harness.client("203.0.113.66"), username="squatter")
    assert blocked.status_code == 429
    mine = await harness.register(harness.client("198.51.100.1"))
    assert mine.status_code == 200


async def test_an_inbox_cannot_be_flooded_from_many_clients(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(otp_send_per_address="4/hour")
    clients = [harness.client(f"203.0.113.{i}") for i in range(6)]
    statuses = [
        (await harness.register(client, username=f"user{i}")).status_code
        for i, client in enumerate(clients)
    ]
    # Past the address's budget each client still gets one code (so nobody can block the
    # owner's sign-up: test_signup_abuse.py), and no more.
    assert statuses == [200] * 6
    again = [(await harness.register(c, username="again")).status_code for c in clients]
    assert again == [200, 200, 200, 200, 429, 429]
    assert len(await harness.messages()) == 10


async def test_parallel_sign_ups_cannot_slip_past_the_limit(harness: Harness) -> None:
    client = harness.client()
    responses = await asyncio.gather(
        *(harness.register(client, username=f"racer{i}") for i in range(12))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 3 and statuses.count(429) == 9
    assert len(await harness.messages()) == 3


async def test_resending_is_throttled_per_client(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(otp_send_per_client="2/hour")
    client = harness.client("10.1.1.1")
    assert (
        await harness.register(client, email_address="a@example.com", username="aaa")
    ).status_code == 200
    assert (
        await harness.register(client, email_address="b@example.com", username="bbb")
    ).status_code == 200
    third = await harness.register(client, email_address="c@example.com", username="ccc")
    assert third.status_code == 429
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(2,)]
    assert len(harness.media_files()) == 2


async def test_taken_email_or_username_is_a_conflict(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    by_email = await harness.register(client, email_address="JANE@example.com", username="other")
    assert by_email.status_code == 409
    assert [e["field"] for e in by_email.json()["errors"]] == ["email"]
    by_name = await harness.register(client, email_address="new@example.com", username="JaneDoe")
    assert by_name.status_code == 409
    assert [e["field"] for e in by_name.json()["errors"]] == ["username"]
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(0,)]


async def test_whoever_verifies_second_gets_a_conflict(harness: Harness) -> None:
    first, second = harness.client("10.0.0.1"), harness.client("10.0.0.2")
    await harness.register(first, email_address="one@example.com", username="samename")
    code_one = await harness.last_code("one@example.com")
    await harness.register(second, email_address="two@example.com", username="SameName")
    code_two = await harness.last_code("two@example.com")
    assert (await first.post(VERIFY, json={"otp": code_one})).status_code == 201
    late = await second.post(VERIFY, json={"otp": code_two})
    assert late.status_code == 409


async def test_verify_needs_the_handle(harness: Harness) -> None:
    client = harness.client()
    await harness.register(client)
    code = await harness.last_code()
    bare = harness.client()
    missing = await bare.post(VERIFY, json={"otp": code, "email": "jane@example.com"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "registrationId"
    unknown = await bare.post(VERIFY, json={"otp": code, "registrationId": str(uuid.uuid4())})
    assert unknown.status_code == 400
    bare.cookies.set("emailForOTP", "jane@example.com")
    forged = await bare.post(VERIFY, json={"otp": code})
    assert forged.status_code == 400
    assert await harness.sql("SELECT count(*) FROM users") == [(0,)]


async def test_expired_sign_ups_are_purged_with_their_avatars(harness: Harness) -> None:
    await harness.register(harness.client(), email_address="old@example.com", username="old")
    assert len(harness.media_files()) == 1
    await harness.sql(
        "UPDATE pending_signups SET expires_at = :t", t=utcnow() - timedelta(seconds=1)
    )
    # The next sign-up sweeps what expired.
    await harness.register(
        harness.client("10.0.0.3"), email_address="new@example.com", username="new"
    )
    rows = await harness.sql("SELECT email FROM pending_signups")
    assert rows == [("new@example.com",)]
    assert len(harness.media_files()) == 1


async def test_the_avatar_is_reencoded_and_named_by_the_server(harness: Harness) -> None:
    from tests.images import jpeg_with_exif

    client = harness.client()
    response = await harness.register(client, avatar=jpeg_with_exif())
    assert response.status_code == 200
    [path] = harness.media_files()
    assert path.parent.name == "avatars" and path.suffix == ".webp"
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and b"SpyCam" not in data and b"secret-software" not in data
    assert "me.png" not in str(path)
    verified = await client.post(VERIFY, json={"otp": await harness.last_code()})
    avatar_url = verified.json()["data"]["avatar"]
    assert avatar_url == f"http://testserver/media/avatars/{path.name}"
    served = await client.get(avatar_url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.content == data
