"""Comment likes: idempotent, in the table before the answer, and counts that never drift
from it, however concurrent."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.comments.support import (
    a_song,
    act,
    commented,
    db_id,
    flush,
    like_column,
    like_rows,
    listing,
    pending_likes,
    people,
    walk,
)
from tests.conftest import Harness
from tests.songs.support import Artist


async def _verb(who: Artist, comment_id: str, verb: str) -> dict[str, Any]:
    response = await act(who, comment_id, verb)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _shown(who: Artist, song_id: str) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in walk((await listing(who, song_id, limit=100))["docs"])}


async def test_liking_twice_is_once_and_unliking_nothing_is_nothing(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    comment = await commented(ann, song["_id"])
    cid = comment["_id"]

    assert await _verb(bob, cid, "unlike") == {"_id": cid, "likeCount": 0, "likedByMe": False}
    liked = await act(bob, cid, "like")
    assert liked.json()["message"] == "Comment liked successfully."
    assert liked.json()["data"] == {"_id": cid, "likeCount": 1, "likedByMe": True}
    assert (await _verb(bob, cid, "like"))["likeCount"] == 1
    # In the table before the answer; the count waits in the store, and reads add it.
    assert await like_rows(harness, cid) == 1 and await like_column(harness, cid) == 0
    shown = (await _shown(bob, song["_id"]))[cid]
    assert (shown["likeCount"], shown["likedByMe"]) == (1, True)
    assert (await _shown(ann, song["_id"]))[cid]["likedByMe"] is False
    await flush(harness)
    assert await like_column(harness, cid) == 1 and await pending_likes(harness, cid) == 0
    assert (await _verb(ann, cid, "like"))["likeCount"] == 2
    assert await _verb(bob, cid, "unlike") == {"_id": cid, "likeCount": 1, "likedByMe": False}
    assert (await _verb(bob, cid, "unlike"))["likeCount"] == 1
    shown = (await _shown(ann, song["_id"]))[cid]
    assert (shown["likeCount"], shown["likedByMe"]) == (1, True)
    await flush(harness)
    assert await like_column(harness, cid) == 1 == await like_rows(harness, cid)


async def test_like_storms_end_with_counts_equal_to_the_table(harness: Harness) -> None:
    owner, *fans = await people(harness, "owner", *(f"fan{n}" for n in range(8)))
    song = await a_song(harness, owner)
    top = await commented(fans[0], song["_id"], "Top")
    reply = await commented(fans[1], song["_id"], "Reply", parent=top["_id"])
    targets = [top["_id"], reply["_id"]]
    rng = random.Random(7)
    requests = [
        (fan, target, rng.choice(("like", "unlike")))
        for _ in range(6)
        for fan in fans
        for target in targets
    ]
    rng.shuffle(requests)

    async def storm(part: list[tuple[Artist, str, str]]) -> None:
        answers = await asyncio.gather(*(act(f, t, verb) for f, t, verb in part))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]

    half = len(requests) // 2
    # A flush in the middle of the storm must neither lose nor double a delta.
    await asyncio.gather(storm(requests[:half]), flush(harness))
    await storm(requests[half:])
    # One listener, fifty likes at once: one like; then fifty unlikes at once: none.
    solo = fans[-1]
    answers = await asyncio.gather(*(act(solo, top["_id"], "like") for _ in range(50)))
    assert {a.json()["data"]["likedByMe"] for a in answers} == {True}
    await asyncio.gather(*(act(solo, reply["_id"], "unlike") for _ in range(50)))

    shown = await _shown(owner, song["_id"])
    for target in targets:
        truth = await like_rows(harness, target)
        assert shown[target]["likeCount"] == truth
    assert await harness.sql(
        "SELECT count(*) FROM comment_likes WHERE user_id = :u AND comment_id = :c",
        u=db_id(harness, solo.id),
        c=db_id(harness, top["_id"]),
    ) == [(1,)]
    await flush(harness)
    for target in targets:
        assert await like_column(harness, target) == await like_rows(harness, target)
        assert await pending_likes(harness, target) == 0
        assert (await _verb(owner, target, "unlike"))["likeCount"] == await like_rows(
            harness, target
        )


async def test_each_listener_sees_their_own_likes_at_every_depth(harness: Harness) -> None:
    owner, ann, bob, cat = await people(harness, "owner", "ann", "bob", "cat")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    reply = await commented(bob, song["_id"], "Reply", parent=top["_id"])
    deeper = await commented(ann, song["_id"], "Deeper", parent=reply["_id"])
    other = await commented(bob, song["_id"], "Other")
    await _verb(bob, deeper["_id"], "like")
    await _verb(cat, reply["_id"], "like")
    await _verb(cat, other["_id"], "like")

    expected: list[tuple[Artist, set[str]]] = [
        (owner, set()),
        (ann, set()),
        (bob, {deeper["_id"]}),
        (cat, {reply["_id"], other["_id"]}),
    ]
    for _ in range(2):  # the second time round, from the page kept for everyone
        for who, likes in expected:
            shown = await _shown(who, song["_id"])
            assert {i for i, doc in shown.items() if doc["likedByMe"]} == likes, who.user
            assert shown[deeper["_id"]]["likeCount"] == 1
            assert shown[reply["_id"]]["likeCount"] == 1
            assert shown[top["_id"]]["likeCount"] == 0
    # A new like shows at once, to the liker and in everyone's counts.
    await _verb(ann, top["_id"], "like")
    assert (await _shown(ann, song["_id"]))[top["_id"]]["likedByMe"] is True
    assert (await _shown(cat, song["_id"]))[top["_id"]]["likeCount"] == 1
