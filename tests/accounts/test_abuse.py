"""Sign-up and login cannot be turned against a user: each attack reproduced, and the
victim still gets in. Budgets are per requester; what is spent on a target alone never
holds its owner back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.conftest import PASSWORD, Harness

MakeHarness = Callable[..., Awaitable[Harness]]
LOGIN = "/api/v1/users/login"
VERIFY = "/api/v1/users/verify-otp"
JANE = {"email": "jane@example.com", "password": PASSWORD}


async def test_ten_strangers_registering_my_address_do_not_block_my_sign_up(
    harness: Harness,
) -> None:
    # Ten strangers, each from their own address, each as often as they may.
    for i in range(10):
        squatter = harness.client(f"203.0.113.{i + 1}")
        for n in range(4):
            await harness.register(squatter, username=f"squat{i}x{n}")
    [(pending,)] = await harness.sql("SELECT count(*) FROM pending_signups")
    assert pending == len(await harness.messages()) > 10
    # The address's own budget (10 an hour) is spent; the owner's sign-up still goes.
    me = harness.client("198.51.100.20")
    mine = await harness.register(me, username="realjane")
    assert mine.status_code == 200, mine.text
    verified = await me.post(VERIFY, json={"otp": await harness.last_code()})
    assert verified.status_code == 201, verified.text
    assert verified.json()["data"]["username"] == "realjane"
    # The strangers' sign-ups died with it.
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(0,)]
    await harness.log_in(harness.client("198.51.100.21"))


async def test_each_client_gets_one_code_once_the_address_budget_is_spent(
    make_harness: MakeHarness,
) -> None:
    harness: Harness = await make_harness(otp_send_per_address="2/hour")
    crowd = [harness.client(f"203.0.113.{i + 1}") for i in range(2)]
    for who in crowd:
        assert (await harness.register(who, username="crowd")).status_code == 200
    late = harness.client("203.0.113.50")
    assert (await harness.register(late, username="late")).status_code == 200
    refused = await harness.register(late, username="late")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["success"] is False
    assert len(await harness.messages()) == 3


async def test_the_registered_email_answer_is_throttled_per_client(
    make_harness: MakeHarness,
) -> None:
    harness: Harness = await make_harness(signup_lookups_per_client="5/hour")
    await harness.sign_up()
    prober = harness.client("203.0.113.77")
    answers = [(await harness.register(prober, username=f"probe{i}")).status_code for i in range(5)]
    assert answers == [409] * 5
    # Spent whatever the answer would be: a free address says nothing more now.
    for address in ("jane@example.com", "free@example.com"):
        held = await harness.register(prober, email_address=address, username="probe9")
        assert held.status_code == 429, address
        assert int(held.headers["retry-after"]) > 0
        assert "errors" in held.json() and held.json()["data"] is None
    # Another client is not held back by the prober.
    other = await harness.register(
        harness.client("198.51.100.5"), email_address="free@example.com", username="free"
    )
    assert other.status_code == 200


async def test_101_wrong_passwords_from_101_addresses_do_not_lock_out_my_device(
    harness: Harness,
) -> None:
    await harness.sign_up()
    laptop = harness.client("192.0.2.10")
    await harness.log_in(laptop)  # the laptop keeps its device mark
    assert "bandstandDevice" in laptop.cookies
    for i in range(101):
        bot = harness.client(f"10.9.{i // 250}.{i % 250 + 1}")
        wrong = await bot.post(LOGIN, json={"email": "jane@example.com", "password": "guess-1"})
        assert wrong.status_code in (401, 429)
    # The account-wide budget (100 in 10 minutes) is spent: a new device waits ...
    held = await harness.client("198.51.100.99").post(LOGIN, json=JANE)
    assert held.status_code == 429
    assert int(held.headers["retry-after"]) > 0
    # ... but the device that logged in before gets in, at once.
    again = await laptop.post(LOGIN, json=JANE)
    assert again.status_code == 200, again.text


async def test_failures_from_my_own_address_do_not_lock_out_my_device(
    make_harness: MakeHarness,
) -> None:
    harness: Harness = await make_harness(login_per_client="10/10minutes")
    await harness.sign_up()
    # One café, one address: the laptop and an attacker at the next table.
    laptop = harness.client("192.0.2.44")
    await harness.log_in(laptop)
    attacker = harness.client("192.0.2.44")
    for i in range(12):
        await attacker.post(LOGIN, json={"email": "jane@example.com", "password": f"guess-{i}"})
        await attacker.post(LOGIN, json={"email": f"other{i}@example.com", "password": "guess"})
    assert (await attacker.post(LOGIN, json=JANE)).status_code == 429
    assert (await laptop.post(LOGIN, json=JANE)).status_code == 200


async def test_a_device_mark_is_its_own_budget_and_only_for_its_account(
    make_harness: MakeHarness,
) -> None:
    harness: Harness = await make_harness(login_per_account="3/10minutes")
    await harness.sign_up()
    await harness.sign_up(email_address="bob@example.com", username="bob")
    bobs = harness.client("192.0.2.60")
    await harness.log_in(bobs, "bob@example.com")
    for i in range(4):
        await harness.client(f"203.0.113.{i + 100}").post(
            LOGIN, json={"email": "jane@example.com", "password": "guess"}
        )
    # Bob's mark is no mark for Jane's account, and a forged one is none either.
    assert (await bobs.post(LOGIN, json=JANE)).status_code == 429
    forged = harness.client("192.0.2.61")
    forged.cookies.set("bandstandDevice", "eyJhbGciOiJIUzI1NiJ9.e30.forged")
    assert (await forged.post(LOGIN, json=JANE)).status_code == 429
    # A stolen mark guesses no faster than one client may (login_per_pair: 5).
    thief = harness.client("203.0.113.200")
    thief.cookies.set("bandstandDevice", bobs.cookies["bandstandDevice"])
    statuses = [
        (
            await thief.post(LOGIN, json={"email": "bob@example.com", "password": f"g{i}"})
        ).status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    # The thief spent the mark's budget, not the account's: Bob logs in from elsewhere.
    elsewhere = harness.client("198.51.100.61")
    bob = {"email": "bob@example.com", "password": PASSWORD}
    assert (await elsewhere.post(LOGIN, json=bob)).status_code == 200
