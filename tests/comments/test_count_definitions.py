"""What each comment count includes, the same wherever it is shown: ``replyCount`` is every
reply beneath a comment that the caller can see (a top-level comment's is its thread's
``totalDocs``), and a song's ``commentCount``, its analytics' comment total and its
sentiment ``Total`` all count the comments and replies that are not held, by authors who
are not banned."""

from __future__ import annotations

from typing import Any

from bandstand.engagement.counters.flush import rebuild_counters
from tests.comments.support import (
    ABUSE,
    COMMENTS,
    a_song,
    comment_count,
    commented,
    people,
    runtime,
)
from tests.comments.support import flush as flush_counters
from tests.conftest import Harness
from tests.moderation.support import acted, staff
from tests.schema_check import assert_conforms
from tests.songs.support import Artist


async def _thread_total(harness: Harness, who: Artist, comment_id: str) -> int:
    response = await who.client.get(f"{COMMENTS}/{comment_id}/replies", headers=who.auth)
    assert response.status_code == 200, response.text
    # Rendered by hand (a busy route): checked against its schema.
    assert_conforms(harness.app, "GET", f"{COMMENTS}/{{commentId}}/replies", response.json())
    return int(response.json()["data"]["totalDocs"])


async def _listing(harness: Harness, who: Artist, song_id: str) -> dict[str, Any]:
    response = await who.client.get(f"{COMMENTS}/{song_id}/comments", headers=who.auth)
    assert response.status_code == 200, response.text
    assert_conforms(harness.app, "GET", f"{COMMENTS}/{{songId}}/comments", response.json())
    data: dict[str, Any] = response.json()["data"]
    return data


async def _data(who: Artist, path: str) -> dict[str, Any]:
    response = await who.client.get(path, headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_reply_count_is_what_the_thread_lists(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    direct = [
        (await commented(bob, song["_id"], f"r{n}", parent=top["_id"]))["_id"] for n in range(5)
    ]
    await commented(ann, song["_id"], "A reply to a reply", parent=direct[1])
    # Held, with the song owner's answer below it: both hidden from everyone else.
    held = await commented(ann, song["_id"], ABUSE, parent=top["_id"])
    assert held["isHeld"]
    await commented(owner, song["_id"], "Please be kind", parent=held["_id"])
    # A like of his own: bob's answers are the shared ones with his like marked.
    liked = await bob.client.post(f"{COMMENTS}/{direct[0]}/like", headers=bob.auth)
    assert liked.status_code == 200, liked.text

    # What each reader is told, and what opening the thread lists to them.
    for who, sees in ((bob, 6), (ann, 8), (owner, 8)):
        shown = (await _listing(harness, who, song["_id"]))["docs"][0]
        assert shown["_id"] == top["_id"]
        total = await _thread_total(harness, who, top["_id"])
        assert shown["replyCount"] == sees == total, who.user
        # A reply's count is what is beneath it too.
        assert shown["replies"][1]["replyCount"] == 1


async def test_comment_totals_agree_with_a_held_comment(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "What a lovely tune")
    await commented(bob, song["_id"], "Agreed, lovely", parent=top["_id"])
    assert (await commented(bob, song["_id"], ABUSE))["isHeld"]

    for when in ("pending", "flushed"):
        counted = await comment_count(owner, song["_id"])
        analytics = await _data(owner, f"/api/v1/analytics/{song['_id']}")
        sentiment = await _data(owner, f"{COMMENTS}/analytics/{song['_id']}")
        assert counted == 2, when
        assert analytics["totals"]["comments"] == 2, when
        assert analytics["sentiment"]["Total"] == 2, when
        assert sentiment["Payload"]["Total"] == 2, when
        await flush_counters(harness)


async def _counts(owner: Artist, song_id: str) -> tuple[int, int, int]:
    analytics = await _data(owner, f"/api/v1/analytics/{song_id}")
    sentiment = await _data(owner, f"{COMMENTS}/analytics/{song_id}")
    return (
        await comment_count(owner, song_id),
        analytics["sentiment"]["Total"],
        sentiment["Payload"]["Total"],
    )


async def test_a_banned_users_comments_leave_the_counts_and_come_back(harness: Harness) -> None:
    owner, mallory, bob = await people(harness, "owner", "mallory", "bob")
    mod = await staff(harness, "mod", "moderator")
    song = await a_song(harness, owner)
    top = await commented(mallory, song["_id"], "First")
    await commented(mallory, song["_id"], "A reply", parent=top["_id"])
    await commented(bob, song["_id"], "Second")
    assert await _counts(owner, song["_id"]) == (3, 3, 3)

    await acted(mod, f"/users/{mallory.id}/ban", {"reason": "Spam"})
    listing = await _listing(harness, bob, song["_id"])
    assert listing["totalDocs"] == 1
    for when in ("pending", "flushed", "rebuilt"):
        assert await _counts(owner, song["_id"]) == (1, 1, 1), when
        if when == "pending":
            await flush_counters(harness)
        else:
            await rebuild_counters(runtime(harness))

    await acted(mod, f"/users/{mallory.id}/unban", {"reason": "Appeal"})
    for when in ("pending", "flushed"):
        assert await _counts(owner, song["_id"]) == (3, 3, 3), when
        await flush_counters(harness)
