"""The moderators' queue: each report with its target as it is now, its reporter (none
for the instance's own flags), the other open reports of its target and its owner's
upheld reports; resolving one resolves every open report of its target and acts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bandstand.db import transaction
from bandstand.models import Comment
from bandstand.moderation.flags import flag_comment
from tests.conftest import Harness
from tests.moderation.support import (
    API,
    QUEUE,
    a_comment,
    a_playlist,
    a_song,
    act,
    acted,
    audit_rows,
    catalogue_size,
    fetch,
    reported,
    staff,
)
from tests.songs.support import PAGE_FIELDS, Artist, artist, assert_error

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


def by_target(page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in page["docs"]:
        found.setdefault(doc["targetId"], []).append(doc)
    return found


async def test_the_queue_shows_each_target_as_it_is_now(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory, "Loud noise")
    comment = await a_comment(mallory, song["_id"], "Buy cheap pills")
    playlist = await a_playlist(mallory, "Ads", public=True)
    fan = await artist(harness, "fan")
    await reported(jane, "song", song["_id"], note="Not music")
    await reported(fan, "song", song["_id"])
    await reported(jane, "comment", comment["_id"])
    await reported(jane, "user", mallory.id)
    await reported(jane, "playlist", playlist["_id"])
    # The instance's own filter files a report with no reporter.
    runtime = harness.app.state.runtime
    async with transaction(runtime.sessionmaker) as session:
        row = await session.get(Comment, uuid.UUID(comment["_id"]))
        assert row is not None
        flag_comment(session, row, "abusive words")

    page = await fetch(mod, QUEUE, limit=100)
    assert set(page) == PAGE_FIELDS and page["totalDocs"] == 6
    docs = by_target(page)
    first_song, second_song = docs[song["_id"]]
    assert first_song["reporter"]["username"] == "janedoe" and first_song["note"] == "Not music"
    assert "email" not in first_song["reporter"]
    assert second_song["reporter"]["username"] == "fan"
    assert first_song["otherOpenReports"] == 1 and second_song["otherOpenReports"] == 1
    assert first_song["target"]["title"] == "Loud noise"
    assert first_song["target"]["hidden"] is False
    assert first_song["targetOwner"]["username"] == "mallory"
    by_user, flagged = docs[comment["_id"]]
    assert by_user["target"]["content"] == "Buy cheap pills"
    assert by_user["target"]["songId"] == song["_id"]
    assert flagged["reporter"] is None and flagged["note"] == "abusive words"
    assert flagged["otherOpenReports"] == 1
    (user,) = docs[mallory.id]
    assert user["target"]["username"] == "mallory" and user["target"]["fullname"] == "Jane Doe"
    (listed,) = docs[playlist["_id"]]
    assert listed["target"]["name"] == "Ads" and listed["target"]["description"] == ""
    # Oldest first: the queue is worked in order.
    ids = [doc["_id"] for doc in page["docs"]]
    assert ids == sorted(ids)
    # Nothing upheld yet; the content changes, the queue shows it as it is now.
    assert {doc["ownerUpheldReports"] for doc in page["docs"]} == {0}
    await acted(mod, f"/songs/{song['_id']}/takedown", {"reason": "Noise"})
    page = await fetch(mod, QUEUE, limit=100)
    assert song["_id"] not in by_target(page)  # acting on it resolved its reports
    assert {doc["ownerUpheldReports"] for doc in page["docs"]} == {2}
    resolved = await fetch(mod, QUEUE, status="resolved")
    assert [doc["action"] for doc in resolved["docs"]] == ["hide", "hide"]
    assert resolved["docs"][0]["target"]["hidden"] is True
    assert resolved["docs"][0]["resolutionNote"] == "Noise"


async def test_the_queue_pages_by_cursor(harness: Harness, jane: Artist, mod: Artist) -> None:
    people = [await artist(harness, f"user{n}") for n in range(5)]
    made = [(await reported(jane, "user", who.id))["_id"] for who in people]
    page = await fetch(mod, QUEUE, limit=2)
    seen = [doc["_id"] for doc in page["docs"]]
    assert page["hasNextPage"] and page["totalPages"] == 3
    while page["nextCursor"]:
        page = await fetch(mod, QUEUE, limit=2, cursor=page["nextCursor"])
        assert page["hasPrevPage"]
        seen += [doc["_id"] for doc in page["docs"]]
    assert seen == made
    assert [d["_id"] for d in (await fetch(mod, QUEUE, page=2, limit=2))["docs"]] == made[2:4]
    assert_error(await mod.client.get(QUEUE, params={"status": "all"}, headers=mod.auth), 400)
    assert_error(await mod.client.get(QUEUE, params={"cursor": "x"}, headers=mod.auth), 400)
    assert_error(await jane.client.get(QUEUE, headers=jane.auth), 403)
    assert_error(await jane.client.get(QUEUE), 401)


async def test_resolve_closes_every_open_report_of_the_target_and_acts(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory)
    fans = [await artist(harness, f"fan{n}") for n in range(3)]
    reports = [await reported(fan, "song", song["_id"]) for fan in fans]
    other = await reported(jane, "user", mallory.id)
    assert await catalogue_size(harness) == 1

    done = await acted(
        mod, f"/reports/{reports[1]['_id']}/resolve", {"action": "hide", "note": "Stolen"}
    )
    assert done == {
        "targetType": "song",
        "targetId": song["_id"],
        "action": "hide",
        "reportsResolved": 3,
    }
    rows = await harness.sql("SELECT status, action, resolution_note FROM reports ORDER BY id")
    assert [tuple(r) for r in rows] == [("resolved", "hide", "Stolen")] * 3 + [("open", None, None)]
    # The song is taken down: out of the catalogue, its owner sees why.
    assert await catalogue_size(harness) == 0
    taken = await harness.sql("SELECT takedown_reason FROM songs")
    assert taken == [("Stolen",)]
    # Each reporter sees the outcome.
    mine = await fetch(fans[0], f"{API}/reports/mine")
    assert mine["docs"][0]["status"] == "resolved" and mine["docs"][0]["action"] == "hide"
    # Resolved already: 409, whichever of its reports is named.
    for report in reports:
        again = await act(mod, f"/reports/{report['_id']}/resolve", {"action": "dismiss"})
        assert_error(again, 409)
    assert await audit_rows(harness) == [
        ("modmolly", "takedown", "song", "Stolen"),
        ("modmolly", "resolve", "song", "hide: Stolen"),
    ]
    assert other["status"] == "open"


async def test_dismiss_changes_nothing_but_the_reports(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory)
    report = await reported(jane, "song", song["_id"])
    done = await acted(mod, f"/reports/{report['_id']}/resolve", {"action": "dismiss"})
    assert done["reportsResolved"] == 1
    assert await harness.sql("SELECT taken_down_at FROM songs") == [(None,)]
    assert await catalogue_size(harness) == 1
    assert (await harness.sql("SELECT banned_at FROM users WHERE username_key = 'mallory'")) == [
        (None,)
    ]
    page = await fetch(mod, QUEUE, status="resolved")
    # A dismissed report is not upheld.
    assert page["docs"][0]["ownerUpheldReports"] == 0


async def test_each_action_on_each_kind_of_target(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory)
    comment = await a_comment(mallory, song["_id"])
    playlist = await a_playlist(mallory)
    other_comment = await a_comment(mallory, song["_id"], "Second")
    other_playlist = await a_playlist(mallory, "Second")

    async def resolve(kind: str, ident: str, action: str) -> None:
        report = await reported(jane, kind, ident)
        await acted(mod, f"/reports/{report['_id']}/resolve", {"action": action})

    await resolve("comment", comment["_id"], "hide")
    held = await harness.sql(
        "SELECT is_held, hidden_at IS NOT NULL FROM comments WHERE content = 'Nice one'"
    )
    assert [tuple(r) for r in held] == [(True, True)]
    await resolve("playlist", playlist["_id"], "hide")
    assert await harness.sql("SELECT name FROM playlists WHERE hidden_at IS NOT NULL") == [("Mix",)]
    await resolve("comment", other_comment["_id"], "remove")
    await resolve("playlist", other_playlist["_id"], "remove")
    assert await harness.sql("SELECT content FROM comments") == [("Nice one",)]
    assert await harness.sql("SELECT name FROM playlists") == [("Mix",)]
    # A user cannot be removed: refused, and the report stays open.
    user_report = await reported(jane, "user", mallory.id)
    refused = await act(mod, f"/reports/{user_report['_id']}/resolve", {"action": "remove"})
    assert_error(refused, 400)
    # Removing a song deletes it; then banning its owner through a report of them.
    await resolve("song", song["_id"], "remove")
    await harness.settle()
    assert await harness.sql("SELECT id FROM songs") == []
    await acted(mod, f"/reports/{user_report['_id']}/resolve", {"action": "ban", "note": "Spam"})
    assert await harness.sql("SELECT ban_reason FROM users WHERE username_key = 'mallory'") == [
        ("Spam",)
    ]
    assert_error(await mallory.client.get(f"{API}/users/current-user", headers=mallory.auth), 401)
    actions = [row[1] for row in await audit_rows(harness)]
    assert actions == [
        "hide", "resolve", "hide", "resolve", "remove", "resolve", "remove", "resolve",
        "remove", "resolve", "ban", "resolve",
    ]  # fmt: skip


async def test_resolve_refusals(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    report = await reported(jane, "user", mallory.id)
    path = f"/reports/{report['_id']}/resolve"
    assert_error(await act(jane, path, {"action": "dismiss"}), 403)
    assert_error(await act(mallory, path, {"action": "dismiss"}), 403)
    assert_error(await act(mod, path, {"action": "ignore"}), 400)
    assert_error(await act(mod, path, {"action": "dismiss", "status": "open"}), 400)
    assert_error(await act(mod, path, {}), 400)
    assert_error(await act(mod, "/reports/nope/resolve", {"action": "dismiss"}), 400)
    assert_error(await act(mod, f"/reports/{UNKNOWN}/resolve", {"action": "dismiss"}), 404)
    # A moderator's ban through a report follows the ban rules: not themself.
    own = await reported(jane, "user", mod.id)
    assert_error(await act(mod, f"/reports/{own['_id']}/resolve", {"action": "ban"}), 403)
    assert (await harness.sql("SELECT count(*) FROM reports WHERE status = 'open'")) == [(2,)]


async def test_two_moderators_resolving_at_once_act_once(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    other_mod = await staff(harness, "othermod", "moderator")
    song = await a_song(harness, mallory)
    fan = await artist(harness, "fan")
    first = await reported(jane, "song", song["_id"])
    second = await reported(fan, "song", song["_id"])
    answers = await asyncio.gather(
        act(mod, f"/reports/{first['_id']}/resolve", {"action": "hide", "note": "A"}),
        act(other_mod, f"/reports/{second['_id']}/resolve", {"action": "hide", "note": "B"}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert await catalogue_size(harness) == 0
    notes = await harness.sql("SELECT DISTINCT resolution_note FROM reports")
    assert len(notes) == 1
    actions = [row[1] for row in await audit_rows(harness)]
    assert actions == ["takedown", "resolve"]
