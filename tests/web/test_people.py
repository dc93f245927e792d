"""An artist's page: their songs and public playlists, to anyone; 404 for a user who is
not there to see (unknown, banned)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import Harness
from tests.moderation.support import a_playlist, a_song, acted, staff
from tests.songs.support import artist
from tests.web.support import browser


async def test_an_artists_page_shows_their_songs_and_public_playlists(harness: Harness) -> None:
    jane = await artist(harness)
    await a_song(harness, jane, "First light")
    await a_song(harness, jane, "Second wind")
    await a_playlist(jane, "Open mix")
    await a_playlist(jane, "Secret mix", public=False)

    for who in (None, await artist(harness, "bobby")):
        response = await (await browser(harness, who)).get(f"/artists/{jane.id}")
        assert response.status_code == 200
        page = response.text
        assert "<h1>Jane Doe</h1>" in page and "@janedoe" in page
        songs = page.split('aria-label="Songs by Jane Doe"')[1].split("</ol>")[0]
        assert songs.index("Second wind") < songs.index("First light")  # newest first
        assert 'aria-label="Play First light"' in songs
        assert "Open mix" in page and "Secret mix" not in page
    # Her own page shows her private playlist too, as the API's profile does.
    assert "Secret mix" in (await (await browser(harness, jane)).get(f"/artists/{jane.id}")).text


async def test_an_unknown_or_banned_artist_is_not_found(harness: Harness) -> None:
    mallory = await artist(harness, "mallory")
    await a_song(harness, mallory, "Spam song")
    mod = await staff(harness, "modmolly", "moderator")
    client = await browser(harness)
    assert (await client.get(f"/artists/{mallory.id}")).status_code == 200

    await acted(mod, f"/users/{mallory.id}/ban", {"reason": "Spam"})
    banned = await client.get(f"/artists/{mallory.id}")
    assert banned.status_code == 404 and "Spam song" not in banned.text
    unknown = await client.get("/artists/0190a0a0-0000-7000-8000-000000000000")
    assert unknown.status_code == 404 and "User not found." in unknown.text
    assert (await client.get("/artists/nobody")).status_code in (400, 404, 422)


async def test_a_visitor_plays_an_artists_songs(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    await a_song(harness, jane, "First light")
    await page.goto(f"/artists/{jane.id}")
    await expect(page.get_by_role("heading", name="Jane Doe", level=1)).to_be_visible()
    songs = page.get_by_role("list", name="Songs by Jane Doe")
    await songs.get_by_role("button", name="Play First light").click()
    player = page.get_by_role("region", name="Player")
    await expect(player).to_have_attribute("data-state", "playing")
    await expect(player.locator(".now-title")).to_have_text("First light")
