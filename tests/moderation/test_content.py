"""Moderators' direct actions on content: song takedowns and restores, hidden and removed
comments and playlists. Each is 403 to a user, 401 to a stranger, 400 for a malformed id,
404 for an unknown one, and 409 when it is in that state already."""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness
from tests.moderation.support import (
    API,
    a_comment,
    a_playlist,
    a_song,
    act,
    acted,
    audit_rows,
    catalogue_size,
    db_id,
    fetch,
)
from tests.songs.support import Artist, assert_error

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


async def refusals(
    harness: Harness,
    user: Artist,
    mod: Artist,
    path: str,
    body: dict[str, Any] | None,
    method: str = "POST",
) -> None:
    """``path`` has ``{id}`` where the target's id goes."""
    real = path.format(id=UNKNOWN)
    assert_error(await act(user, real, body, method), 403)
    anonymous = await user.client.request(method, f"{API}/admin{real}", json=body)
    assert_error(anonymous, 401)
    assert_error(await act(mod, path.format(id="nope"), body, method), 400)
    assert_error(await act(mod, real, body, method), 404)


async def test_takedown_and_restore(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory)
    await a_song(harness, jane)
    assert await catalogue_size(harness) == 2
    path = f"/songs/{song['_id']}/takedown"
    assert_error(await act(mallory, path, {"reason": "Mine"}), 403)
    assert_error(await act(mod, path, {}), 400)
    assert_error(await act(mod, path, {"reason": "  "}), 400)
    assert_error(await act(mod, path, {"reason": "x", "takenDownAt": None}), 400)

    down = await acted(mod, path, {"reason": "Copyright claim"})
    assert down["takenDownAt"] and down["takedownReason"] == "Copyright claim"
    assert down["owner"] == mallory.id
    assert await catalogue_size(harness) == 1
    assert_error(await act(mod, path, {"reason": "Again"}), 409)
    assert await catalogue_size(harness) == 1

    up = await acted(mod, f"/songs/{song['_id']}/restore")
    assert up["takenDownAt"] is None and up["takedownReason"] is None
    assert await catalogue_size(harness) == 2
    assert_error(await act(mod, f"/songs/{song['_id']}/restore"), 409)
    assert await catalogue_size(harness) == 2
    await refusals(harness, jane, mod, "/songs/{id}/takedown", {"reason": "x"})
    await refusals(harness, jane, mod, "/songs/{id}/restore", None)
    assert await audit_rows(harness) == [
        ("modmolly", "takedown", "song", "Copyright claim"),
        ("modmolly", "restore", "song", ""),
    ]


async def test_a_moderator_removes_a_song(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, mallory)
    path = f"/songs/{song['_id']}"
    assert_error(await act(mod, path, None, "DELETE"), 400)  # a reason is required
    assert_error(await act(jane, path, {"reason": "x"}, "DELETE"), 403)
    assert (await act(mod, path, {"reason": "Illegal"}, "DELETE")).status_code == 200
    await harness.settle()
    assert await harness.sql("SELECT id FROM songs") == []
    assert await catalogue_size(harness) == 0
    await refusals(harness, jane, mod, "/songs/{id}", {"reason": "x"}, "DELETE")
    assert await audit_rows(harness) == [("modmolly", "remove", "song", "Illegal")]


async def test_hide_unhide_and_remove_comments(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    song = await a_song(harness, jane)
    comment = await a_comment(mallory, song["_id"], "Rude words")
    keep = await a_comment(mallory, song["_id"], "Kind words")
    path = f"/comments/{comment['_id']}"

    hidden = await acted(mod, f"{path}/hide", {"reason": "Rude"})
    assert hidden["isHeld"] is True and hidden["hiddenAt"]
    assert hidden["song"] == song["_id"] and hidden["owner"] == mallory.id
    # Its author still sees it, held, and is told why.
    theirs = await fetch(mallory, f"{API}/comments/{song['_id']}/comments")
    assert {(c["_id"], c["isHeld"], c["hiddenReason"]) for c in theirs["docs"]} == {
        (comment["_id"], True, "Rude"),
        (keep["_id"], False, None),
    }
    assert_error(await act(mod, f"{path}/hide", {"reason": "Rude"}), 409)
    # The song's owner cannot approve what a moderator hid.
    approve = await jane.client.post(f"{API}/comments/{comment['_id']}/approve", headers=jane.auth)
    assert approve.status_code in (403, 409), approve.text

    shown = await acted(mod, f"{path}/unhide")
    assert shown["isHeld"] is False and shown["hiddenAt"] is None
    theirs = await fetch(mallory, f"{API}/comments/{song['_id']}/comments")
    assert {c["hiddenReason"] for c in theirs["docs"]} == {None}
    assert_error(await act(mod, f"{path}/unhide"), 409)

    assert_error(await act(mod, path, None, "DELETE"), 400)
    assert (await act(mod, path, {"reason": "Spam"}, "DELETE")).status_code == 200
    rows = await harness.sql("SELECT id FROM comments")
    assert rows == [(db_id(harness, keep["_id"]),)]
    assert_error(await act(mod, path, {"reason": "Spam"}, "DELETE"), 404)
    await refusals(harness, jane, mod, "/comments/{id}/hide", {"reason": "x"})
    await refusals(harness, jane, mod, "/comments/{id}/unhide", None)
    await refusals(harness, jane, mod, "/comments/{id}", {"reason": "x"}, "DELETE")
    assert await audit_rows(harness) == [
        ("modmolly", "hide", "comment", "Rude"),
        ("modmolly", "unhide", "comment", ""),
        ("modmolly", "remove", "comment", "Spam"),
    ]


async def test_hide_unhide_and_remove_playlists(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    playlist = await a_playlist(mallory, "Hate mix")
    secret = await a_playlist(mallory, "Private", public=False)
    path = f"/playlists/{playlist['_id']}"
    hidden = await acted(mod, f"{path}/hide", {"reason": "Hateful name"})
    assert hidden["hiddenAt"] and hidden["playlist_name"] == "Hate mix"
    # Its owner still has it, and is told why; nobody else sees it.
    mine = await fetch(mallory, f"{API}/playlist/get/{playlist['_id']}")
    assert mine["hiddenReason"] == "Hateful name"
    listed = await fetch(mallory, f"{API}/playlist/get")
    assert {p["hiddenReason"] for p in listed["docs"]} == {"Hateful name", None}
    gone = await jane.client.get(f"{API}/playlist/get/{playlist['_id']}", headers=jane.auth)
    assert gone.status_code == 404
    assert_error(await act(mod, f"{path}/hide"), 409)
    # A private playlist is no secret to a moderator acting on it.
    assert (await acted(mod, f"/playlists/{secret['_id']}/hide"))["hiddenAt"]
    assert (await acted(mod, f"{path}/unhide"))["hiddenAt"] is None
    assert (await fetch(mallory, f"{API}/playlist/get/{playlist['_id']}"))["hiddenReason"] is None
    assert_error(await act(mod, f"{path}/unhide"), 409)
    assert (await act(mod, path, None, "DELETE")).status_code == 200
    assert await harness.sql("SELECT name FROM playlists") == [("Private",)]
    assert_error(await act(mod, f"{path}/hide"), 404)
    await refusals(harness, jane, mod, "/playlists/{id}/hide", None)
    await refusals(harness, jane, mod, "/playlists/{id}/unhide", None)
    await refusals(harness, jane, mod, "/playlists/{id}", None, "DELETE")
    actions = [row[1:3] for row in await audit_rows(harness)]
    assert actions == [
        ("hide", "playlist"),
        ("hide", "playlist"),
        ("unhide", "playlist"),
        ("remove", "playlist"),
    ]


async def test_bodies_are_json_with_known_fields_only(
    harness: Harness, mallory: Artist, mod: Artist
) -> None:
    playlist = await a_playlist(mallory)
    path = f"{API}/admin/playlists/{playlist['_id']}/hide"
    form = await mod.client.post(path, data={"reason": "x"}, headers=mod.auth)
    assert_error(form, 415)
    assert_error(await act(mod, f"/playlists/{playlist['_id']}/hide", {"why": "x"}), 400)
    assert await harness.sql("SELECT hidden_at FROM playlists") == [(None,)]
