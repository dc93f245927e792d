"""The studio: uploading, an artist's songs and each song's dashboard, over HTTP (who may
do what, CSRF, bad input) and in a browser (upload with its progress, the status that
updates by itself, the chart, the refusals the API gives)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from bandstand.db import transaction
from bandstand.models import Comment
from bandstand.songs import renditions
from bandstand.web import studio
from tests.audio import tone
from tests.conftest import Harness
from tests.images import png_bytes
from tests.moderation.support import a_comment, acted, db_id, staff
from tests.songs.support import SONGS, Artist, artist
from tests.web.conftest import sign_in
from tests.web.support import TOKEN, browser, played, post, song

STUDIO_SONG = re.compile(r"/studio/songs/[0-9a-f-]{36}$")


async def api_song(who: Artist, song_id: str) -> httpx.Response:
    return await who.client.get(f"{SONGS}/{song_id}", headers=who.auth)


# Over HTTP.


async def test_the_studio_asks_a_visitor_to_sign_in(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness)
    for path in ("/upload", "/studio", f"/studio/songs/{first['_id']}"):
        response = await client.get(path)
        assert response.status_code == 303, path
        target = httpx.URL(response.headers["location"])
        assert target.path == "/signin" and target.params["next"] == path


async def test_the_studio_lists_my_songs_with_their_status_and_my_quota(
    harness: Harness,
) -> None:
    jane = await artist(harness)
    mod = await staff(harness, "modmolly", "moderator")
    ready = await song(harness, jane, "First light")
    failed = await song(harness, jane, "Broken one")
    gone = await song(harness, jane, "Stolen tune")
    await harness.sql(
        "UPDATE songs SET status = 'failed', failure_reason = 'Not a song' WHERE id = :id",
        id=db_id(harness, failed["_id"]),
    )
    await acted(mod, f"/songs/{gone['_id']}/takedown", {"reason": "Not yours"})
    await song(harness, await artist(harness, "bobby"), "Someone else's")

    page = await (await browser(harness, jane)).get("/studio")
    assert page.status_code == 200
    html = page.text
    assert 'aria-label="My songs"' in html
    assert f'href="/studio/songs/{ready["_id"]}"' in html and "Ready." in html
    assert "Processing failed: Not a song" in html
    assert "Taken down by a moderator: Not yours" in html
    assert "Someone else" not in html
    assert "47 of 50 uploads left today" in html


async def test_a_song_dashboard_is_its_owners_only(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    first = await song(harness, jane)
    base = f"/studio/songs/{first['_id']}"
    mine = await (await browser(harness, jane)).get(base)
    assert mine.status_code == 200 and "<h1>First light</h1>" in mine.text
    theirs = await browser(harness, bob)
    assert (await theirs.get(base)).status_code == 404
    assert (await theirs.get(f"{base}/status")).status_code == 404
    assert (await theirs.get(f"/studio/songs/{uuid.uuid4()}")).status_code == 404
    for action, fields in (
        ("edit", {"title": "Mine now"}),
        ("delete", {}),
        (f"mutes/{bob.id}", {}),
    ):
        assert (await post(theirs, f"{base}/{action}", **fields)).status_code == 404, action
    refused = await theirs.post(
        f"{base}/cover",
        data={"csrf_token": TOKEN},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert refused.status_code == 404
    assert (await api_song(jane, first["_id"])).json()["data"]["title"] == "First light"


async def test_changes_without_the_forms_token_are_refused(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness, jane)
    base = f"/studio/songs/{first['_id']}"
    edited = await client.post(f"{base}/edit", data={"title": "Changed"})
    assert edited.status_code == 403
    forged = await client.post(f"{base}/delete", data={"csrf_token": "x" * 26})
    assert forged.status_code == 403
    assert (await api_song(jane, first["_id"])).json()["data"]["title"] == "First light"


async def test_editing_changes_only_title_description_and_genre(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness, jane)
    base = f"/studio/songs/{first['_id']}"
    saved = await post(
        client, f"{base}/edit", title="New light", description="Two\nlines", genre="Ambient"
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{base}?done=saved"
    after = (await api_song(jane, first["_id"])).json()["data"]
    assert (after["title"], after["description"], after["genre"]) == (
        "New light",
        "Two\nlines",
        "Ambient",
    )
    # What the JSON update would refuse is refused here too, with the reason by the form.
    blank = await post(client, f"{base}/edit", title="  ", description="", genre="")
    assert blank.status_code == 400
    assert 'role="alert"' in blank.text and "Title: String should have at least 1" in blank.text
    long = await post(client, f"{base}/edit", title="x" * 201)
    assert long.status_code == 400 and "Title:" in long.text
    # Anything else a form sends is not read.
    await post(client, f"{base}/edit", title="New light", status="failed", views="99")
    after = (await api_song(jane, first["_id"])).json()["data"]
    assert (after["status"], after["views"], after["title"]) == ("ready", 0, "New light")
    shown = await client.get(f"{base}?done=saved")
    assert "Saved." in shown.text


async def test_a_cover_is_replaced_and_a_bad_one_refused(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness, jane)
    base = f"/studio/songs/{first['_id']}"

    async def cover(data: bytes) -> httpx.Response:
        return await client.post(
            f"{base}/cover",
            data={"csrf_token": TOKEN},
            files={"thumbnail": ("cover.png", data, "image/png")},
        )

    bad = await cover(b"not an image at all")
    assert bad.status_code == 415 and 'role="alert"' in bad.text
    assert "<h1>First light</h1>" in bad.text
    empty = await cover(b"")
    assert empty.status_code == 400 and "The thumbnail is empty." in empty.text
    assert (await api_song(jane, first["_id"])).json()["data"]["thumbnail"] == first["thumbnail"]
    good = await cover(png_bytes((90, 90), (10, 200, 10)))
    assert good.status_code == 303 and good.headers["location"] == f"{base}?done=cover"
    assert (await api_song(jane, first["_id"])).json()["data"]["thumbnail"] != first["thumbnail"]


async def test_deleting_a_song_from_its_dashboard(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness, jane)
    page = await client.get(f"/studio/songs/{first['_id']}")
    assert 'data-confirm="Delete “First light” for good?' in page.text
    deleted = await post(client, f"/studio/songs/{first['_id']}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/studio?done=deleted"
    assert (await api_song(jane, first["_id"])).status_code == 404
    assert "Song deleted." in (await client.get("/studio?done=deleted")).text


async def test_mutes_hold_comments_and_the_owner_approves_them(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    first = await song(harness, jane)
    client = await browser(harness, jane)
    base = f"/studio/songs/{first['_id']}"
    await a_comment(bob, first["_id"], "Lovely, truly wonderful")

    page = (await client.get(base)).text
    assert 'aria-label="Recent comments"' in page and "Mute @bobby" in page
    muted = await post(client, f"{base}/mutes/{bob.id}")
    assert muted.status_code == 303 and muted.headers["location"] == f"{base}?done=muted"
    held = await a_comment(bob, first["_id"], "Held until approved")
    assert held["isHeld"]

    page = (await client.get(base)).text
    assert 'aria-label="Held comments"' in page and "Held until approved" in page
    assert 'aria-label="Muted listeners"' in page and "Unmute @bobby" in page
    assert "Positive" in page  # the first comment reads as positive
    approved = await post(client, f"{base}/comments/{held['_id']}/approve")
    assert approved.status_code == 303
    listed = await bob.client.get(f"/api/v1/comments/{first['_id']}/comments", headers=bob.auth)
    assert not any(c["isHeld"] for c in listed.json()["data"]["docs"])
    # Muting oneself is the service's refusal, shown on the page.
    self_muted = await post(client, f"{base}/mutes/{jane.id}")
    assert self_muted.status_code == 400 and "You cannot mute yourself." in self_muted.text
    unmuted = await post(client, f"{base}/mutes/{bob.id}/unmute")
    assert unmuted.status_code == 303
    assert not (await a_comment(bob, first["_id"], "Back to normal"))["isHeld"]


async def test_a_held_comment_waits_however_many_threads_came_after(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    first = await song(harness, jane)
    client = await browser(harness, jane)
    base = f"/studio/songs/{first['_id']}"
    await post(client, f"{base}/mutes/{bob.id}")
    await a_comment(bob, first["_id"], "Held from long ago")
    # More newer threads than the dashboard lists, written straight to the table (the
    # comments' budget would refuse as many through the API).
    newer = [
        Comment(
            song_id=uuid.UUID(first["_id"]),
            user_id=uuid.UUID(jane.id),
            content=f"Note {n}",
            sentiment_score=0.0,
            is_flagged=False,
            is_held=False,
        )
        for n in range(studio.COMMENTS_SHOWN)
    ]
    async with transaction(harness.app.state.runtime.sessionmaker) as session:
        session.add_all(newer)

    page = (await client.get(base)).text
    recent = page.split('aria-label="Recent comments"')[1].split("</ul>")[0]
    assert recent.count('class="studio-comment"') == studio.COMMENTS_SHOWN
    assert "Held from long ago" not in recent
    held = page.split('aria-label="Held comments"')[1].split("</ul>")[0]
    assert "Held from long ago" in held and "Approve<" in held


async def test_a_comment_on_another_song_is_not_approved_from_this_one(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    first = await song(harness, jane, "First light")
    second = await song(harness, jane, "Second wind")
    client = await browser(harness, jane)
    await post(client, f"/studio/songs/{first['_id']}/mutes/{bob.id}")
    held = await a_comment(bob, second["_id"], "Held")
    wrong = await post(client, f"/studio/songs/{first['_id']}/comments/{held['_id']}/approve")
    assert wrong.status_code == 404


async def test_the_status_fragment_stops_polling_once_final(harness: Harness) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    client = await browser(harness, jane)
    client.headers["hx-request"] = "true"
    final = await client.get(f"/studio/songs/{first['_id']}/status")
    # 286: htmx stops polling.
    assert final.status_code == 286 and 'data-status="ready"' in final.text
    assert "<main" not in final.text


# In a browser.


# Every value the upload's progress bar showed, kept on the window (htmx navigation keeps it).
RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("upload-progress");
  new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
    .observe(bar, {attributes: true, attributeFilter: ["value"]});
}"""


async def test_an_upload_shows_its_progress_then_its_status_and_chart(
    harness: Harness, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Processing waits for the test's word, so the page is seen before the song is ready.
    go = asyncio.Event()
    process = renditions.process

    async def held(*args: Any) -> None:
        await go.wait()
        await process(*args)

    monkeypatch.setattr(renditions, "process", held)
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    await sign_in(harness, page, jane)
    await page.goto("/upload")
    audio = tone("mp3", 2.0, tags={"title": "Tagged tune", "genre": "Ambient"})
    await page.get_by_label("Audio file").set_input_files(
        {"name": "song.mp3", "mimeType": "audio/mpeg", "buffer": audio}
    )
    await expect(page.get_by_label("Title")).to_have_value("Tagged tune")
    await expect(page.get_by_label("Genre")).to_have_value("Ambient")
    await page.get_by_label("Cover image").set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    await expect(page.get_by_role("img", name="Cover preview")).to_be_visible()
    await page.evaluate(RECORD_PROGRESS)
    await page.get_by_role("button", name="Upload", exact=True).click()

    await expect(page).to_have_url(STUDIO_SONG)
    assert await page.evaluate("Math.max(...window.progressSeen)") == 100
    await expect(page.get_by_role("heading", name="Tagged tune")).to_be_visible()
    status = page.get_by_role("status").filter(has_text="Processing")
    await expect(status).to_be_visible()
    go.set()
    await harness.settle()
    # Polled every 2 s; processing shares the machine with the browser.
    ready = page.get_by_role("status").filter(has_text="Ready.")
    await expect(ready).to_be_visible(timeout=15_000)
    await expect(page.get_by_role("link", name="Open its page")).to_be_visible()

    song_id = page.url.rsplit("/", 1)[1]
    await played(bob, song_id)
    await page.reload()
    chart = page.get_by_role("figure", name=re.compile("Plays, likes and comments per day"))
    await expect(chart.locator("canvas")).to_be_visible()
    plays = page.locator(".totals dt", has_text="Plays").locator("xpath=following-sibling::dd")
    await expect(plays).to_have_text("1")
    today = await page.evaluate(
        "JSON.parse(document.getElementById('chart-data').textContent).series.at(-1).plays"
    )
    assert today == 1


@pytest.mark.parametrize("fmt", ["flac", "ogg", "opus"])
async def test_title_and_genre_come_from_flac_and_ogg_tags(
    harness: Harness, page: Page, fmt: str
) -> None:
    jane = await artist(harness)
    await sign_in(harness, page, jane)
    await page.goto("/upload")
    tags = {"title": "Über tune", "genre": "Folk", "artist": "The Janes"}
    await page.get_by_label("Audio file").set_input_files(
        {"name": f"take.{fmt}", "mimeType": "audio/ogg", "buffer": tone(fmt, 0.3, tags=tags)}
    )
    await expect(page.get_by_label("Title")).to_have_value("Über tune")
    await expect(page.get_by_label("Genre")).to_have_value("Folk")
    await expect(page.get_by_text("Artist, from the file's tags: The Janes")).to_be_visible()


async def test_an_upload_the_api_refuses_says_why(harness: Harness, phone: Page) -> None:
    jane = await artist(harness)
    await sign_in(harness, phone, jane)
    await phone.goto("/upload")
    await phone.get_by_label("Audio file").set_input_files(
        {"name": "song.mp3", "mimeType": "audio/mpeg", "buffer": b"this is no song " * 64}
    )
    await expect(phone.get_by_label("Title")).to_have_value("song")
    await phone.get_by_label("Cover image").set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    await phone.get_by_role("button", name="Upload", exact=True).click()
    alert = phone.get_by_role("alert")
    await expect(alert).to_contain_text("Audio file:")
    await expect(phone).to_have_url(re.compile("/upload$"))

    # Past the storage quota: 413, in the API's words.
    await harness.sql(
        "UPDATE users SET storage_used = :full WHERE id = :id",
        full=harness.settings.storage_quota_bytes,
        id=db_id(harness, jane.id),
    )
    await phone.get_by_label("Audio file").set_input_files(
        {"name": "song.mp3", "mimeType": "audio/mpeg", "buffer": tone("mp3", 0.5)}
    )
    await phone.get_by_role("button", name="Upload", exact=True).click()
    await expect(alert).to_contain_text("quota")


async def test_deleting_asks_first(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    first = await song(harness, jane)
    await sign_in(harness, page, jane)
    await page.goto(f"/studio/songs/{first['_id']}")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    await page.get_by_role("button", name="Delete this song").click()
    await expect(page.get_by_role("heading", name="First light")).to_be_visible()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Delete this song").click()
    await expect(page.get_by_role("status").filter(has_text="Song deleted.")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/studio\?done=deleted$"))
    assert (await api_song(jane, first["_id"])).status_code == 404
