"""The moderators' pages: the queue, users, songs, comments, playlists and the audit log,
driven as a browser drives them (cookie login, form posts with the page's CSRF token),
and once in Chromium end to end."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Browser, Page, expect

from bandstand.db import transaction
from bandstand.models import Comment
from bandstand.moderation.flags import flag_comment
from tests.conftest import Harness
from tests.moderation.support import (
    API,
    a_comment,
    a_playlist,
    a_song,
    audit_rows,
    reported,
    staff,
)
from tests.songs.support import Artist, artist
from tests.web.conftest import sign_in

TOKEN = "t" * 32
HTML = {"accept": "text/html"}


def browsing(who: Artist) -> httpx.AsyncClient:
    """``who``'s client as a browser: the login and the CSRF token in cookies."""
    who.client.cookies.set("accessToken", who.auth["Authorization"].split()[1])
    who.client.cookies.set("bandstand_csrf", TOKEN)
    return who.client


async def post(who: Artist, path: str, token: str | None = TOKEN, **form: str) -> httpx.Response:
    """A form post, as the browser sends it from the page (no bearer header)."""
    fields = {**form, **({"csrf_token": token} if token else {})}
    return await browsing(who).post(path, data=fields, headers=HTML)


async def get(who: Artist, path: str) -> httpx.Response:
    return await browsing(who).get(path, headers=HTML)


async def song_status(who: Artist, song_id: str) -> int:
    response = await who.client.get(f"{API}/songs/{song_id}", headers=who.auth)
    return response.status_code


async def test_a_stranger_is_sent_to_sign_in_first(harness: Harness) -> None:
    response = await harness.client().get("/moderation?status=resolved", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/moderation%3Fstatus%3Dresolved"


async def test_only_moderators_see_the_pages_and_only_admins_the_audit_log(
    harness: Harness,
) -> None:
    jane = await artist(harness)
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, jane)
    pages = ("/moderation", f"/moderation/users/{jane.id}", f"/moderation/songs/{song['_id']}")
    for path in pages:
        refused = await get(jane, path)
        assert refused.status_code == 403, path
        assert "Only moderators can do this." in refused.text
    for path in pages:
        assert (await get(mod, path)).status_code == 200, path
    for who in (jane, mod):
        audit = await get(who, "/moderation/audit")
        assert audit.status_code == 403 and "Only admins can do this." in audit.text
    # Actions too, whatever the target: a listener takes nothing down, a moderator
    # changes no role.
    assert (
        await post(jane, f"/moderation/songs/{song['_id']}/takedown", reason="x")
    ).status_code == 403
    assert (await song_status(jane, song["_id"])) == 200
    role = await post(mod, f"/moderation/users/{jane.id}/role", role="moderator")
    assert role.status_code == 403
    rows = await harness.sql("SELECT role FROM users WHERE username_key = 'janedoe'")
    assert rows[0][0] == "user"


async def test_the_queue_shows_each_report_with_what_moderators_judge_by(
    harness: Harness,
) -> None:
    jane, fan = await artist(harness), await artist(harness, "fan")
    mallory = await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory, "Loud noise")
    comment = await a_comment(mallory, song["_id"], "Buy cheap pills")
    await reported(jane, "song", song["_id"], note="Not music")
    await reported(fan, "song", song["_id"])
    await reported(jane, "comment", comment["_id"])
    runtime = harness.app.state.runtime
    async with transaction(runtime.sessionmaker) as session:  # the abuse filter's flag
        row = await session.get(Comment, uuid.UUID(comment["_id"]))
        assert row is not None
        flag_comment(session, row, "abusive words")

    page = (await get(mod, "/moderation")).text
    assert "Loud noise" in page and "Buy cheap pills" in page
    assert "the abuse filter" in page and "abusive words" in page
    assert "Not music" in page and "@janedoe" in page and "@fan" in page
    assert f'href="/moderation/songs/{song["_id"]}"' in page
    assert f'href="/moderation/users/{mallory.id}"' in page
    assert "<dt>Others reporting it</dt><dd>1</dd>" in page
    assert "0 upheld reports" in page
    assert 'name="csrf_token" value="' in page
    resolved = (await get(mod, "/moderation?status=resolved")).text
    assert "No report has been resolved yet." in resolved


async def test_resolving_a_report_acts_on_its_target(harness: Harness) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory, "Loud noise")
    report = await reported(jane, "song", song["_id"])

    done = await post(
        mod, f"/moderation/reports/{report['_id']}/resolve", action="hide", note="Noise"
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/moderation?done=resolve"
    assert await song_status(jane, song["_id"]) == 404
    page = (await get(mod, done.headers["location"])).text
    assert "Reports resolved." in page and "Nothing to look at" in page
    resolved = (await get(mod, "/moderation?status=resolved")).text
    assert "Loud noise" in resolved and "Noise" in resolved
    assert ("modmolly", "resolve", "song", "hide: Noise") in await audit_rows(harness)

    again = await post(mod, f"/moderation/reports/{report['_id']}/resolve", action="dismiss")
    assert again.status_code == 409
    assert "This report is resolved already." in again.text


async def test_forms_without_the_pages_token_are_refused(harness: Harness) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory)
    report = await reported(jane, "song", song["_id"])
    for token in (None, "another-token-of-32-characters!!"):
        path = f"/moderation/reports/{report['_id']}/resolve"
        refused = await post(mod, path, token=token, action="hide")
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
        refused = await post(mod, f"/moderation/songs/{song['_id']}/takedown", token, reason="x")
        assert refused.status_code == 403
    assert await song_status(jane, song["_id"]) == 200
    assert await audit_rows(harness) == []


async def test_bad_input_is_answered_4xx_with_why_on_the_page(harness: Harness) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory)
    report = await reported(jane, "song", song["_id"])

    empty = await post(mod, f"/moderation/songs/{song['_id']}/takedown", reason="  ")
    assert empty.status_code == 400
    assert "Reason: String should have at least 1 character" in empty.text
    assert 'role="alert"' in empty.text and "Take the song down" in empty.text
    past = await post(
        mod, f"/moderation/users/{mallory.id}/ban", reason="Spam", until="2001-01-01T00:00"
    )
    assert past.status_code == 400 and "Until: Must be in the future." in past.text
    action = await post(mod, f"/moderation/reports/{report['_id']}/resolve", action="explode")
    assert action.status_code == 400 and "Action: Input should be" in action.text
    unknown = await post(mod, "/moderation/songs/0190a0a0-0000-7000-8000-000000000000/restore")
    assert unknown.status_code == 404 and "Song not found." in unknown.text
    malformed = await post(mod, "/moderation/songs/not-an-id/restore")
    assert malformed.status_code == 400
    assert await song_status(jane, song["_id"]) == 200
    assert await audit_rows(harness) == []


async def test_a_moderator_cannot_act_on_staff_content(harness: Harness) -> None:
    mod = await staff(harness, "modmolly", "moderator")
    boss = await staff(harness, "bossbob", "admin")
    song = await a_song(harness, boss, "Staff tune")
    refused = await post(mod, f"/moderation/songs/{song['_id']}/takedown", reason="Mine now")
    assert refused.status_code == 403
    assert "Only an admin can act on a moderator" in refused.text
    assert "Staff tune" in refused.text  # the song's page, shown again with why
    banned = await post(mod, f"/moderation/users/{boss.id}/ban", reason="Coup")
    assert banned.status_code == 403
    assert "Only an admin can ban a moderator or an admin." in banned.text
    assert await song_status(mod, song["_id"]) == 200
    assert await audit_rows(harness) == []


async def test_ban_and_unban_from_the_users_page(harness: Harness) -> None:
    mallory = await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory)
    path = f"/moderation/users/{mallory.id}"

    done = await post(mod, f"{path}/ban", reason="Spam", until="2999-01-01T00:00")
    assert (done.status_code, done.headers["location"]) == (303, f"{path}?done=ban")
    page = (await get(mod, done.headers["location"])).text
    assert "User banned." in page and "Banned since" in page and "2999-01-01 00:00 UTC" in page
    assert await song_status(mod, song["_id"]) == 404
    assert (
        await mallory.client.get(f"{API}/users/current-user", headers=mallory.auth)
    ).status_code == 401

    done = await post(mod, f"{path}/unban", reason="Appeal upheld")
    assert done.headers["location"] == f"{path}?done=unban"
    page = (await get(mod, done.headers["location"])).text
    assert "Ban lifted." in page and "Not banned" in page
    assert await song_status(mod, song["_id"]) == 200
    assert [row[1:] for row in await audit_rows(harness)] == [
        ("ban", "user", "Spam"),
        ("unban", "user", "Appeal upheld"),
    ]


async def test_takedown_and_restore_from_the_songs_page(harness: Harness) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory, "Loud noise")
    path = f"/moderation/songs/{song['_id']}"
    await reported(jane, "song", song["_id"])

    done = await post(mod, f"{path}/takedown", reason="Copyright claim")
    assert done.headers["location"] == f"{path}?done=takedown"
    page = (await get(mod, done.headers["location"])).text
    assert "Song taken down." in page and "Copyright claim" in page and "Restore the song" in page
    assert await song_status(jane, song["_id"]) == 404
    assert "Nothing to look at" in (await get(mod, "/moderation")).text  # its report closed

    done = await post(mod, f"{path}/restore")
    assert "Song restored." in (await get(mod, done.headers["location"])).text
    assert await song_status(jane, song["_id"]) == 200


async def test_comments_and_playlists_are_hidden_shown_and_removed_from_the_queue(
    harness: Harness,
) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, jane)
    comment = await a_comment(mallory, song["_id"], "Buy cheap pills")
    playlist = await a_playlist(mallory, "Ads")
    await reported(jane, "comment", comment["_id"])
    await reported(jane, "playlist", playlist["_id"])
    comment_path = f"/moderation/comments/{comment['_id']}"
    playlist_path = f"/moderation/playlists/{playlist['_id']}"

    page = (await get(mod, "/moderation")).text
    assert f'action="{comment_path}/hide"' in page and f'action="{playlist_path}/remove"' in page
    needs_reason = await post(mod, f"{comment_path}/hide")
    assert needs_reason.status_code == 400 and "Reason:" in needs_reason.text
    done = await post(mod, f"{comment_path}/hide", reason="Spam")
    assert done.headers["location"] == "/moderation?status=open&done=comment-hide"
    done = await post(mod, f"{playlist_path}/hide", tab="resolved")
    assert done.headers["location"] == "/moderation?status=resolved&done=playlist-hide"
    resolved = (await get(mod, done.headers["location"])).text
    assert "Playlist hidden." in resolved
    assert f'action="{comment_path}/unhide"' in resolved
    assert f'action="{playlist_path}/unhide"' in resolved

    assert (await post(mod, f"{comment_path}/unhide")).status_code == 303
    assert (await post(mod, f"{playlist_path}/unhide")).status_code == 303
    twice = await post(mod, f"{playlist_path}/unhide")
    assert twice.status_code == 409 and "This playlist is not hidden." in twice.text
    assert (await post(mod, f"{comment_path}/remove", reason="Spam")).status_code == 303
    assert (await post(mod, f"{playlist_path}/remove")).status_code == 303
    assert [row[1:3] for row in await audit_rows(harness)] == [
        ("hide", "comment"),
        ("hide", "playlist"),
        ("unhide", "comment"),
        ("unhide", "playlist"),
        ("remove", "comment"),
        ("remove", "playlist"),
    ]


async def test_an_admin_changes_roles_and_reads_the_audit_log(harness: Harness) -> None:
    jane = await artist(harness)
    boss = await staff(harness, "bossbob", "admin")
    path = f"/moderation/users/{jane.id}"
    assert "Change role" in (await get(boss, path)).text

    done = await post(boss, f"{path}/role", role="moderator")
    assert done.headers["location"] == f"{path}?done=role"
    assert "<dt>Role</dt><dd>moderator</dd>" in (await get(boss, done.headers["location"])).text
    bad = await post(boss, f"{path}/role", role="emperor")
    assert bad.status_code == 400 and "Role:" in bad.text
    last = await post(boss, f"/moderation/users/{boss.id}/role", role="user")
    assert last.status_code == 409 and "This is the last admin" in last.text

    log = (await get(boss, "/moderation/audit")).text
    assert "user -&gt; moderator" in log and "@bossbob" in log
    mine = (await get(boss, f"/moderation/audit?targetType=user&targetId={boss.id}")).text
    assert "Nothing has been done yet." in mine


async def test_the_audit_log_pages_newest_first(harness: Harness) -> None:
    boss = await staff(harness, "bossbob", "admin")
    jane = await artist(harness)
    for n in range(21):
        await post(boss, f"/moderation/users/{jane.id}/role", role=("moderator", "user")[n % 2])
    first = (await get(boss, "/moderation/audit")).text
    assert "Page 1 of 2" in first and 'href="/moderation/audit?page=2"' in first
    assert first.index("user -&gt; moderator") < first.index("moderator -&gt; user")
    second = (await get(boss, "/moderation/audit?page=2")).text
    assert second.count("<tr>") == 2  # the header and the oldest entry


# -- in a browser


async def signed_in(browser: Browser, site: str, harness: Harness, who: Artist) -> Page:
    """A tab of ``who``'s own, signed in."""
    context = await browser.new_context(base_url=site)
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    await sign_in(harness, tab, who)
    return tab


async def test_a_moderator_takes_a_reported_song_down_and_the_listener_loses_it(
    harness: Harness, browser: Browser, site: str
) -> None:
    jane, fan = await artist(harness), await artist(harness, "fan")
    song = await a_song(harness, jane, "Stolen tune")
    mod = await staff(harness, "modmolly", "moderator")
    boss = await staff(harness, "bossbob", "admin")
    listener = await signed_in(browser, site, harness, fan)
    await listener.goto(f"/songs/{song['_id']}")
    await expect(listener.get_by_role("heading", name="Stolen tune")).to_be_visible()
    await listener.get_by_text("Report this song").click()
    await listener.get_by_label("Reason").select_option("copyright")
    await listener.get_by_label("Note for the moderators").fill("My band's song")
    await listener.get_by_role("button", name="Send report").click()
    await expect(listener.get_by_text("a moderator will look at this song")).to_be_visible()

    moderator = await signed_in(browser, site, harness, mod)
    await moderator.goto("/")
    await moderator.get_by_role("link", name="Moderation").click()
    await expect(moderator.get_by_role("heading", name="Open reports")).to_be_visible()
    report = moderator.get_by_role("article", name=re.compile("Stolen tune"))
    await expect(report).to_contain_text("My band's song")
    await report.get_by_role("link", name="“Stolen tune”").click()
    await expect(moderator.get_by_role("heading", name="Stolen tune")).to_be_visible()
    await moderator.get_by_label("Reason (shown to the owner)").fill("Copyright claim")
    await moderator.get_by_role("button", name="Take the song down").click()
    await expect(moderator.get_by_role("status")).to_have_text("Song taken down.")
    await expect(moderator.get_by_role("button", name="Restore the song")).to_be_visible()

    answer = await listener.goto(f"/songs/{song['_id']}")
    assert answer is not None and answer.status == 404
    await listener.goto("/")
    await expect(listener.get_by_role("heading", name="New music")).to_be_visible()
    await expect(listener.get_by_role("link", name="Stolen tune")).to_have_count(0)

    admin = await signed_in(browser, site, harness, boss)
    await admin.goto("/moderation/audit")
    row = admin.get_by_role("row", name=re.compile("takedown"))
    await expect(row).to_contain_text("@modmolly")
    await expect(row).to_contain_text("Copyright claim")
    for tab in (listener, moderator, admin):
        await tab.context.close()


async def test_the_queue_works_at_phone_width(harness: Harness, phone: Page) -> None:
    jane, mallory = await artist(harness), await artist(harness, "mallory")
    mod = await staff(harness, "modmolly", "moderator")
    song = await a_song(harness, mallory, "Loud noise")
    await reported(jane, "song", song["_id"])
    await sign_in(harness, phone, mod)
    await phone.goto("/moderation")
    await phone.get_by_label("Action").select_option("dismiss")
    await phone.get_by_label("Note").fill("Sounds fine to me")
    await phone.get_by_role("button", name="Resolve").click()
    await expect(phone.get_by_role("status")).to_have_text("Reports resolved.")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
