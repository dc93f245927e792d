"""The account page: each form over HTTP (CSRF, bad input with the service's words, only
the caller's own account), then two-factor set-up in Chromium with pyotp as the app."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pyotp
from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, Harness, bearer
from tests.images import png_bytes
from tests.songs.support import artist
from tests.web.conftest import sign_in
from tests.web.support import browser as browser_client
from tests.web.support import csrf, post, totp

ME = "/api/v1/users/current-user"


async def signed_in(harness: Harness, username: str = "janedoe") -> tuple[httpx.AsyncClient, str]:
    """A client with ``username``'s login cookie, and the account page's CSRF token."""
    user = await harness.sign_up(email_address=f"{username}@example.com", username=username)
    client = harness.client()
    client.cookies.set("accessToken", (await harness.tokens(user))["accessToken"])
    return client, await csrf(client, "/account")


async def me(client: httpx.AsyncClient) -> dict[str, Any]:
    data: dict[str, Any] = (await client.get(ME)).json()["data"]
    return data


async def test_the_page_shows_only_the_caller_s_own_account(harness: Harness) -> None:
    jane, _ = await signed_in(harness, "janedoe")
    bob, bob_token = await signed_in(harness, "bob")
    page = (await jane.get("/account")).text
    assert "janedoe@example.com" in page and "bob" not in page
    # No form takes a user's id: whatever bob sends changes bob's account.
    changed = await bob.post(
        "/account/profile", data={"csrf_token": bob_token, "fullname": "Bob B", "username": "bobby"}
    )
    assert changed.status_code == 303
    assert (await me(jane))["username"] == "janedoe"
    assert (await me(bob))["username"] == "bobby"


async def test_profile_changes_only_name_and_username(harness: Harness) -> None:
    client, token = await signed_in(harness)
    form = {"csrf_token": token, "fullname": "Jane Q. Doe", "username": "jane.q"}
    extra = {"email": "evil@example.com", "role": "admin"}
    saved = await client.post("/account/profile", data={**form, **extra})
    assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=profile"
    page = await client.get(saved.headers["location"])
    assert "Your profile is saved." in page.text and "@jane.q" in page.text
    mine = await me(client)
    assert (mine["fullname"], mine["username"]) == ("Jane Q. Doe", "jane.q")
    assert (mine["email"], mine["role"]) == ("janedoe@example.com", "user")
    assert not await harness.messages()


async def test_profile_refusals_keep_what_was_typed(harness: Harness) -> None:
    client, token = await signed_in(harness)
    await harness.sign_up(email_address="bob@example.com", username="bob")
    bad = await client.post(
        "/account/profile", data={"csrf_token": token, "fullname": "Jane", "username": "no spaces"}
    )
    assert bad.status_code == 400 and "Username must be 3–30 letters" in bad.text
    assert 'value="no spaces"' in bad.text and 'id="profile-username-error"' in bad.text
    taken = await client.post(
        "/account/profile",
        data={"csrf_token": token, "fullname": "Jane Changed", "username": "Bob"},
    )
    assert taken.status_code == 409 and "This username is already taken." in taken.text
    # Refused as a whole: the name did not change either.
    assert (await me(client))["fullname"] == "Jane Doe"


async def test_every_form_refuses_a_post_without_the_csrf_token(harness: Harness) -> None:
    client, _ = await signed_in(harness)
    for action in (
        "/account/profile",
        "/account/avatar",
        "/account/password",
        "/account/email",
        "/account/email/confirm",
        "/account/2fa/setup",
        "/account/2fa/enable",
        "/account/2fa/disable",
    ):
        refused = await client.post(action, data={"fullname": "Mallory", "username": "mallory"})
        assert refused.status_code == 403, action
    assert (await me(client))["username"] == "janedoe"


async def test_change_the_avatar(harness: Harness) -> None:
    client, token = await signed_in(harness)
    before = (await me(client))["avatar"]
    none = await client.post("/account/avatar", data={"csrf_token": token})
    assert none.status_code == 400 and "Choose a picture" in none.text
    junk = await client.post(
        "/account/avatar",
        data={"csrf_token": token},
        files={"avatar": ("me.png", b"not a picture", "image/png")},
    )
    assert junk.status_code == 415
    changed = await client.post(
        "/account/avatar",
        data={"csrf_token": token},
        files={"avatar": ("me.png", png_bytes((40, 40)), "image/png")},
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/account?saved=avatar"
    after = (await me(client))["avatar"]
    assert after != before and (await client.get(after)).status_code == 200


async def test_change_the_password(harness: Harness) -> None:
    client, token = await signed_in(harness)
    elsewhere = bearer((await harness.tokens(await me(client)))["accessToken"])
    form = {
        "csrf_token": token,
        "oldPassword": "wrong-password",
        "newPassword": "a-new-long-passphrase",
    }
    wrong = await client.post(
        "/account/password", data={**form, "confirmPassword": "a-new-long-passphrase"}
    )
    assert wrong.status_code == 400 and "The old password is not correct." in wrong.text
    form["oldPassword"] = PASSWORD
    unlike = await client.post(
        "/account/password", data={**form, "confirmPassword": "something-else"}
    )
    assert unlike.status_code == 400 and "Must be the same as newPassword." in unlike.text
    done = await client.post(
        "/account/password", data={**form, "confirmPassword": form["newPassword"]}
    )
    assert done.status_code == 303 and done.headers["location"] == "/account?saved=password"
    # This login goes on; every other one has ended.
    assert (await client.get(ME)).status_code == 200
    assert (await harness.client().get(ME, headers=elsewhere)).status_code == 401


async def test_change_the_email_with_the_code_sent_to_it(harness: Harness) -> None:
    client, token = await signed_in(harness)
    no_password = await client.post(
        "/account/email", data={"csrf_token": token, "email": "new@example.com"}
    )
    assert no_password.status_code == 400
    assert "Changing your email needs your current password." in no_password.text
    asked = await client.post(
        "/account/email",
        data={"csrf_token": token, "email": "new@example.com", "currentPassword": PASSWORD},
    )
    assert asked.status_code == 200 and "We sent a code to" in asked.text
    assert "Code from the email" in asked.text
    code = await harness.last_code("new@example.com")
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(
        "/account/email/confirm",
        data={"csrf_token": token, "code": wrong, "pending": "new@example.com"},
    )
    assert refused.status_code == 400 and "The code is not correct." in refused.text
    assert "new@example.com" in refused.text  # the code form is still there
    assert (await me(client))["email"] == "janedoe@example.com"
    done = await client.post("/account/email/confirm", data={"csrf_token": token, "code": code})
    assert done.status_code == 303 and done.headers["location"] == "/account?saved=email"
    assert (await me(client))["email"] == "new@example.com"


async def test_two_factor_set_up_turn_on_and_off(harness: Harness) -> None:
    client, token = await signed_in(harness)
    wrong = await client.post("/account/2fa/setup", data={"csrf_token": token, "password": "nope"})
    assert wrong.status_code == 400 and "The password is not correct." in wrong.text

    setup = await client.post(
        "/account/2fa/setup", data={"csrf_token": token, "password": PASSWORD}
    )
    assert setup.status_code == 200 and setup.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', setup.text)
    uri = re.search(r'name="uri" value="([^"]+)"', setup.text)
    assert secret and uri and "<svg" in setup.text
    parsed = pyotp.parse_uri(uri.group(1).replace("&amp;", "&"))
    assert isinstance(parsed, pyotp.TOTP) and parsed.secret == secret.group(1)

    form = {
        "csrf_token": token,
        "secret": secret.group(1),
        "uri": uri.group(1).replace("&amp;", "&"),
    }
    bad = await client.post("/account/2fa/enable", data={**form, "code": "12"})
    assert bad.status_code == 400 and "<svg" in bad.text  # the QR code is still there
    on = await client.post("/account/2fa/enable", data={**form, "code": totp(secret.group(1))})
    assert on.status_code == 200 and on.headers["cache-control"] == "no-store"
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", on.text)
    assert len(set(codes)) == 10
    assert (await me(client))["twoFactor"] is True
    page = await client.get("/account")
    assert "Turn off two-factor login" in page.text and codes[0] not in page.text

    off = {"csrf_token": token, "password": PASSWORD}
    refused = await client.post("/account/2fa/disable", data={**off, "code": "zzzzz-zzzzz"})
    assert refused.status_code == 400 and "The code is not correct." in refused.text
    done = await client.post("/account/2fa/disable", data={**off, "code": codes[0]})
    assert done.status_code == 303 and done.headers["location"] == "/account?saved=2fa-off"
    assert (await me(client))["twoFactor"] is False


# In the browser


async def test_set_up_two_factor_in_the_browser(harness: Harness, page: Page) -> None:
    await sign_in(harness, page, await artist(harness))
    await page.goto("/account")
    section = page.get_by_role("region", name="Two-factor login")
    await section.get_by_label("Password").fill(PASSWORD)
    await section.get_by_role("button", name="Set up two-factor login").click()
    await expect(
        section.get_by_role("img", name="QR code of your two-factor secret")
    ).to_be_visible()
    secret = await section.locator("code.secret").inner_text()
    await section.get_by_label("Code from your app").fill(totp(secret))
    await section.get_by_role("button", name="Turn on two-factor login").click()
    codes = section.get_by_role("list", name="Recovery codes")
    await expect(codes.get_by_role("listitem")).to_have_count(10)
    # Still the same page and player: the forms were sent by htmx.
    await expect(page).to_have_title("Your account · Bandstand")


async def test_a_refused_change_is_shown_beside_its_form(harness: Harness, phone: Page) -> None:
    await sign_in(harness, phone, await artist(harness))
    await phone.goto("/account")
    section = phone.get_by_role("region", name="Password")
    await section.get_by_label("Current password").fill("not-my-password")
    await section.get_by_label("New password", exact=True).fill("a-new-long-passphrase")
    await section.get_by_label("Confirm new password").fill("a-new-long-passphrase")
    await section.get_by_role("button", name="Change password").click()
    await expect(section.get_by_role("alert")).to_have_text("The old password is not correct.")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


async def test_a_login_elsewhere_is_listed_and_signed_out(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    elsewhere = bearer((await harness.tokens(jane.user))["accessToken"])
    await sign_in(harness, page, jane)
    await page.goto("/account")
    logins = page.get_by_role("list", name="Your logins")
    await expect(logins.get_by_role("listitem")).to_have_count(3)  # the artist's own, two more
    await expect(logins.get_by_text("(this one)")).to_have_count(1)
    current = "/api/v1/users/current-user"
    assert (await jane.client.get(current, headers=elsewhere)).status_code == 200
    ends = logins.get_by_role("button", name=re.compile("Sign out the login of"))
    for _ in range(2):
        await ends.first.click()
        await expect(page.get_by_text("That login has ended.")).to_be_visible()
    await expect(logins.get_by_role("listitem")).to_have_count(1)
    assert (await jane.client.get(current, headers=elsewhere)).status_code == 401
    # Someone else's login is not theirs to end.
    bob = await artist(harness, "bob")
    [bobs] = (await bob.client.get("/api/v1/users/sessions", headers=bob.auth)).json()["data"]
    client = await browser_client(harness, jane)
    refused = await post(client, f"/account/logins/{bobs['_id']}/end")
    assert refused.status_code == 404
    assert (await bob.client.get(current, headers=bob.auth)).status_code == 200
