"""Releases in the web app: the studio's pages over HTTP (who may do what, CSRF, bad
input, the up and down buttons as plain forms), and once in a browser (an artist makes a
release, fills and orders it; a listener finds it on the song's and the artist's pages
and plays it)."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.conftest import Harness
from tests.images import png_bytes
from tests.releases.support import created, ids, read, songs
from tests.songs.support import artist
from tests.web.conftest import sign_in
from tests.web.support import TOKEN, browser, post, song

EDIT = re.compile(r"/studio/releases/[0-9a-f-]{36}(\?done=\w+)?$")


async def test_the_studio_makes_and_changes_a_release_without_a_script(harness: Harness) -> None:
    jane = await artist(harness)
    a, b, c = await songs(harness, jane, "Alpha", "Beta", "Gamma")
    client = await browser(harness, jane)
    listed = await client.get("/studio/releases")
    assert listed.status_code == 200 and "You have no releases yet." in listed.text

    refused = await post(client, "/studio/releases", title=" ", kind="album", year="12")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    made = await client.post(
        "/studio/releases",
        data={"csrf_token": TOKEN, "title": "Seasons", "kind": "ep", "year": "2023"},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert made.status_code == 303, made.text
    page = made.headers["location"]
    assert EDIT.search(page)
    release_id = page.split("/")[3].split("?")[0]
    base = f"/studio/releases/{release_id}"
    edit = await client.get(page)
    assert "Release made." in edit.text and "<h1>Seasons</h1>" in edit.text

    added = await client.post(f"{base}/songs", data={"csrf_token": TOKEN, "songIds": [a, b, c]})
    assert added.status_code == 303
    assert ids((await read(jane, release_id)).json()["data"]) == [a, b, c]
    moved = await post(client, f"{base}/songs/{c}/move", to="up")
    assert moved.status_code == 303
    await post(client, f"{base}/songs/{a}/move", to="up")  # the first stays first
    assert ids((await read(jane, release_id)).json()["data"]) == [a, c, b]
    assert (await post(client, f"{base}/songs/{a}/move", to="sideways")).status_code == 400
    assert (await post(client, f"{base}/songs/{b}/remove")).status_code == 303
    assert ids((await read(jane, release_id)).json()["data"]) == [a, c]

    assert (
        await post(client, f"{base}/edit", title="Seasons II", kind="album", year="")
    ).status_code == 303
    release = (await read(jane, release_id)).json()["data"]
    assert (release["title"], release["kind"], release["year"]) == ("Seasons II", "album", None)
    bad = await post(client, f"{base}/edit", title="Seasons", kind="boxset", year="99999")
    assert bad.status_code == 400 and "Kind:" in bad.text and "Year:" in bad.text
    assert (await read(jane, release_id)).json()["data"]["title"] == "Seasons II"
    no_file = await post(client, f"{base}/cover")
    assert no_file.status_code == 400 and "Choose an image." in no_file.text

    # Taken by another release: refused with why, and nothing changed.
    other = await created(jane, "Other", songIds=[b])
    taken = await post(client, f"{base}/songs", songIds=b)
    assert taken.status_code == 409 and "one release at most" in taken.text
    assert ids((await read(jane, other["_id"])).json()["data"]) == [b]

    gone = await post(client, f"{base}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == "/studio/releases?done=deleted"
    assert (await read(jane, release_id)).status_code == 404


async def test_a_release_in_the_studio_is_its_owners_only(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    (a,) = await songs(harness, jane, "Alpha")
    release = await created(jane, "Jane's", songIds=[a])
    base = f"/studio/releases/{release['_id']}"
    theirs = await browser(harness, bob)
    assert (await theirs.get(base)).status_code == 404
    for action, fields in (
        ("edit", {"title": "Mine", "kind": "album"}),
        ("songs", {"songIds": a}),
        (f"songs/{a}/remove", {}),
        (f"songs/{a}/move", {"to": "up"}),
        ("delete", {}),
    ):
        assert (await post(theirs, f"{base}/{action}", **fields)).status_code == 404, action
    cover = await theirs.post(
        f"{base}/cover",
        data={"csrf_token": TOKEN},
        files={"thumbnail": ("c.png", png_bytes(), "image/png")},
    )
    assert cover.status_code == 404
    # Without the form's token, even the owner is refused.
    mine = await browser(harness, jane)
    assert (await mine.post(f"{base}/delete", data={})).status_code == 403
    assert (await read(jane, release["_id"])).json()["data"]["title"] == "Jane's"
    # A visitor is sent to sign in.
    visitor = await browser(harness)
    for path in ("/studio/releases", base):
        response = await visitor.get(path)
        assert response.status_code == 303, path
        assert httpx.URL(response.headers["location"]).path == "/signin"
    assert (await visitor.get(f"/studio/releases/{uuid.uuid4()}")).status_code == 303


async def test_the_public_pages_show_a_release_to_whoever_may_see_it(harness: Harness) -> None:
    jane = await artist(harness)
    a, b = await songs(harness, jane, "Alpha", "Beta")
    release = await created(jane, "Night & Day", kind="single", year=2021, songIds=[b, a])
    draft = await created(jane, "Draft")
    visitor = await browser(harness)
    page = await visitor.get(f"/releases/{release['_id']}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Night &amp; Day</h1>" in html and "Single · 2021" in html
    assert html.index('data-song="' + b) < html.index('data-song="' + a)
    assert f'href="/artists/{jane.id}"' in html and "Edit in the studio" not in html
    assert (await visitor.get(f"/releases/{draft['_id']}")).status_code == 404
    assert (await visitor.get("/releases/not-an-id")).status_code in (400, 404)

    listing = await visitor.get(f"/artists/{jane.id}/releases")
    assert 'id="artist-release-list"' in listing.text
    assert "Night &amp; Day" in listing.text and "Draft" not in listing.text
    assert (await visitor.get(f"/artists/{uuid.uuid4()}/releases")).status_code == 404
    song_page = await visitor.get(f"/songs/{a}")
    assert f'href="/releases/{release["_id"]}"' in song_page.text and "Track 2 of" in song_page.text
    owner_page = await (await browser(harness, jane)).get(f"/releases/{release['_id']}")
    assert "Edit in the studio" in owner_page.text


async def test_an_artist_makes_a_release_and_a_listener_plays_it(
    harness: Harness, page: Page
) -> None:
    jane = await artist(harness)
    first = await song(harness, jane, "Opening", seconds=8.0)
    second = await song(harness, jane, "Closing")
    await sign_in(harness, page, jane)

    await page.goto("/studio")
    await page.get_by_role("link", name="My releases").click()
    await page.get_by_label("Title").fill("Bookends")
    await page.get_by_label("Kind").select_option("ep")
    await page.get_by_label("Year (optional)").fill("2025")
    await page.get_by_role("button", name="Create release").click()
    await expect(page.get_by_role("heading", name="Bookends", level=1)).to_be_visible()
    await expect(page).to_have_url(EDIT)

    await page.get_by_label("Closing").check()
    await page.get_by_label("Opening").check()
    await page.get_by_role("button", name="Add to release").click()
    tracks = page.get_by_role("list", name="Tracks of Bookends")
    await expect(tracks.get_by_role("listitem")).to_have_count(2)
    # Added in the order listed (oldest first), then put right with the buttons.
    await expect(tracks.get_by_role("listitem").first).to_contain_text("1. Opening")
    await tracks.get_by_role("button", name="Move down Opening").click()
    await expect(tracks.get_by_role("listitem").first).to_contain_text("1. Closing")
    await tracks.get_by_role("button", name="Move up Opening").click()
    await expect(tracks.get_by_role("listitem").first).to_contain_text("1. Opening")

    # A listener finds it from the song's page, then plays it from the release's page.
    listener = await artist(harness, "bobby")
    await page.context.clear_cookies()
    await sign_in(harness, page, listener)
    await page.goto(f"/songs/{second['_id']}")
    await page.get_by_role("link", name="Bookends").click()
    await expect(page.get_by_role("heading", name="Bookends", level=1)).to_be_visible()
    await expect(page.get_by_text("EP · 2025")).to_be_visible()
    listed = page.get_by_role("list", name="Tracks of Bookends")
    await expect(listed.get_by_role("link", name="Opening")).to_be_visible()
    async with page.expect_response(
        lambda r: r.request.method == "POST" and f"/api/v1/songs/{first['_id']}" in r.url
    ) as reported:
        await listed.get_by_role("button", name="Play Opening").click()
    assert (await reported.value).status == 200
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")

    # The artist's page lists it (loaded into the page), and playing goes on.
    await page.get_by_role("link", name="Jane Doe").first.click()
    releases = page.get_by_role("list", name="Releases by Jane Doe")
    await expect(releases.get_by_role("link", name="Bookends")).to_be_visible()
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")
