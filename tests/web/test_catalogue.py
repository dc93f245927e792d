"""The pages anyone may open: the newest songs and search, in a browser."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import artist, uploaded


async def test_the_home_page_lists_the_newest_songs_to_anyone(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    await uploaded(jane, tone("mp3", 0.5), title="First light")
    await harness.settle()
    await page.goto("/")
    await expect(page).to_have_title("New music · Bandstand")
    songs = page.get_by_role("list", name="Newest songs")
    await expect(songs.get_by_role("link", name="First light")).to_be_visible()
    await expect(page.get_by_role("button", name="Play First light")).to_be_visible()


async def test_search_finds_as_you_type(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    await uploaded(jane, tone("mp3", 0.5), title="First light")
    await harness.settle()
    await page.goto("/")
    await page.get_by_role("searchbox", name="Search songs, people and playlists").fill("frist")
    found = page.get_by_role("list", name="Songs found")
    await expect(found.get_by_role("link", name="First light")).to_be_visible()
    await expect(page).to_have_url("/search?q=frist")
