"""The player bar in a browser: play from a list, seek, next, volume, the play reported
once, and the song going on playing while the listener moves from page to page, and back."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import artist, uploaded
from tests.web.conftest import sign_in

AUDIO = tone("mp3", 6.0)
CURRENT_TIME = "document.getElementById('player-audio').currentTime"


async def advancing(page: Page) -> float:
    """The audio's position, after seeing it move on."""
    before = float(await page.evaluate(CURRENT_TIME))
    await page.wait_for_function(f"after => {CURRENT_TIME} > after", arg=before + 0.2)
    return float(await page.evaluate(CURRENT_TIME))


async def test_a_song_plays_on_across_pages(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    first = await uploaded(jane, AUDIO, title="First light")
    second = await uploaded(jane, AUDIO, title="Second wind")
    await harness.settle()
    ann = await artist(harness, "ann")
    await sign_in(harness, page, ann)
    await page.goto("/")
    player = page.get_by_role("region", name="Player")
    await page.get_by_role("button", name="Play First light").click()
    await expect(player).to_have_attribute("data-state", "playing")
    await expect(player).to_have_attribute("data-song", first["_id"])
    await expect(player.get_by_role("button", name="Pause")).to_be_visible()
    await expect(page.locator(f"[data-queue] [data-song='{first['_id']}']")).to_have_class(
        "song-card playing"
    )
    await advancing(page)

    # Seek with the range: the audio jumps there and plays on.
    await page.locator("#player-seek").evaluate(
        "range => { range.value = 4; range.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    assert await advancing(page) >= 4

    # Two other pages, through links: the same song still playing, still moving on.
    await page.get_by_role("link", name="Second wind").click()
    await expect(page).to_have_url(f"/songs/{second['_id']}")
    await expect(page.get_by_role("heading", name="Second wind")).to_be_visible()
    await page.locator("#player-seek").evaluate(
        "range => { range.value = 0.5; range.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    await advancing(page)
    await page.get_by_role("link", name="Home").click()
    await expect(page).to_have_url("/")
    await player.get_by_role("link", name="First light").click()  # the bar's own link
    await expect(page).to_have_url(f"/songs/{first['_id']}")
    await expect(player).to_have_attribute("data-song", first["_id"])
    await expect(player).to_have_attribute("data-state", "playing")
    await advancing(page)
    # This song's page shows it playing: its waveform follows the player's audio.
    await expect(page.locator(".song-hero .playing")).to_have_count(1)

    # The play was reported, once.
    history = await ann.client.get("/api/v1/users/watchHistory", headers=ann.auth)
    assert [entry["song"]["_id"] for entry in history.json()["data"]["docs"]] == [first["_id"]]
    shown = await ann.client.get(f"/api/v1/songs/{first['_id']}", headers=ann.auth)
    assert shown.json()["data"]["views"] == 1


async def test_back_keeps_the_song_playing_and_a_like_stays_after_a_reload(
    harness: Harness, page: Page
) -> None:
    jane = await artist(harness)
    first = await uploaded(jane, AUDIO, title="First light")
    await harness.settle()
    await sign_in(harness, page, await artist(harness, "ann"))
    await page.goto("/")
    player = page.get_by_role("region", name="Player")
    newest = page.get_by_role("list", name="Newest songs")
    await newest.get_by_role("button", name="Play First light").click()
    await expect(player).to_have_attribute("data-state", "playing")
    await newest.get_by_role("link", name="First light").click()
    await expect(page.get_by_role("heading", name="First light")).to_be_visible()
    before = await advancing(page)

    # Back: the page before comes back in <main>; the bar, outside it, plays on.
    await page.go_back()
    await expect(page).to_have_url("/")
    await expect(newest.get_by_role("link", name="First light")).to_be_visible()
    await expect(player).to_have_attribute("data-song", first["_id"])
    await expect(player).to_have_attribute("data-state", "playing")
    assert await advancing(page) > before

    await page.go_forward()
    await expect(page).to_have_url(f"/songs/{first['_id']}")
    await page.get_by_role("button", name="♡ Like").click()
    liked = page.get_by_role("button", name="♥ Liked")
    await expect(liked).to_have_attribute("aria-pressed", "true")
    await page.reload()
    await expect(liked).to_have_attribute("aria-pressed", "true")


async def test_next_previous_and_the_volume_kept(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    older = await uploaded(jane, AUDIO, title="Older")
    newer = await uploaded(jane, AUDIO, title="Newer")
    await harness.settle()
    await page.goto("/")
    player = page.get_by_role("region", name="Player")
    await page.get_by_role("button", name="Play Newer").click()
    await expect(player).to_have_attribute("data-song", newer["_id"])
    await player.get_by_role("button", name="Next song").click()
    await expect(player).to_have_attribute("data-song", older["_id"])
    await expect(player).to_have_attribute("data-state", "playing")
    await expect(player.get_by_role("button", name="Next song")).to_be_disabled()
    await player.get_by_role("button", name="Previous song").click()
    await expect(player).to_have_attribute("data-song", newer["_id"])
    await player.get_by_role("button", name="Pause").click()
    await expect(player).to_have_attribute("data-state", "paused")

    volume = player.get_by_label("Volume")
    await volume.evaluate(
        "range => { range.value = 0.3; range.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    await page.reload()
    await expect(page.get_by_label("Volume")).to_have_value("0.3")
    assert await page.evaluate("document.getElementById('player-audio').volume") == 0.3


# What the browser lacks, faked before the page's scripts run; and what then plays.
WITHOUT_NATIVE_HLS = """
const canPlayType = HTMLMediaElement.prototype.canPlayType;
HTMLMediaElement.prototype.canPlayType = function (type) {
  return type === "application/vnd.apple.mpegurl" ? "" : canPlayType.call(this, type);
};
"""
WITHOUT_MEDIA_SOURCE = (
    WITHOUT_NATIVE_HLS + "delete window.MediaSource; delete window.ManagedMediaSource;"
)


@pytest.mark.parametrize(
    ("lacking", "plays"),
    [(WITHOUT_NATIVE_HLS, "hls.js"), (WITHOUT_MEDIA_SOURCE, "the AAC file")],
)
async def test_without_native_hls(harness: Harness, page: Page, lacking: str, plays: str) -> None:
    jane = await artist(harness)
    await uploaded(jane, AUDIO, title="First light")
    await harness.settle()
    await page.add_init_script(lacking)
    await page.goto("/")
    await page.get_by_role("button", name="Play First light").click()
    await expect(page.get_by_role("region", name="Player")).to_have_attribute(
        "data-state", "playing"
    )
    await advancing(page)
    source = await page.evaluate("document.getElementById('player-audio').currentSrc")
    if plays == "hls.js":
        assert source.startswith("blob:") and await page.evaluate("typeof window.Hls") == "function"
    else:
        assert (
            source.endswith("aac160.m4a")
            and await page.evaluate("typeof window.Hls") == "undefined"
        )
