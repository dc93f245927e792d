"""Signing up, in and out through the pages: over HTTP (CSRF, bad input, redirects, the
login ended on the server), then in Chromium (the emailed code, two-factor login with
pyotp as the authenticator, the keyboard alone, a phone)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, Harness, bearer
from tests.web.support import csrf, totp

ME = "/api/v1/users/current-user"
TWO_FA = "/api/v1/users/2fa"


async def sign_in(client: httpx.AsyncClient, login: str = "janedoe", **form: str) -> httpx.Response:
    """Post the sign-in form, as a browser does (``conftest.sign_in`` instead gives a tab
    the cookies it leaves)."""
    token = await csrf(client)
    data = {"csrf_token": token, "login": login, "password": PASSWORD, **form}
    return await client.post("/signin", data=data)


async def two_factor_on(harness: Harness, user: dict[str, Any]) -> tuple[str, list[str]]:
    """Turn two-factor login on for ``user`` through the API: the authenticator's secret,
    and the recovery codes."""
    auth = bearer((await harness.tokens(user))["accessToken"])
    client = harness.client()
    setup = await client.post(f"{TWO_FA}/setup", json={"password": PASSWORD}, headers=auth)
    secret: str = setup.json()["data"]["secret"]
    enabled = await client.post(f"{TWO_FA}/enable", json={"code": totp(secret)}, headers=auth)
    assert enabled.status_code == 200, enabled.text
    return secret, enabled.json()["data"]["recoveryCodes"]


# Over HTTP


async def test_sign_up_with_the_emailed_code_signs_in_with_a_made_avatar(
    harness: Harness,
) -> None:
    client = harness.client()
    token = await csrf(client, "/signup")
    form = {"email": "Jane@Example.com", "username": "janedoe", "fullname": "Jane Doe"}
    # No picture chosen: the browser sends an empty file part.
    started = await client.post(
        "/signup",
        data={**form, "password": PASSWORD, "csrf_token": token},
        files={"avatar": ("", b"", "application/octet-stream")},
    )
    assert started.status_code == 303 and started.headers["location"] == "/signup/code"
    code_page = await client.get("/signup/code")
    assert "Code from the email" in code_page.text

    code = await harness.last_code("jane@example.com")
    done = await client.post("/signup/code", data={"otp": code, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/"
    # Signed in as the JSON login signs in: both tokens, the refresh one on its own path.
    assert {"accessToken", "refreshToken"} <= set(client.cookies.keys())
    assert 'data-signed-in="yes"' in (await client.get("/")).text
    me = (await client.get(ME)).json()["data"]
    assert me["username"] == "janedoe" and me["email"] == "jane@example.com"
    avatar = await client.get(me["avatar"])
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/webp"


async def test_sign_up_refuses_bad_input_with_the_schema_s_words(harness: Harness) -> None:
    client = harness.client()
    token = await csrf(client, "/signup")
    form = {"email": "not-an-email", "username": "x", "fullname": "Jane", "password": PASSWORD}
    refused = await client.post("/signup", data={**form, "csrf_token": token})
    assert refused.status_code == 400
    assert "Username must be 3–30 letters" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'value="Jane"' in refused.text  # what was typed stays
    assert not await harness.messages()

    await harness.sign_up()  # janedoe exists
    taken = {**form, "email": "other@example.com", "username": "JaneDoe"}
    conflict = await client.post("/signup", data={**taken, "csrf_token": token})
    assert conflict.status_code == 409 and "This username is already taken." in conflict.text


async def test_the_code_step_says_when_the_code_expired_and_when_the_budget_ran_out(
    harness: Harness,
) -> None:
    client = harness.client()
    token = await csrf(client, "/signup")
    form = {"email": "jane@example.com", "username": "janedoe", "fullname": "Jane Doe"}
    await client.post("/signup", data={**form, "password": PASSWORD, "csrf_token": token})
    wrong = await client.post("/signup/code", data={"otp": "12345", "csrf_token": token})
    assert wrong.status_code == 400 and "String should match pattern" in wrong.text

    await harness.sql("UPDATE pending_signups SET otp_expires_at = '2000-01-01 00:00:00'")
    code = await harness.last_code()
    expired = await client.post("/signup/code", data={"otp": code, "csrf_token": token})
    assert expired.status_code == 400 and "The code has expired" in expired.text

    # Two more codes fit the budget of one address from one client; the third does not.
    for _ in range(2):
        again = await client.post("/signup/code/resend", data={"csrf_token": token})
        assert again.status_code == 303 and again.headers["location"] == "/signup/code?sent=1"
    assert "We sent you a new code." in (await client.get("/signup/code?sent=1")).text
    spent = await client.post("/signup/code/resend", data={"csrf_token": token})
    assert spent.status_code == 429 and "Too many codes requested" in spent.text

    fresh = await harness.last_code()
    done = await client.post("/signup/code", data={"otp": fresh, "csrf_token": token})
    assert done.status_code == 303


async def test_forms_without_the_csrf_token_are_refused(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    await client.get("/signin")  # the token's cookie, but not the token
    data = {"login": "janedoe", "password": PASSWORD}
    assert (await client.post("/signin", data=data)).status_code == 403
    assert (await client.post("/signin", data={**data, "csrf_token": "x" * 40})).status_code == 403
    assert (await client.post("/signout")).status_code == 403
    assert (await client.post("/signup/code/resend")).status_code == 403
    assert "accessToken" not in client.cookies


async def test_sign_in_by_email_or_username_and_go_back_where_you_were(
    harness: Harness,
) -> None:
    await harness.sign_up()
    client = harness.client()
    page = await client.get("/signin?next=/library%3Ftab%3Dlikes")
    assert 'name="next" value="/library?tab=likes"' in page.text
    signed = await sign_in(client, "JANE@example.com", next="/library?tab=likes")
    assert signed.status_code == 303 and signed.headers["location"] == "/library?tab=likes"
    assert (await client.get(ME)).status_code == 200
    # Signed in already: the page sends you on.
    again = await client.get("/signin?next=/account")
    assert again.status_code == 303 and again.headers["location"] == "/account"


async def test_next_never_leads_off_the_site(harness: Harness) -> None:
    await harness.sign_up()
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil",
    ):
        client = harness.client()
        page = await client.get("/signin", params={"next": target})
        assert 'name="next" value="/"' in page.text, target
        signed = await sign_in(client, next=target)
        assert signed.headers["location"] == "/", target
    # A path of this site stays one, whatever it is made of: no header is split.
    signed = await sign_in(harness.client(), next="/%0d%0aSet-Cookie:x=1")
    assert signed.headers["location"] == "/%0d%0aSet-Cookie:x=1"


async def test_a_wrong_password_is_refused_with_the_login_s_words(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    refused = await sign_in(client, password="not-my-password")
    assert refused.status_code == 401 and "Invalid credentials." in refused.text
    assert 'value="janedoe"' in refused.text and "not-my-password" not in refused.text
    empty = await sign_in(client, login="", password="")
    assert empty.status_code == 400 and 'id="signin-login-error"' in empty.text
    assert "accessToken" not in client.cookies


async def test_two_factor_asks_for_the_code_then_signs_in(harness: Harness) -> None:
    jane = await harness.sign_up()
    secret, recovery = await two_factor_on(harness, jane)
    client = harness.client()
    step = await sign_in(client)
    assert step.status_code == 200 and "Authentication code" in step.text
    assert step.headers["cache-control"] == "no-store"  # it carries the password on
    assert "accessToken" not in client.cookies

    token = await csrf(client)
    form = {"csrf_token": token, "login": "janedoe", "password": PASSWORD, "next": "/"}
    wrong = await client.post("/signin", data={**form, "totp": "000000"})
    if totp(secret) != "000000":
        assert wrong.status_code == 401 and "The two-factor code is not correct." in wrong.text
    right = await client.post("/signin", data={**form, "totp": totp(secret, 1)})
    assert right.status_code == 303, right.text
    assert (await client.get(ME)).json()["data"]["twoFactor"] is True
    # Without the phone: a recovery code, once.
    other = harness.client()
    token = await csrf(other)
    recovered = await other.post("/signin", data={**form, "csrf_token": token, "totp": recovery[0]})
    assert recovered.status_code == 303
    again = await other.post("/signin", data={**form, "csrf_token": token, "totp": recovery[0]})
    assert again.status_code == 401


async def test_sign_out_ends_the_login_on_the_server(harness: Harness) -> None:
    await harness.sign_up()
    client = harness.client()
    await sign_in(client)
    access = client.cookies["accessToken"]
    token = await csrf(client, "/")
    out = await client.post("/signout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "accessToken" not in client.cookies and "refreshToken" not in client.cookies
    # The old token, kept by someone, no longer works: the login itself ended.
    assert (await harness.client().get(ME, headers=bearer(access))).status_code == 401


async def test_a_page_that_needs_a_login_sends_you_to_sign_in_and_back(
    harness: Harness,
) -> None:
    client = harness.client()
    page = await client.get("/account?x=1", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/account%3Fx%3D1"
    # An htmx request is told 401: the page's script refreshes the login and tries again.
    partial = await client.get("/account", headers={"hx-request": "true"})
    assert partial.status_code == 401


# In the browser


async def test_sign_up_in_the_browser_with_the_emailed_code(harness: Harness, page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Sign up").click()
    await page.get_by_label("Email").fill("jane@example.com")
    await page.get_by_label("Username").fill("janedoe")
    await page.get_by_label("Full name").fill("Jane Doe")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()

    await page.get_by_label("Code from the email").fill(await harness.last_code())
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("link", name="janedoe")).to_be_visible()
    await expect(page.locator("body")).to_have_attribute("data-signed-in", "yes")


async def test_two_factor_sign_in_in_the_browser(harness: Harness, page: Page) -> None:
    jane = await harness.sign_up()
    secret, _ = await two_factor_on(harness, jane)
    await page.goto("/signin")
    await page.get_by_label("Email or username").fill("jane@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Authentication code").fill(totp(secret, 1))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("link", name="janedoe")).to_be_visible()


async def test_sign_in_and_out_with_the_keyboard_alone(harness: Harness, page: Page) -> None:
    await harness.sign_up()
    await page.goto("/")
    # Tab to "Sign in" and follow it; the form then has the focus where typing starts.
    sign_in_link = page.get_by_role("link", name="Sign in")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await sign_in_link.evaluate("el => el === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Email or username")).to_be_focused()
    await page.keyboard.type("janedoe")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="janedoe")).to_be_visible()

    sign_out = page.get_by_role("button", name="Sign out")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await sign_out.evaluate("el => el === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()


async def test_sign_in_at_phone_width(harness: Harness, phone: Page) -> None:
    await harness.sign_up()
    await phone.goto("/account")
    await expect(phone).to_have_url(re.compile(r"/signin\?next=/account$"))
    field = phone.get_by_label("Email or username")
    box = await field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    await field.fill("janedoe")
    await phone.get_by_label("Password").fill(PASSWORD)
    await phone.get_by_role("button", name="Sign in").click()
    await expect(phone.get_by_role("heading", name="Your account")).to_be_visible()
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


# session.js: the login kept alive


async def _signed_in_browser(harness: Harness, page: Page) -> None:
    """Signed in through the form, and past the refresh the first page makes (its
    token's age unknown), so the test starts from a settled login."""
    await harness.sign_up()
    await page.goto("/signin")
    await page.get_by_label("Email or username").fill("janedoe")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await _until(page, "() => localStorage.getItem('bandstand.refreshedAt') !== null")


async def _until(page: Page, check: str) -> None:
    """Wait for ``check`` to be true in the page (polled here: the page's CSP allows no
    eval, which ``wait_for_function`` needs)."""
    for _ in range(100):
        if await page.evaluate(check):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(check)


async def _cookie(page: Page, name: str) -> str | None:
    found = [c["value"] for c in await page.context.cookies() if c["name"] == name]
    return found[0] if found else None


async def test_the_login_is_refreshed_before_the_access_token_runs_out(
    harness: Harness, page: Page
) -> None:
    await page.clock.install()
    await _signed_in_browser(harness, page)
    before = await _cookie(page, "refreshToken")
    await page.clock.fast_forward("14:00")
    await _until(
        page, "() => Date.now() - Number(localStorage.getItem('bandstand.refreshedAt')) < 60000"
    )
    assert await _cookie(page, "refreshToken") not in (None, before)


async def test_a_page_answered_401_is_fetched_again_after_a_refresh(
    harness: Harness, page: Page
) -> None:
    await _signed_in_browser(harness, page)
    await page.context.clear_cookies(name="accessToken")  # it ran out
    await page.get_by_role("link", name="janedoe").click()
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/account$"))
    assert await _cookie(page, "accessToken")


async def test_a_login_that_ended_sends_you_to_sign_in(harness: Harness, page: Page) -> None:
    await _signed_in_browser(harness, page)
    await page.context.clear_cookies(name="accessToken")
    await page.context.clear_cookies(name="refreshToken")
    await page.get_by_role("link", name="janedoe").click()
    await expect(page).to_have_url(re.compile(r"/signin\?next=%2Faccount$"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_coming_back_with_only_the_refresh_cookie_signs_in_again(
    harness: Harness, page: Page
) -> None:
    await _signed_in_browser(harness, page)
    await page.context.clear_cookies(name="accessToken")
    await page.goto("/")
    await expect(page.locator("body")).to_have_attribute("data-signed-in", "yes")
    await expect(page.get_by_role("link", name="janedoe")).to_be_visible()
