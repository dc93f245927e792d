"""Screenshots of the web app's main pages, at desktop and phone width, for the README:
`make screenshots` writes them to docs/screenshots/. Not part of the suite (the name does
not start with test_); it uses the suite's fixtures for a populated instance."""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, expect

from tests.audio import tone
from tests.conftest import Harness
from tests.moderation.support import a_comment, reported, staff
from tests.songs.support import Artist, artist, uploaded
from tests.web.conftest import DESKTOP, PHONE, sign_in

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SONGS = (
    ("Harbour lights", "Ambient", (31, 79, 209)),
    ("Paper boats", "Folk", (209, 96, 31)),
    ("Night bus", "Electronic", (20, 120, 90)),
    ("Saltwater", "Indie", (150, 40, 130)),
    ("Kettle song", "Jazz", (200, 160, 30)),
    ("Low tide", "Ambient", (60, 60, 70)),
)


def cover(rgb: tuple[int, int, int]) -> bytes:
    """A cover: concentric rings in one colour."""
    image = Image.new("RGB", (640, 640), rgb)
    draw = ImageDraw.Draw(image)
    for ring in range(8, 0, -1):
        shade = tuple(min(255, int(c + (255 - c) * ring / 10)) for c in rgb)
        radius = 40 * ring
        draw.ellipse((320 - radius, 320 - radius, 320 + radius, 320 + radius), fill=shade)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def shoot(page: Page, name: str, path: str) -> None:
    await page.goto(path)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=OUT / f"{name}.jpeg", type="jpeg", quality=70, full_page=False)


async def populated(harness: Harness) -> tuple[Artist, Artist, Artist, list[dict[str, str]]]:
    jane = await artist(harness, "janedoe")
    ann = await artist(harness, "ann")
    mod = await staff(harness, "modmolly", "moderator")
    songs = []
    for n, (title, genre, rgb) in enumerate(SONGS):
        audio = tone("mp3", 30.0, frequency=220 * math.pow(2, n / 5))
        songs.append(await uploaded(jane, audio, title=title, Genre=genre, thumbnail=cover(rgb)))
    await harness.settle()
    first = songs[0]["_id"]
    for text in ("Lovely opening", "This is on repeat all week", "The bass line!"):
        await a_comment(ann, first, text)
    await reported(ann, "song", songs[3]["_id"])
    return jane, ann, mod, songs


async def test_screenshots(harness: Harness, browser: Browser, site: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    jane, ann, mod, songs = await populated(harness)
    first = songs[0]["_id"]
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = await browser.new_context(base_url=site, viewport=size)  # type: ignore[arg-type]
        page = await context.new_page()
        await shoot(page, f"signin-{suffix}", "/signin")
        await sign_in(harness, page, ann)
        await page.goto("/")
        await page.get_by_role("button", name=f"Play {SONGS[0][0]}").click()
        await expect(page.get_by_role("region", name="Player")).to_have_attribute(
            "data-state", "playing"
        )
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=OUT / f"home-{suffix}.jpeg", type="jpeg", quality=70)
        await shoot(page, f"song-{suffix}", f"/songs/{first}")
        await shoot(page, f"search-{suffix}", "/search?q=harbor")
        await shoot(page, f"artist-{suffix}", f"/artists/{jane.id}")
        await shoot(page, f"library-{suffix}", "/library")
        await context.close()

        context = await browser.new_context(base_url=site, viewport=size)  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(harness, page, jane)
        await shoot(page, f"upload-{suffix}", "/upload")
        await shoot(page, f"dashboard-{suffix}", f"/studio/songs/{first}")
        await context.close()

        context = await browser.new_context(base_url=site, viewport=size)  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(harness, page, mod)
        await shoot(page, f"moderation-{suffix}", "/moderation")
        await context.close()
