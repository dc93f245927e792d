"""The whole journey in Chromium, as people take it: an artist signs up with the emailed
code and uploads a song, watching its progress and its status turn ready; a listener plays
it, seeks, browses three other pages while it plays on, comments at a moment and sees the
mark on the waveform, likes it, adds it to a playlist and finds it in their history; the
artist's chart shows the play; a moderator takes the song down after the listener's
report, and the listener can no longer open it. Then the keyboard alone, and a phone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.audio import tone
from tests.conftest import PASSWORD, Harness
from tests.images import png_bytes
from tests.moderation.support import staff
from tests.songs.support import artist, uploaded
from tests.web.conftest import DESKTOP, PHONE, sign_in

CURRENT_TIME = "document.getElementById('player-audio').currentTime"
TITLE = "Harbour lights"
# Every value the upload's progress bar shows, kept on the window (htmx navigation keeps it).
RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("upload-progress");
  new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
    .observe(bar, {attributes: true, attributeFilter: ["value"]});
}"""


@pytest.fixture
async def tabs(browser: Browser, site: str) -> AsyncIterator[list[BrowserContext]]:
    """Browser profiles of their own (each its own cookies), made on demand."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        await context.close()


async def tab(
    tabs: list[BrowserContext], browser: Browser, site: str, size: dict[str, int]
) -> Page:
    context = await browser.new_context(base_url=site, viewport=size)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    tabs.append(context)
    return await context.new_page()


async def advancing(page: Page) -> float:
    """The audio's position, after seeing it move on."""
    before = float(await page.evaluate(CURRENT_TIME))
    await page.wait_for_function(f"after => {CURRENT_TIME} > after", arg=before + 0.2)
    return float(await page.evaluate(CURRENT_TIME))


async def seek(page: Page, seconds: float) -> None:
    await page.get_by_label("Seek").evaluate(
        "(range, to) => { range.value = to;"
        " range.dispatchEvent(new Event('input', {bubbles: true})); }",
        seconds,
    )


async def still_playing(page: Page, song_id: str) -> None:
    player = page.get_by_role("region", name="Player")
    await expect(player).to_have_attribute("data-song", song_id)
    await expect(player).to_have_attribute("data-state", "playing")
    await advancing(page)


async def test_the_journey(harness: Harness, browser: Browser, site: str, tabs: list) -> None:
    # The artist signs up with the emailed code.
    jane = await tab(tabs, browser, site, DESKTOP)
    await jane.goto("/")
    await jane.get_by_role("link", name="Sign up").click()
    await jane.get_by_label("Email").fill("jane@example.com")
    await jane.get_by_label("Username").fill("janedoe")
    await jane.get_by_label("Full name").fill("Jane Doe")
    await jane.get_by_label("Password").fill(PASSWORD)
    await jane.get_by_role("button", name="Sign up").click()
    await expect(jane.get_by_role("heading", name="Confirm your email")).to_be_visible()
    await jane.get_by_label("Code from the email").fill(await harness.last_code())
    await jane.get_by_role("button", name="Confirm").click()
    await expect(jane.get_by_role("link", name="janedoe")).to_be_visible()

    # She uploads a song, with its progress, and its status turns ready by itself.
    await jane.get_by_role("link", name="Upload").click()
    await jane.get_by_label("Audio file").set_input_files(
        {"name": "harbour.mp3", "mimeType": "audio/mpeg", "buffer": tone("mp3", 20.0)}
    )
    await jane.get_by_label("Title").fill(TITLE)
    await jane.get_by_label("Cover image").set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    await jane.evaluate(RECORD_PROGRESS)
    await jane.get_by_role("button", name="Upload", exact=True).click()
    await expect(jane).to_have_url(re.compile(r"/studio/songs/[0-9a-f-]+$"))
    assert await jane.evaluate("Math.max(...window.progressSeen)") == 100
    song_id = jane.url.rsplit("/", 1)[1]
    await harness.settle()
    await expect(jane.get_by_role("status").filter(has_text="Ready.")).to_be_visible()

    # A listener plays it from the feed, seeks, and browses three pages as it plays on.
    listener = await artist(harness, "ann")
    ann = await tab(tabs, browser, site, DESKTOP)
    await sign_in(harness, ann, listener)
    await ann.goto("/")
    await ann.get_by_role("button", name=f"Play {TITLE}").click()
    await still_playing(ann, song_id)
    await seek(ann, 8)
    assert await advancing(ann) >= 8
    await ann.get_by_role("link", name="Library").click()
    await expect(ann.get_by_role("heading", name="Your library")).to_be_visible()
    await still_playing(ann, song_id)
    await ann.get_by_role("searchbox", name="Search songs, people and playlists").fill("harbour")
    await expect(
        ann.get_by_role("list", name="Songs found").get_by_role("link", name=TITLE)
    ).to_be_visible()
    await still_playing(ann, song_id)
    found = ann.get_by_role("list", name="Songs found")
    await found.get_by_role("link", name=re.compile("jane", re.I)).last.click()
    await expect(ann.get_by_role("heading", name=re.compile("Jane Doe"))).to_be_visible()
    await still_playing(ann, song_id)

    # On the song's page, a comment at this moment is a mark on the waveform.
    await ann.get_by_role("link", name=TITLE).first.click()
    await expect(ann).to_have_url(f"/songs/{song_id}")
    await still_playing(ann, song_id)
    await ann.get_by_label("Your comment").fill("The chorus here!")
    await ann.get_by_label(re.compile("At the current moment")).check()
    await ann.get_by_role("button", name="Comment", exact=True).click()
    marks = ann.get_by_role("list", name="Comments on the waveform")
    await expect(
        marks.get_by_role("button", name=re.compile(r"Comment by ann at 0:\d\d"))
    ).to_be_visible()
    await still_playing(ann, song_id)

    # She likes it, makes a playlist, adds it, and finds it in her history.
    await ann.get_by_role("button", name="♡ Like").click()
    await expect(ann.get_by_role("button", name="♥ Liked")).to_be_visible()
    await ann.goto("/playlists/new")
    await ann.get_by_label("Name").fill("Evening")
    await ann.get_by_role("button", name="Create playlist").click()
    await expect(ann.get_by_role("heading", name="Evening")).to_be_visible()
    await ann.goto(f"/songs/{song_id}")
    await ann.get_by_label("Add to playlist").select_option(label="Evening")
    await ann.get_by_role("button", name="Add", exact=True).click()
    await expect(ann.get_by_text(re.compile("Added to Evening|added", re.I))).to_be_visible()
    await ann.goto("/library")
    history = ann.get_by_role("list", name="Recently played")
    await expect(history.get_by_role("link", name=TITLE)).to_be_visible()

    # The artist's chart shows the play.
    await jane.goto(f"/studio/songs/{song_id}")
    chart = jane.get_by_role("figure", name=re.compile("Plays, likes and comments per day"))
    await expect(chart.locator("canvas")).to_be_visible()
    plays = jane.locator(".totals dt", has_text="Plays").locator("xpath=following-sibling::dd")
    await expect(plays).to_have_text("1")

    # The listener reports it; a moderator takes it down; she can no longer open it.
    await ann.goto(f"/songs/{song_id}")
    await ann.get_by_text("Report this song").click()
    await ann.get_by_label("Reason").select_option("copyright")
    await ann.get_by_role("button", name="Send report").click()
    await expect(ann.get_by_text("a moderator will look at this song")).to_be_visible()
    moderator = await staff(harness, "modmolly", "moderator")
    mod = await tab(tabs, browser, site, DESKTOP)
    await sign_in(harness, mod, moderator)
    await mod.goto("/")
    await mod.get_by_role("link", name="Moderation").click()
    await mod.get_by_role("link", name=f"“{TITLE}”").first.click()
    await mod.get_by_label(re.compile("Reason")).fill("Not the uploader's to share")
    await mod.get_by_role("button", name="Take the song down").click()
    await expect(mod.get_by_text("Song taken down.")).to_be_visible()
    await ann.goto(f"/songs/{song_id}")
    await expect(ann.get_by_role("heading", name="Not found")).to_be_visible()
    await ann.goto("/")
    await expect(ann.get_by_role("link", name=TITLE)).to_have_count(0)


async def test_sign_in_and_play_with_the_keyboard_alone(
    harness: Harness, browser: Browser, site: str, tabs: list
) -> None:
    jane = await artist(harness)
    await uploaded(jane, tone("mp3", 6.0), title=TITLE)
    await harness.settle()
    await artist(harness, "ann")
    page = await tab(tabs, browser, site, DESKTOP)
    await page.goto("/")

    async def tab_to(name: str) -> None:
        """Press Tab until the control called ``name`` has the focus."""
        for _ in range(60):
            await page.keyboard.press("Tab")
            focused = await page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.getAttribute('aria-label') || e.textContent.trim(); }"
            )
            if focused == name:
                return
        raise AssertionError(f"Tab never reached {name!r}")

    await tab_to("Sign in")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Email or username")).to_be_focused()
    await page.keyboard.type("ann")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="ann")).to_be_visible()
    await page.goto("/")
    await tab_to(f"Play {TITLE}")
    await page.keyboard.press("Enter")
    player = page.get_by_role("region", name="Player")
    await expect(player).to_have_attribute("data-state", "playing")
    await advancing(page)
    # The bar's own controls answer the keyboard too.
    await tab_to("Pause")
    await page.keyboard.press("Space")
    await expect(player).to_have_attribute("data-state", "paused")


async def test_a_phone_plays_from_the_feed(
    harness: Harness, browser: Browser, site: str, tabs: list
) -> None:
    jane = await artist(harness)
    song = await uploaded(jane, tone("mp3", 6.0), title=TITLE)
    await harness.settle()
    phone = await tab(tabs, browser, site, PHONE)
    await phone.goto("/")
    # Nothing wider than the screen.
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.get_by_role("button", name=f"Play {TITLE}").click()
    await still_playing(phone, song["_id"])
    await expect(phone.get_by_role("region", name="Player")).to_be_in_viewport()
