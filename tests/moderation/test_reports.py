"""Reports: any logged-in user reports what they can see and do not own, once while it is
open, within a budget; they list their reports and what became of them."""

from __future__ import annotations

import uuid

from tests.conftest import Harness
from tests.moderation.support import (
    MINE,
    REPORTS,
    a_comment,
    a_playlist,
    a_song,
    acted,
    fetch,
    report,
    reported,
)
from tests.songs.support import PAGE_FIELDS, Artist, artist, assert_error, error_fields

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


async def test_each_kind_of_target_can_be_reported(
    harness: Harness, jane: Artist, mallory: Artist
) -> None:
    song = await a_song(harness, mallory)
    comment = await a_comment(mallory, song["_id"])
    playlist = await a_playlist(mallory)
    targets = [
        ("song", song["_id"]),
        ("comment", comment["_id"]),
        ("user", mallory.id),
        ("playlist", playlist["_id"]),
    ]
    for kind, ident in targets:
        made = await reported(jane, kind, ident, reason="offensive", note=f"Bad {kind}")
        assert made["targetType"] == kind and made["targetId"] == ident
        assert made["status"] == "open" and made["action"] is None
        assert made["resolvedAt"] is None and made["note"] == f"Bad {kind}"
        assert set(made) == {
            "_id",
            "targetType",
            "targetId",
            "reason",
            "note",
            "status",
            "action",
            "createdAt",
            "resolvedAt",
        }
    owners = await harness.sql("SELECT DISTINCT target_owner_id FROM reports")
    assert len(owners) == 1


async def test_what_cannot_be_reported(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    mine = await a_song(harness, jane)
    theirs = await a_song(harness, mallory)
    secret = await a_playlist(mallory, "Secret", public=False)
    own_playlist = await a_playlist(jane, "Mine", public=False)
    # Own content: 400, naming the target.
    for kind, ident in (
        ("song", mine["_id"]),
        ("user", jane.id),
        ("playlist", own_playlist["_id"]),
    ):
        refused = await report(jane, kind, ident)
        assert_error(refused, 400)
        assert error_fields(refused) == {"targetId"}
    # What they cannot see is what does not exist: 404.
    assert_error(await report(jane, "playlist", secret["_id"]), 404)
    for kind in ("song", "comment", "user", "playlist"):
        assert_error(await report(jane, kind, UNKNOWN), 404)
    # A taken-down song is gone for everyone but its owner.
    await acted(mod, f"/songs/{theirs['_id']}/takedown", {"reason": "Stolen"})
    assert_error(await report(jane, "song", theirs["_id"]), 404)
    # Malformed input: 400 with the field named.
    for body, field in (
        ({"targetType": "album", "targetId": UNKNOWN, "reason": "spam"}, "targetType"),
        ({"targetType": "song", "targetId": "nope", "reason": "spam"}, "targetId"),
        ({"targetType": "song", "targetId": UNKNOWN, "reason": "boring"}, "reason"),
        ({"targetType": "song", "targetId": UNKNOWN, "reason": "spam", "note": "x" * 1001}, "note"),
    ):
        refused = await jane.client.post(REPORTS, json=body, headers=jane.auth)
        assert_error(refused, 400)
        assert field in error_fields(refused), refused.text
    # Fields a reporter may not set.
    extra = {"targetType": "user", "targetId": mallory.id, "reason": "spam", "status": "resolved"}
    assert_error(await jane.client.post(REPORTS, json=extra, headers=jane.auth), 400)
    # Without a login.
    anonymous = await jane.client.post(
        REPORTS, json={"targetType": "user", "targetId": mallory.id, "reason": "spam"}
    )
    assert_error(anonymous, 401)
    assert await harness.sql("SELECT id FROM reports") == []


async def test_one_open_report_per_reporter_and_target(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    first = await reported(jane, "user", mallory.id)
    assert_error(await report(jane, "user", mallory.id, reason="other"), 409)
    # Someone else may report the same target.
    other = await a_playlist(mod)
    await reported(mallory, "playlist", other["_id"])
    await acted(mod, f"/reports/{first['_id']}/resolve", {"action": "dismiss"})
    # Once it is resolved, a new report of the target is a new case.
    again = await reported(jane, "user", mallory.id)
    assert again["_id"] != first["_id"]


async def test_reports_are_throttled_per_user(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(limit_reports_per_user="3/hour")
    jane = await artist(harness)
    others = [await artist(harness, f"user{n}") for n in range(5)]
    for who in others[:3]:
        await reported(jane, "user", who.id)
    flooded = await report(jane, "user", others[3].id)
    assert_error(flooded, 429)
    assert int(flooded.headers["Retry-After"]) >= 1
    # Refused reports spent the budget too: probing ids is throttled as well.
    assert_error(await report(jane, "song", UNKNOWN), 429)
    # Another user has a budget of their own.
    await reported(others[0], "user", others[4].id)


async def test_my_reports_with_their_outcome_by_page_and_cursor(
    harness: Harness, jane: Artist, mod: Artist
) -> None:
    people = [await artist(harness, f"user{n}") for n in range(5)]
    made = [await reported(jane, "user", who.id) for who in people]
    # Someone else's reports are not in jane's list.
    await reported(people[0], "user", people[1].id)
    await acted(mod, f"/reports/{made[0]['_id']}/resolve", {"action": "ban", "note": "Yes"})

    page = await fetch(jane, MINE, limit=2)
    assert set(page) == PAGE_FIELDS
    assert page["totalDocs"] == 5 and page["totalPages"] == 3 and page["hasNextPage"]
    seen = [doc["_id"] for doc in page["docs"]]
    while page["nextCursor"]:
        page = await fetch(jane, MINE, limit=2, cursor=page["nextCursor"])
        seen += [doc["_id"] for doc in page["docs"]]
    # Newest first.
    assert seen == [r["_id"] for r in reversed(made)]
    oldest = (await fetch(jane, MINE, page=3, limit=2))["docs"][0]
    assert oldest["_id"] == made[0]["_id"]
    assert oldest["status"] == "resolved" and oldest["action"] == "ban"
    assert oldest["resolvedAt"] is not None
    # The moderator's note and identity are theirs, not the reporter's.
    assert "resolutionNote" not in oldest and "reporter" not in oldest
    assert_error(await jane.client.get(MINE, params={"cursor": "!!"}, headers=jane.auth), 400)
    assert_error(await jane.client.get(MINE), 401)
    assert uuid.UUID(oldest["targetId"]) == uuid.UUID(people[0].id)
