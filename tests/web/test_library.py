"""A listener's library and the playlist pages: over HTTP (who may do what, CSRF, bad
input) and in a browser (make a playlist, fill it, play it, find it in history)."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.conftest import Harness
from tests.images import png_bytes
from tests.songs.support import SONGS, artist
from tests.web.conftest import sign_in
from tests.web.support import TOKEN, browser, played, post, song

PLAYLIST_ID = re.compile(r"^/playlists/([0-9a-f-]{36})$")


async def made(client: httpx.AsyncClient, name: str = "Mix", public: bool = True) -> str:
    """A new playlist's id, made through its form."""
    response = await post(
        client, "/playlists", playlist_name=name, isPublic="true" if public else "false"
    )
    assert response.status_code == 303, response.text
    found = PLAYLIST_ID.match(response.headers["location"])
    assert found, response.headers["location"]
    return found[1]


# Over HTTP.


async def test_the_library_asks_a_visitor_to_sign_in(harness: Harness) -> None:
    client = await browser(harness)
    for path in ("/library", "/library/liked", "/library/history?page=2", "/playlists/new"):
        response = await client.get(path)
        assert response.status_code == 303, path
        target = httpx.URL(response.headers["location"])
        assert target.path == "/signin" and target.params["next"] == path


async def test_the_library_shows_liked_songs_history_and_playlists(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bobby")
    first = await song(harness, jane, "First light")
    second = await song(harness, jane, "Second wind")
    like = await bob.client.post(f"{SONGS}/{first['_id']}/like", headers=bob.auth)
    assert like.status_code == 200
    await played(bob, first["_id"])
    await played(bob, second["_id"])
    client = await browser(harness, bob)
    await made(client, "Road trip")

    page = (await client.get("/library")).text
    liked = page.split('aria-label="Liked songs"')[1].split("</ol>")[0]
    assert "First light" in liked and "Second wind" not in liked
    assert 'aria-label="Recently played"' in page
    assert "Road trip" in page
    # History: newest play first, each song playable with the list as its queue.
    history = (await client.get("/library/history")).text
    assert history.index("Second wind") < history.index("First light")
    assert 'aria-label="Play First light"' in history and "data-queue" in history
    assert "First light" in (await client.get("/library/liked")).text
    assert "Road trip" in (await client.get("/library/playlists")).text


async def test_a_playlist_is_made_filled_changed_and_deleted_from_its_pages(
    harness: Harness,
) -> None:
    jane = await artist(harness)
    first = await song(harness, jane, "First light")
    client = await browser(harness, jane)
    ident = await made(client, "Mix")

    # The owner's search finds a song to add; adding it comes back to the search.
    found = (await client.get(f"/playlists/{ident}?q=first")).text
    assert 'aria-label="Songs to add"' in found and 'aria-label="Add First light"' in found
    added = await post(client, f"/playlists/{ident}/songs", songId=first["_id"], q="first")
    assert added.status_code == 303
    assert added.headers["location"] == f"/playlists/{ident}?q=first"
    shown = (await client.get(f"/playlists/{ident}")).text
    assert 'aria-label="Songs in Mix"' in shown and 'aria-label="Play First light"' in shown

    changed = await post(
        client,
        f"/playlists/{ident}/edit",
        playlist_name="Morning mix",
        description="For slow starts",
        isPublic="true",
    )
    assert changed.status_code == 303
    shown = (await client.get(f"/playlists/{ident}")).text
    assert "Morning mix" in shown and "For slow starts" in shown and "Make private" in shown
    # One button makes it private, leaving the rest as it was.
    assert (await post(client, f"/playlists/{ident}/edit", isPublic="false")).status_code == 303
    shown = (await client.get(f"/playlists/{ident}")).text
    assert "Make public" in shown and "Morning mix" in shown

    removed = await post(client, f"/playlists/{ident}/songs/{first['_id']}/remove")
    assert removed.headers["location"] == f"/playlists/{ident}/edit"
    assert "No songs in this playlist yet." in (await client.get(f"/playlists/{ident}")).text

    edit = (await client.get(f"/playlists/{ident}/edit")).text
    assert 'data-confirm="Delete the playlist' in edit
    deleted = await post(client, f"/playlists/{ident}/delete")
    assert deleted.headers["location"] == "/library/playlists"
    assert (await client.get(f"/playlists/{ident}")).status_code == 404


async def test_a_cover_sent_with_the_form_is_the_playlists(harness: Harness) -> None:
    client = await browser(harness, await artist(harness))
    with_cover = await client.post(
        "/playlists",
        data={"csrf_token": TOKEN, "playlist_name": "Covered"},
        files={"thumbnail": ("cover.png", png_bytes(), "image/png")},
    )
    assert with_cover.status_code == 303, with_cover.text
    shown = (await client.get(with_cover.headers["location"])).text
    assert re.search(r'class="playlist-cover"[^>]*src="[^"]*/covers/[0-9a-f]{32}/300\.webp', shown)
    # A file input left empty is no cover; a file that is no image is refused.
    empty = await client.post(
        "/playlists",
        data={"csrf_token": TOKEN, "playlist_name": "Bare"},
        files={"thumbnail": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 303
    junk = await client.post(
        "/playlists",
        data={"csrf_token": TOKEN, "playlist_name": "Junk"},
        files={"thumbnail": ("cover.png", b"not an image", "image/png")},
    )
    assert junk.status_code == 415 and 'role="alert"' in junk.text
    assert "Junk" not in (await client.get("/library/playlists")).text


async def test_a_private_playlist_is_not_found_by_anyone_but_its_owner(harness: Harness) -> None:
    jane = await artist(harness)
    mallory = await artist(harness, "mallory")
    first = await song(harness, jane, "First light")
    owner = await browser(harness, jane)
    secret = await made(owner, "Secret", public=False)
    assert (await owner.get(f"/playlists/{secret}")).status_code == 200

    anonymous = await browser(harness)
    other = await browser(harness, mallory)
    for client in (anonymous, other):
        response = await client.get(f"/playlists/{secret}")
        assert response.status_code == 404
        assert "Playlist not found." in response.text and "Secret" not in response.text
    for path in ("/edit", "/delete", "/songs", f"/songs/{first['_id']}/remove"):
        response = await post(other, f"/playlists/{secret}{path}", songId=first["_id"])
        assert response.status_code == 404, path
    assert (await other.get(f"/playlists/{secret}/edit")).status_code == 404
    assert (await owner.get(f"/playlists/{secret}")).status_code == 200


async def test_another_users_public_playlist_is_theirs_to_change(harness: Harness) -> None:
    jane = await artist(harness)
    mallory = await artist(harness, "mallory")
    first = await song(harness, jane, "First light")
    mix = await made(await browser(harness, jane), "Mix")
    other = await browser(harness, mallory)

    shown = await other.get(f"/playlists/{mix}")
    assert shown.status_code == 200 and "Mix" in shown.text
    assert "Edit playlist" not in shown.text and "Add songs" not in shown.text
    assert (await (await browser(harness)).get(f"/playlists/{mix}")).status_code == 200
    assert (await other.get(f"/playlists/{mix}/edit")).status_code == 403
    for path in ("/edit", "/delete", "/songs"):
        response = await post(
            other, f"/playlists/{mix}{path}", songId=first["_id"], isPublic="false"
        )
        assert response.status_code == 403, path
        assert "Only the playlist" in response.text


async def test_a_form_without_its_csrf_token_is_refused(harness: Harness) -> None:
    jane = await artist(harness)
    client = await browser(harness, jane)
    ident = await made(client)
    for path in ("/playlists", f"/playlists/{ident}/edit", f"/playlists/{ident}/delete"):
        missing = await client.post(path, data={"playlist_name": "Sneaky"})
        assert missing.status_code == 403, path
        wrong = await client.post(path, data={"playlist_name": "Sneaky", "csrf_token": "x" * 30})
        assert wrong.status_code == 403, path
    assert "Sneaky" not in (await client.get("/library")).text
    assert (await client.get(f"/playlists/{ident}")).status_code == 200


def field_error(response: httpx.Response, field: str) -> str:
    """The error shown beside a form's field."""
    found = re.search(rf'id="{field}-error">([^<]*)<', response.text)
    assert found, (field, response.text[:2000])
    return found[1]


async def test_bad_input_is_shown_again_with_the_reason(harness: Harness) -> None:
    jane = await artist(harness)
    client = await browser(harness, jane)

    empty = await post(client, "/playlists", playlist_name="  ", description="kept")
    assert empty.status_code == 400 and 'role="alert"' in empty.text and "kept" in empty.text
    assert "at least 1 character" in field_error(empty, "playlist-name")
    too_long = await post(client, "/playlists", playlist_name="x" * 101)
    assert too_long.status_code == 400
    assert "at most 100 characters" in field_error(too_long, "playlist-name")
    assert (await client.get("/library/playlists")).text.count('class="playlist-card"') == 0

    ident = await made(client)
    unknown = await post(
        client, f"/playlists/{ident}/songs", songId="0190a0a0-0000-7000-8000-000000000000"
    )
    assert unknown.status_code == 404 and "Song not found." in unknown.text
    assert "No songs in this playlist yet." in unknown.text  # the page, shown again
    nonsense = await post(client, f"/playlists/{ident}/songs", songId="nonsense")
    assert nonsense.status_code == 400 and "Choose a song to add." in nonsense.text
    renamed = await post(client, f"/playlists/{ident}/edit", playlist_name="a\tb")
    assert renamed.status_code == 400
    assert (
        field_error(renamed, "playlist-name")
        == "Control characters and line breaks are not allowed."
    )
    maybe = await post(client, f"/playlists/{ident}/edit", isPublic="maybe")
    assert field_error(maybe, "playlist-visibility") == "Must be true or false."
    nothing = await post(client, f"/playlists/{ident}/edit")
    assert nothing.status_code == 400 and "Give at least one of" in nothing.text
    assert 'value="Mix"' in nothing.text  # the form, as the playlist has it
    assert (await client.get("/playlists/not-an-id")).status_code in (400, 404, 422)


# In a browser.


async def test_a_listener_makes_a_playlist_fills_it_plays_it_and_finds_it_in_history(
    harness: Harness, page: Page
) -> None:
    jane = await artist(harness)
    await song(harness, jane, "First light", seconds=8.0)  # plays on across pages
    bob = await artist(harness, "bobby")
    await sign_in(harness, page, bob)

    await page.goto("/library")
    await page.get_by_role("link", name="New playlist").click()
    await page.get_by_label("Name").fill("   ")  # blank once trimmed: refused, with why
    await page.get_by_role("button", name="Create playlist").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("Name").fill("Road trip")
    await page.get_by_label("Only me").check()
    await page.get_by_role("button", name="Create playlist").click()
    await expect(page.get_by_role("heading", name="Road trip", level=1)).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/playlists/[0-9a-f-]{36}$"))
    await expect(page.get_by_text("Private", exact=True)).to_be_visible()

    await page.get_by_label("Find songs to add").fill("first")
    await page.get_by_role("button", name="Search").click()
    await (
        page.get_by_role("list", name="Songs to add")
        .get_by_role("button", name="Add First light")
        .click()
    )
    songs = page.get_by_role("list", name="Songs in Road trip")
    await expect(songs.get_by_role("link", name="First light")).to_be_visible()

    # Played from the playlist (the list is the queue); the player reports the play.
    async with page.expect_response(
        lambda r: r.request.method == "POST" and "/api/v1/songs/" in r.url
    ) as reported:
        await songs.get_by_role("button", name="Play First light").click()
    assert (await reported.value).status == 200
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    history = page.get_by_role("list", name="Recently played")
    await expect(history.get_by_role("link", name="First light")).to_be_visible()
    await expect(page.get_by_role("list", name="Your playlists")).to_contain_text("Road trip")
    await expect(page.locator("#player")).to_have_attribute("data-state", "playing")


async def test_deleting_a_playlist_asks_first(harness: Harness, page: Page) -> None:
    jane = await artist(harness)
    ident = await made(await browser(harness, jane), "Old mix")
    await sign_in(harness, page, jane)
    await page.goto(f"/playlists/{ident}/edit")

    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.get_by_role("button", name="Delete playlist").click()
    await expect(page).to_have_url(f"/playlists/{ident}/edit")

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete playlist").click()
    await expect(page.get_by_role("heading", name="Your playlists", level=1)).to_be_visible()
    await expect(page.get_by_text("You have no playlists yet.")).to_be_visible()


async def test_the_library_and_a_playlist_fit_a_phone(harness: Harness, phone: Page) -> None:
    jane = await artist(harness)
    first = await song(harness, jane, "A song with a rather long title for a small screen")
    await jane.client.post(f"{SONGS}/{first['_id']}/like", headers=jane.auth)
    client = await browser(harness, jane)
    ident = await made(client, "A playlist with a long name, too")
    await post(client, f"/playlists/{ident}/songs", songId=first["_id"])
    await sign_in(harness, phone, jane)

    await phone.goto("/library")
    await expect(phone.get_by_role("heading", name="Your library")).to_be_visible()
    await expect(phone.get_by_role("list", name="Liked songs")).to_be_visible()
    await expect(phone.get_by_role("list", name="Your playlists")).to_be_visible()
    for path in ("/library", f"/playlists/{ident}?q=song", f"/playlists/{ident}/edit"):
        await phone.goto(path)
        overflow = await phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
