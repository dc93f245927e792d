"""Browser tests: Debian's Chromium driven by Playwright, against the test's app served
on a real port. Skipped, saying so, where Chromium is not installed; failed under
CI=true (`.ci/run` installs it).

The app's ``public_url`` names the port it is served on (answers carry absolute media
links, and the pages' Content-Security-Policy allows only the site itself). The port is
chosen once per test process, so every web test shares one app (``make_harness``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from bandstand.accounts.cookies import ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_PATH
from tests import live, services
from tests.conftest import Harness
from tests.songs.support import Artist

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# CI runs two test processes on two cores, a browser and a server each: an assertion
# waits up to this long for the page to come round (a pass takes far less).
expect.set_options(timeout=15_000)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def web_port() -> int:
    return live.free_port()


@pytest.fixture
async def harness(make_harness: Callable[..., Any], web_port: int) -> Harness:
    made: Harness = await make_harness(public_url=f"http://127.0.0.1:{web_port}")
    return made


@pytest.fixture
async def site(harness: Harness, web_port: int) -> AsyncIterator[str]:
    """The base URL of the test's app, served on its port."""
    async with live.served(harness, web_port) as where:
        yield f"http://{where}"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        services.missing("Chromium", "apt-get install chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        await launched.close()


async def _context(browser: Browser, site: str, viewport: dict[str, int]) -> BrowserContext:
    context = await browser.new_context(base_url=site, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
async def page(browser: Browser, site: str) -> AsyncIterator[Page]:
    """A fresh browser tab (its own cookies) at desktop width."""
    context = await _context(browser, site, DESKTOP)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def phone(browser: Browser, site: str) -> AsyncIterator[Page]:
    """A fresh browser tab at phone width."""
    context = await _context(browser, site, PHONE)
    yield await context.new_page()
    await context.close()


async def sign_in(harness: Harness, page: Page, who: Artist) -> None:
    """Give the tab ``who``'s login cookies, as signing in would (the pages' own sign-in
    has tests of its own): the access token and the refresh token the page's script
    renews it with."""
    tokens = await harness.tokens(who.user)
    url = harness.settings.public_url
    await page.context.add_cookies(
        [
            {"name": ACCESS_COOKIE, "value": tokens["accessToken"], "url": url},
            {
                "name": REFRESH_COOKIE,
                "value": tokens["refreshToken"],
                "url": f"{url.rstrip('/')}{REFRESH_PATH}",
            },
        ]
    )
