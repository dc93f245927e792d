"""Every write spends a budget per user and per client; past it, 429 with Retry-After."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from bandstand.app import API_PREFIX
from bandstand.budgets import Family, budgeted_routes, client_key, family_of, page_family_of
from bandstand.kit.ratelimit import Rate, RateLimiter
from bandstand.middleware import UNSAFE_METHODS
from tests.conftest import Harness
from tests.songs.support import SONGS, artist, uploaded

# One route of each family: (method, path, body). What the route answers does not matter
# (most of these ids exist nowhere): the budget is spent before any route runs.
SOME = str(uuid.uuid4())
ROUTES: dict[Family, tuple[str, str, dict[str, Any] | None]] = {
    Family.LIKES: ("POST", f"/songs/{SOME}/like", None),
    Family.PLAYS: ("POST", f"/songs/{SOME}", None),
    Family.COMMENTS: ("POST", f"/comments/{SOME}", {"content": "Hello"}),
    Family.UPLOADS: ("POST", "/songs/upload", None),
    Family.PLAYLISTS: ("POST", "/playlist/", {"name": "Mix"}),
    Family.REPORTS: ("POST", "/reports", {"targetType": "song", "targetId": SOME}),
    Family.ACCOUNT: ("PATCH", "/users/update-account", {"fullname": "Jane"}),
    Family.WRITES: ("PATCH", f"/songs/updateSong/{SOME}", {"title": "New"}),
    Family.SEARCH: ("GET", "/songs/search", None),
}


def tight(
    family: Family, per_user: str = "1000/minute", per_client: str = "1000/minute"
) -> dict[str, str]:
    return {f"limit_{family}_per_user": per_user, f"limit_{family}_per_client": per_client}


# A budget of its own size for each family, per user (3, 4, … a minute) and per client
# (2, 3, …): a route that spent another family's budget would be refused at another
# count. One app serves every family's test (an app per family made these the slowest
# tests of the suite).
PER_USER = {family: 3 + n for n, family in enumerate(Family)}
PER_CLIENT = {family: 2 + n for n, family in enumerate(Family)}


def sized(per: str, sizes: dict[Family, int]) -> dict[str, str]:
    return {f"limit_{family}_per_{per}": f"{size}/minute" for family, size in sizes.items()}


async def ask(
    client: httpx.AsyncClient, family: Family, headers: dict[str, str] | None = None
) -> httpx.Response:
    method, path, body = ROUTES[family]
    return await client.request(method, API_PREFIX + path, json=body, headers=headers)


def assert_limited(response: httpx.Response, family: Family) -> int:
    assert response.status_code == 429, (family, response.status_code, response.text[:300])
    body = response.json()
    assert body == {
        "statusCode": 429,
        "data": None,
        "message": body["message"],
        "success": False,
        "errors": [],
    }
    assert "Try again in" in body["message"]
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


@pytest.mark.parametrize("family", list(Family))
async def test_each_family_has_a_budget_per_user(make_harness, family: Family) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**sized("user", PER_USER))
    jane = await artist(harness)
    answers = [await ask(jane.client, family, jane.auth) for _ in range(PER_USER[family])]
    assert all(a.status_code != 429 for a in answers), [a.text for a in answers]
    # The user's budget follows them to another address; a stranger's is their own.
    elsewhere = harness.client("198.51.100.20")
    retry_after = assert_limited(await ask(elsewhere, family, jane.auth), family)
    every_s = 60 / PER_USER[family]  # one more this often
    assert 0.75 * every_s <= retry_after <= every_s + 1
    other = await artist(harness, "other")
    assert (await ask(other.client, family, other.auth)).status_code != 429


@pytest.mark.parametrize("family", list(Family))
async def test_each_family_has_a_budget_per_client(make_harness, family: Family) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**sized("client", PER_CLIENT))
    budget = PER_CLIENT[family]
    users = [await artist(harness, f"user{n}") for n in range(budget + 1)]
    client = harness.client("203.0.113.7")
    for user in users[:budget]:
        assert (await ask(client, family, user.auth)).status_code != 429
    # One more user from the same address, or nobody at all: the address's budget is spent.
    assert_limited(await ask(client, family, users[budget].auth), family)
    anonymous = await ask(client, family)
    if family in (Family.UPLOADS, Family.PLAYLISTS):
        assert anonymous.status_code == 401  # refused before any budget: a file may follow
    else:
        assert_limited(anonymous, family)
    other = harness.client("203.0.113.8")
    assert (await ask(other, family, users[budget].auth)).status_code != 429


async def test_families_do_not_share_budgets(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**tight(Family.LIKES, per_user="1/minute"))
    jane = await artist(harness)
    assert (await ask(jane.client, Family.LIKES, jane.auth)).status_code != 429
    assert_limited(await ask(jane.client, Family.LIKES, jane.auth), Family.LIKES)
    assert (await ask(jane.client, Family.PLAYS, jane.auth)).status_code != 429
    assert (await ask(jane.client, Family.COMMENTS, jane.auth)).status_code != 429


async def test_500_like_toggles_meet_a_429_with_the_default_budgets(harness: Harness) -> None:
    owner, fan = await artist(harness, "owner"), await artist(harness, "fan")
    song = await uploaded(owner, title="Liked a lot")
    statuses = []
    for n in range(500):
        verb = "like" if n % 2 == 0 else "unlike"
        response = await fan.client.post(f"{SONGS}/{song['_id']}/{verb}", headers=fan.auth)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429
    assert statuses[:-1] == [200] * (len(statuses) - 1)
    assert 100 <= len(statuses) - 1 <= 130  # the default: 120 at once, then 2 a second


async def test_a_refusal_spends_no_budget(make_harness) -> None:  # type: ignore[no-untyped-def]
    # The user's budget is spent, the client's is not: refused requests from this client
    # leave its budget whole for another user.
    harness: Harness = await make_harness(
        **tight(Family.PLAYS, per_user="1/minute", per_client="3/minute")
    )
    jane, joe = await artist(harness), await artist(harness, "joe")
    assert (await ask(jane.client, Family.PLAYS, jane.auth)).status_code != 429
    for _ in range(5):
        assert_limited(await ask(jane.client, Family.PLAYS, jane.auth), Family.PLAYS)
    assert (await ask(jane.client, Family.PLAYS, joe.auth)).status_code != 429


async def test_sign_up_login_and_logout_spend_no_write_budget(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**tight(Family.ACCOUNT, "1/hour", "1/hour"))
    await harness.sign_up()
    client = harness.client()
    for _ in range(3):
        tokens = await harness.log_in(client)
        logout = await client.post(
            f"{API_PREFIX}/users/logout",
            headers={"Authorization": f"Bearer {tokens['accessToken']}"},
        )
        assert logout.status_code == 200, logout.text


async def test_a_forged_token_spends_only_the_clients_budget(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**tight(Family.LIKES, per_user="1/minute"))
    jane = await artist(harness)
    forged = {"Authorization": "Bearer " + jane.auth["Authorization"].split()[1][:-4] + "AAAA"}
    for _ in range(3):
        assert (await ask(jane.client, Family.LIKES, forged)).status_code == 401
    assert (await ask(jane.client, Family.LIKES, jane.auth)).status_code != 429


async def test_replicas_share_the_budgets_through_redis(make_harness) -> None:  # type: ignore[no-untyped-def]
    overrides = tight(Family.COMMENTS, per_user="2/minute")
    one: Harness = await make_harness(**overrides)
    if one.settings.redis_url is None:
        pytest.skip("one process without Redis: its budgets are its own")
    two: Harness = await make_harness(**overrides)
    assert one.app is not two.app
    jane = await artist(one)
    assert (await ask(one.client(), Family.COMMENTS, jane.auth)).status_code != 429
    assert (await ask(two.client(), Family.COMMENTS, jane.auth)).status_code != 429
    assert_limited(await ask(one.client(), Family.COMMENTS, jane.auth), Family.COMMENTS)
    assert_limited(await ask(two.client(), Family.COMMENTS, jane.auth), Family.COMMENTS)


def test_routes_fall_in_their_families(harness: Harness) -> None:
    assert family_of("POST", "/songs/{songId}/like") is Family.LIKES
    assert family_of("POST", "/comments/{commentId}/unlike") is Family.LIKES
    assert family_of("POST", "/songs/{songId}") is Family.PLAYS
    assert family_of("POST", "/comments/{songId}/reply/{parentId}") is Family.COMMENTS
    assert family_of("DELETE", "/playlist/{playlistId}/removeSong/{songId}") is Family.PLAYLISTS
    assert family_of("POST", "/admin/reports/{reportId}/resolve") is Family.WRITES
    assert family_of("GET", "/songs/home") is None
    for exempt in ("register", "verify-otp", "login", "refresh-token", "logout"):
        assert family_of("POST", f"/users/{exempt}") is None
    # The pages spend what the JSON routes they stand for spend.
    assert page_family_of("POST", "/songs/{songId}/comments") is Family.COMMENTS
    assert page_family_of("POST", "/songs/{songId}/like") is Family.LIKES
    assert page_family_of("POST", "/playlists/{playlistId}/edit") is Family.PLAYLISTS
    assert page_family_of("POST", "/moderation/songs/{song_id}/takedown") is Family.WRITES
    assert page_family_of("GET", "/search") is Family.SEARCH
    assert page_family_of("GET", "/songs/{songId}") is None
    for exempt in ("signin", "signout", "signup", "signup/code", "signup/code/resend"):
        assert page_family_of("POST", f"/{exempt}") is None
    # Every write route of the app is budgeted but sign-up's, login's and logout's.
    table = budgeted_routes(harness.app.routes, API_PREFIX, harness.settings)
    unbudgeted = {
        p.pattern
        for method, ps in table.items()
        if method in UNSAFE_METHODS
        for p, b in ps
        if b is None
    }
    signing = ("/users/", "^/signin$", "^/signout$", "^/signup", "^/rest/")
    assert all(any(s in pattern for s in signing) for pattern in unbudgeted), unbudgeted


def test_an_ipv6_client_is_its_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("203.0.113.7") == "203.0.113.7"


async def test_the_in_process_budgets_refill_at_their_rate() -> None:
    limiter = RateLimiter(None)
    rate = Rate.parse("2/second")
    assert (await limiter.spend([(rate, "k")])).allowed
    assert (await limiter.spend([(rate, "k")])).allowed
    refused = await limiter.spend([(rate, "k")])
    assert not refused.allowed and refused.retry_after == 1
    await asyncio.sleep(0.55)
    assert (await limiter.spend([(rate, "k")])).allowed


async def test_a_fresh_budget_of_one_is_never_refused_by_rounding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At this moment of the clock, milliseconds in floats made the first hit of a
    "1/minute" budget come out 1e-7 ms over its period: refused."""
    seconds = 4173.975771503234
    monkeypatch.setattr("time.monotonic", lambda: seconds)
    monkeypatch.setattr("time.monotonic_ns", lambda: int(seconds * 1e9))
    limiter = RateLimiter(None)
    assert (await limiter.spend([(Rate.parse("1/minute"), "k")])).allowed
