"""The account page's music apps section, over HTTP as a browser: make an app password
(shown once, with what to type into the app), see the list without secrets, revoke one;
every form needs the CSRF token, and no one reaches another user's."""

from __future__ import annotations

import re

from tests.conftest import Harness
from tests.songs.support import artist
from tests.subsonic.support import APP_PASSWORDS, error_of, json
from tests.web.support import browser, post

SECRET = re.compile(r'<code class="secret">([A-Za-z0-9_-]{24})</code>')


async def test_make_list_and_revoke(harness: Harness) -> None:
    jane = await artist(harness)
    page = await browser(harness, jane)
    shown = await page.get("/account")
    assert shown.status_code == 200
    assert "Music apps" in shown.text and 'hx-get="/account/app-passwords"' in shown.text
    assert "No app passwords yet." in (await page.get("/account/app-passwords")).text

    made = await post(page, "/account/app-passwords", name="Symfonium on my phone")
    assert made.status_code == 200, made.text[:500]
    assert made.headers["cache-control"] == "no-store"
    found = SECRET.search(made.text)
    assert found, made.text
    secret = found.group(1)
    assert f"<code>{harness.settings.public_url}</code>" in made.text
    assert "<code>janedoe</code>" in made.text
    assert (await json(harness.client(), "ping", u="janedoe", p=secret))["status"] == "ok"

    listed = await page.get("/account/app-passwords")
    assert "Symfonium on my phone" in listed.text and secret not in listed.text
    assert secret not in (await page.get("/account")).text
    (key,) = (await jane.client.get(APP_PASSWORDS, headers=jane.auth)).json()["data"]
    assert f"/account/app-passwords/{key['_id']}/revoke" in listed.text

    revoked = await post(page, f"/account/app-passwords/{key['_id']}/revoke")
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/account?saved=app-password"
    assert "No app passwords yet." in (await page.get("/account/app-passwords")).text
    assert error_of(await json(harness.client(), "ping", u="janedoe", p=secret))[0] == 40


async def test_a_refused_name_is_shown_with_why(harness: Harness) -> None:
    jane = await artist(harness)
    page = await browser(harness, jane)
    refused = await post(page, "/account/app-passwords", name="   ")
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text and "app-password-name" in refused.text
    assert SECRET.search(refused.text) is None


async def test_csrf_and_only_ones_own(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bob")
    made = await bob.client.post(APP_PASSWORDS, json={"name": "Bob's"}, headers=bob.auth)
    bobs = made.json()["data"]
    page = await browser(harness, jane)
    without = await page.post("/account/app-passwords", data={"name": "No token"})
    assert without.status_code == 403
    revoke = f"/account/app-passwords/{bobs['_id']}/revoke"
    assert (await page.post(revoke, data={})).status_code == 403
    assert (await post(page, revoke)).status_code == 404
    assert (await post(page, "/account/app-passwords/not-an-id/revoke")).status_code in (400, 404)
    assert (await json(harness.client(), "ping", u="bob", p=bobs["secret"]))["status"] == "ok"
    assert (await jane.client.get(APP_PASSWORDS, headers=jane.auth)).json()["data"] == []
    # Signed out, the section's list is not there to fetch.
    stranger = await browser(harness)
    assert (await stranger.get("/account/app-passwords")).status_code in (303, 401)
