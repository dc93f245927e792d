"""The audit log: every moderator's action, newest first, for admins only, filtered by
actor or target; no route changes or deletes an entry."""

from __future__ import annotations

from tests.conftest import Harness
from tests.moderation.support import (
    AUDIT,
    a_playlist,
    a_song,
    act,
    acted,
    fetch,
)
from tests.songs.support import PAGE_FIELDS, Artist, assert_error

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


async def test_every_action_is_in_the_log_newest_first(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist, boss: Artist
) -> None:
    song = await a_song(harness, mallory)
    playlist = await a_playlist(mallory)
    await acted(boss, f"/users/{jane.id}/role", {"role": "moderator"})
    await acted(mod, f"/songs/{song['_id']}/takedown", {"reason": "Stolen"})
    await acted(mod, f"/songs/{song['_id']}/restore", {"reason": "Licence shown"})
    await acted(mod, f"/playlists/{playlist['_id']}/hide", {"reason": "Spam"})
    await acted(boss, f"/users/{mallory.id}/ban", {"reason": "Spammer"})
    await acted(boss, f"/users/{mallory.id}/unban")

    page = await fetch(boss, AUDIT, limit=100)
    assert set(page) == PAGE_FIELDS and page["totalDocs"] == 6
    entries = [(d["actorName"], d["action"], d["targetType"], d["reason"]) for d in page["docs"]]
    assert entries == [
        ("bossbob", "unban", "user", ""),
        ("bossbob", "ban", "user", "Spammer"),
        ("modmolly", "hide", "playlist", "Spam"),
        ("modmolly", "restore", "song", "Licence shown"),
        ("modmolly", "takedown", "song", "Stolen"),
        ("bossbob", "role", "user", "user -> moderator"),
    ]
    first = page["docs"][-1]
    assert set(first) == {
        "_id",
        "actorId",
        "actorName",
        "action",
        "targetType",
        "targetId",
        "reason",
        "createdAt",
    }
    assert first["actorId"] == boss.id and first["targetId"] == jane.id

    # By actor, by target, by both; by cursor.
    by_mod = await fetch(boss, AUDIT, actor=mod.id)
    assert [d["action"] for d in by_mod["docs"]] == ["hide", "restore", "takedown"]
    on_song = await fetch(boss, AUDIT, targetId=song["_id"])
    assert [d["action"] for d in on_song["docs"]] == ["restore", "takedown"]
    users = await fetch(boss, AUDIT, targetType="user", actor=boss.id)
    assert users["totalDocs"] == 3
    page = await fetch(boss, AUDIT, limit=4)
    rest = await fetch(boss, AUDIT, limit=4, cursor=page["nextCursor"])
    assert len(page["docs"]) == 4 and len(rest["docs"]) == 2 and rest["nextCursor"] is None
    assert (await fetch(boss, AUDIT, actor=UNKNOWN))["docs"] == []
    assert_error(await boss.client.get(AUDIT, params={"actor": "me"}, headers=boss.auth), 400)
    assert_error(
        await boss.client.get(AUDIT, params={"targetType": "album"}, headers=boss.auth), 400
    )


async def test_only_admins_read_it_and_nobody_changes_it(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist, boss: Artist
) -> None:
    await acted(mod, f"/users/{mallory.id}/ban", {"reason": "Spam"})
    assert_error(await mod.client.get(AUDIT, headers=mod.auth), 403)
    assert_error(await jane.client.get(AUDIT, headers=jane.auth), 403)
    assert_error(await jane.client.get(AUDIT), 401)
    (entry,) = (await fetch(boss, AUDIT))["docs"]
    for method in ("PATCH", "PUT", "DELETE", "POST"):
        assert_error(await act(boss, "/audit", {"reason": "edited"}, method), 405)
        assert_error(await act(boss, f"/audit/{entry['_id']}", {"reason": "x"}, method), 404)
    rows = await harness.sql("SELECT actor_name, action, reason FROM audit_log")
    assert [tuple(r) for r in rows] == [("modmolly", "ban", "Spam")]
