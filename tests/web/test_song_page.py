"""The song page: who may open it, what it shows, and what a listener does there (over
HTTP, with the access cookie a login sets); and, in a browser, a comment at a moment that
appears as a mark on the waveform."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.audio import tone
from tests.conftest import Harness
from tests.moderation.support import a_playlist, acted, db_id, staff
from tests.songs.support import Artist, artist, uploaded
from tests.web.conftest import sign_in
from tests.web.support import browser

AUDIO = tone("mp3", 4.0)
CURRENT_TIME = "document.getElementById('player-audio').currentTime"
CSRF_FIELD = re.compile(r'data-csrf="([^"]+)"')


async def a_song(harness: Harness, owner: Artist, title: str = "Harbour lights") -> dict[str, Any]:
    song = await uploaded(owner, AUDIO, title=title, description="Recorded by the sea.")
    await harness.settle()
    return song


async def opened(client: httpx.AsyncClient, song: dict[str, Any]) -> tuple[str, str]:
    """The song page's HTML and the CSRF token its forms carry."""
    response = await client.get(f"/songs/{song['_id']}")
    assert response.status_code == 200, response.text
    found = CSRF_FIELD.search(response.text)
    return response.text, found.group(1) if found else ""


async def test_anyone_opens_a_song_page(harness: Harness) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    html, _ = await opened(harness.client(), song)
    assert '<h1 id="song-title">Harbour lights</h1>' in html
    assert f'href="/artists/{jane.id}"' in html
    assert 'aria-label="Play Harbour lights"' in html
    assert "Recorded by the sea." in html
    assert "data-peaks='[" in html
    # Signed out, the actions ask to sign in first and come back.
    assert f'href="/signin?next=/songs/{song["_id"]}"' in html
    for asked in ("Sign in to comment", "Sign in to like", "Sign in to report"):
        assert asked in html


async def test_a_missing_or_taken_down_song_is_a_404_page_but_its_owner_sees_why(
    harness: Harness,
) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    mod = await staff(harness, "modmolly", "moderator")
    await acted(mod, f"/songs/{song['_id']}/takedown", {"reason": "Not theirs to share"})
    listener = await browser(harness, await artist(harness, "ann"))
    for client, path in (
        (harness.client(), f"/songs/{song['_id']}"),
        (listener, f"/songs/{song['_id']}"),
        (listener, "/songs/0f6b9c1e-0000-4000-8000-000000000000"),
        (listener, "/songs/not-an-id"),
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Song not found" in response.text and "Harbour lights" not in response.text
    html, _ = await opened(await browser(harness, jane), song)
    assert "Taken down by a moderator: Not theirs to share" in html


async def test_a_song_not_playable_says_why_and_only_its_owner_reads_the_reason(
    harness: Harness,
) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    change = "UPDATE songs SET status = :status, failure_reason = :reason WHERE id = :id"
    ident = db_id(harness, song["_id"])
    await harness.sql(change, status="failed", reason="No audio stream in the file.", id=ident)
    html, _ = await opened(await browser(harness, jane), song)
    assert "Processing failed: No audio stream in the file." in html
    html, _ = await opened(harness.client(), song)
    assert "Processing failed." in html and "No audio stream" not in html
    assert 'aria-label="Play Harbour lights"' not in html
    await harness.sql(change, status="processing", reason=None, id=ident)
    html, _ = await opened(harness.client(), song)
    assert "Processing: this song can be played once it is ready." in html


async def test_a_comment_at_a_moment_is_a_mark_on_the_waveform(harness: Harness) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    ann = await browser(harness, await artist(harness, "ann"))
    _, token = await opened(ann, song)
    form = {"csrf_token": token, "content": "That chord!", "timestamp": "2.5", "at_moment": "yes"}
    sent = await ann.post(f"/songs/{song['_id']}/comments", data=form)
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/songs/{song['_id']}#comment-")
    html, _ = await opened(ann, song)
    assert "That chord!" in html
    assert 'aria-label="Comment by ann at 0:02"' in html
    assert 'style="left: 62.5%"' in html


async def test_writes_need_the_page_token_a_login_and_good_input(harness: Harness) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    ann = await browser(harness, await artist(harness, "ann"))
    _, token = await opened(ann, song)
    path = f"/songs/{song['_id']}/comments"
    refused = await ann.post(path, data={"content": "Hello"})
    assert refused.status_code == 403
    empty = await ann.post(path, data={"csrf_token": token, "content": "   "})
    assert empty.status_code == 400
    assert 'role="alert"' in empty.text and "Harbour lights" in empty.text
    late = {"csrf_token": token, "content": "Too late", "timestamp": "99", "at_moment": "yes"}
    assert (await ann.post(path, data=late)).status_code == 400
    # Signed out (the login ran out): asked to sign in, and back to the page the form is
    # on after; htmx's request is answered 401, for the page's script to renew the login.
    anonymous = harness.client()
    _, anonymous_token = await opened(anonymous, song)
    form = {"csrf_token": anonymous_token, "content": "Hi"}
    here = {"hx-current-url": f"{harness.settings.public_url}/songs/{song['_id']}"}
    away = await anonymous.post(path, data=form, headers=here)
    assert away.status_code == 303
    assert away.headers["location"] == f"/signin?next=/songs/{song['_id']}"
    htmx = await anonymous.post(path, data=form, headers={**here, "hx-request": "true"})
    assert htmx.status_code == 401
    html, _ = await opened(ann, song)
    assert "Too late" not in html and "No comments yet." in html


async def test_like_reply_add_to_a_playlist_and_report(harness: Harness) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    ann_artist = await artist(harness, "ann")
    mix = await a_playlist(ann_artist, "Sea songs")
    ann = await browser(harness, ann_artist)
    _, token = await opened(ann, song)
    base = f"/songs/{song['_id']}"

    liked = await ann.post(f"{base}/like", data={"csrf_token": token})
    assert liked.status_code == 200 and "You like this song." in liked.text
    assert 'aria-pressed="true"' in liked.text and "1 likes" in liked.text
    unliked = await ann.post(f"{base}/unlike", data={"csrf_token": token})
    assert "Like withdrawn." in unliked.text and "0 likes" in unliked.text

    await ann.post(f"{base}/comments", data={"csrf_token": token, "content": "Lovely"})
    html, _ = await opened(ann, song)
    comment_id = re.search(r'id="comment-([0-9a-f-]+)"', html).group(1)  # type: ignore[union-attr]
    replied = await ann.post(
        f"{base}/comments/{comment_id}/replies", data={"csrf_token": token, "content": "Agreed"}
    )
    assert replied.status_code == 303
    liked_comment = await ann.post(f"{base}/comments/{comment_id}/like", data={"csrf_token": token})
    assert 'aria-label="Like comment by ann (1 likes)"' in liked_comment.text
    assert "Agreed" in liked_comment.text and 'aria-label="Replies to ann"' in liked_comment.text

    added = await ann.post(f"{base}/playlist", data={"csrf_token": token, "playlist": mix["_id"]})
    assert added.status_code == 200 and "Added to Sea songs." in added.text
    theirs = await a_playlist(jane, "Jane's")
    refused = await ann.post(
        f"{base}/playlist", data={"csrf_token": token, "playlist": theirs["_id"]}
    )
    assert refused.status_code == 403

    reported = await ann.post(
        f"{base}/report", data={"csrf_token": token, "reason": "copyright", "note": "Mine"}
    )
    assert reported.status_code == 200 and "a moderator will look" in reported.text
    again = await ann.post(f"{base}/report", data={"csrf_token": token, "reason": "spam"})
    assert again.status_code == 409
    bad = await ann.post(f"{base}/report", data={"csrf_token": token, "reason": "boring"})
    assert bad.status_code == 400


async def test_a_comment_at_the_moment_playing_marks_the_waveform(
    harness: Harness,
    page: Page,
) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    await sign_in(harness, page, await artist(harness, "ann"))
    await page.goto(f"/songs/{song['_id']}")
    await page.get_by_role("button", name="Play Harbour lights").click()
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 1")
    await page.get_by_label("Your comment").fill("Here it turns")
    await page.get_by_label("At the current moment").check()
    await page.get_by_role("button", name="Comment", exact=True).click()
    marks = page.get_by_role("list", name="Comments on the waveform")
    await expect(
        marks.get_by_role("button", name=re.compile(r"^Comment by ann at 0:0[1-4]$"))
    ).to_be_visible()
    comments = page.get_by_role("list", name="Comments")
    await expect(comments.get_by_text("Here it turns")).to_be_visible()
    # The song went on playing through the page's refresh.
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")
    await expect(page.locator(".waveform")).to_have_count(1)


async def test_a_click_on_the_waveform_starts_the_song_there_then_seeks(
    harness: Harness,
    page: Page,
) -> None:
    jane = await artist(harness)
    song = await uploaded(jane, tone("mp3", 8.0), title="Long tide")
    await harness.settle()
    await page.goto(f"/songs/{song['_id']}")
    waveform = page.locator(".waveform")
    await expect(waveform.locator("canvas").first).to_be_visible()  # drawn by wavesurfer
    box = await waveform.bounding_box()
    assert box is not None
    await waveform.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    await expect(page.locator("#player")).to_have_attribute("data-song", song["_id"])
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")
    await page.wait_for_function(f"() => {CURRENT_TIME} >= 3.5")
    # Now the waveform follows the player's audio: a click seeks it.
    await waveform.click(position={"x": box["width"] * 0.1, "y": box["height"] / 2})
    await page.wait_for_function(f"() => {CURRENT_TIME} < 2")


async def test_like_and_report_in_the_browser(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    song = await a_song(harness, jane)
    await sign_in(harness, page, await artist(harness, "ann"))
    await page.goto(f"/songs/{song['_id']}")
    await page.get_by_role("button", name="Like", exact=False).click()
    await expect(page.get_by_role("button", name="♥ Liked")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.get_by_text("1 likes")).to_be_visible()
    await expect(page).to_have_url(f"/songs/{song['_id']}")
    await page.get_by_text("Report this song").click()
    for said in ("status", "alert"):  # the form stays open with its answer
        await page.get_by_label("Reason").select_option("copyright")
        await page.get_by_role("button", name="Send report").click()
        await expect(page.locator(f".report [role={said}]")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_text(  # answered 409, shown all the same
        "You have already reported this; a moderator will look at it."
    )
