"""Sentiment and moderation: scores, flags, held comments that only their author and the
song's owner see until approved, and the owner's sentiment breakdown."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from bandstand.comments.service import sentiment_breakdown
from tests.comments.support import (
    ABUSE,
    COMMENTS,
    a_song,
    act,
    comment_count,
    commented,
    flush,
    listing,
    people,
    post,
    runtime,
    seen_ids,
)
from tests.conftest import Harness
from tests.songs.support import assert_error

NICE = "I love this song, it is beautiful!"
PLAIN = "The song is three minutes long."
SAD = "A bit too slow for me, sadly."
LISTED = "Great tune, you w4nker"


async def test_comments_are_scored_and_abuse_is_flagged_and_held(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)

    nice, plain, sad = [await commented(ann, song["_id"], text) for text in (NICE, PLAIN, SAD)]
    assert nice["sentimentScore"] >= 0.05
    assert -0.05 < plain["sentimentScore"] < 0.05
    assert -0.6 < sad["sentimentScore"] <= -0.05
    assert not any(c["isFlagged"] or c["isHeld"] for c in (nice, plain, sad))

    hostile = await post(ann, song["_id"], ABUSE)
    assert hostile.status_code == 201, hostile.text
    assert "approval" in hostile.json()["message"]
    assert hostile.json()["data"]["sentimentScore"] <= -0.6
    # A listed word flags a comment whatever its score.
    listed = await commented(ann, song["_id"], LISTED)
    assert listed["sentimentScore"] > 0.05
    for flagged in (hostile.json()["data"], listed):
        assert flagged["isFlagged"] and flagged["isHeld"]


async def test_held_comments_are_seen_only_by_their_author_and_the_song_owner(
    harness: Harness,
) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    open_one = await commented(bob, song["_id"], "Nice")
    held = await commented(ann, song["_id"], ABUSE)
    held_reply = await commented(ann, song["_id"], ABUSE, parent=open_one["_id"])
    # The owner answers the held comment: not held itself, but under one that is.
    answer = await commented(owner, song["_id"], "Please be kind", parent=held["_id"])
    assert held["isHeld"] and held_reply["isHeld"] and not answer["isHeld"]

    # To a third listener they do not exist.
    assert await seen_ids(bob, song["_id"]) == {open_one["_id"]}
    page = await listing(bob, song["_id"])
    assert page["totalDocs"] == 1 and page["docs"][0]["replyCount"] == 0
    for hidden in (held, held_reply, answer):
        assert_error(await act(bob, hidden["_id"], "like"), 404)
        assert_error(await act(bob, hidden["_id"], "unlike"), 404)
        assert_error(await post(bob, song["_id"], "hm", parent=hidden["_id"]), 404)
        assert_error(await act(bob, hidden["_id"], "delete", "DELETE"), 404)
    assert await harness.sql("SELECT count(*) FROM comment_likes") == [(0,)]

    everything = {open_one["_id"], held["_id"], held_reply["_id"], answer["_id"]}
    for insider in (ann, owner):
        assert await seen_ids(insider, song["_id"]) == everything
        page = await listing(insider, song["_id"])
        assert page["totalDocs"] == 2
        by_id = {doc["_id"]: doc for doc in page["docs"]}
        assert by_id[open_one["_id"]]["replyCount"] == 1
        assert [r["_id"] for r in by_id[held["_id"]]["replies"]] == [answer["_id"]]
    # Insiders may act on them.
    assert (await act(ann, answer["_id"], "like")).status_code == 200
    assert (await post(ann, song["_id"], "Sorry", parent=held["_id"])).status_code == 201
    # Held comments do not count; the two open ones and the apology do.
    assert await comment_count(bob, song["_id"]) == 3

    # The author cannot approve their own; the owner can, once or twice.
    assert_error(await act(ann, held["_id"], "approve"), 403)
    for _ in range(2):
        approved = await act(owner, held["_id"], "approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["data"]["isHeld"] is False
        assert approved.json()["data"]["isFlagged"] is True
    assert approved.json()["data"]["replyCount"] == 2
    assert await comment_count(bob, song["_id"]) == 4
    seen = await seen_ids(bob, song["_id"])
    assert {held["_id"], answer["_id"]} <= seen and held_reply["_id"] not in seen
    assert (await listing(bob, song["_id"]))["totalDocs"] == 2
    await flush(harness)
    assert await comment_count(bob, song["_id"]) == 4


async def test_with_holding_off_flagged_comments_show_at_once(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(hold_flagged_comments=False)
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    hostile = await post(ann, song["_id"], ABUSE)
    assert hostile.json()["message"] == "Comment added successfully."
    data = hostile.json()["data"]
    assert data["isFlagged"] and not data["isHeld"]
    assert await seen_ids(bob, song["_id"]) == {data["_id"]}
    assert (await act(bob, data["_id"], "like")).json()["data"]["likeCount"] == 1
    assert await comment_count(bob, song["_id"]) == 1


async def test_the_owner_sees_how_comments_read(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song, other = await a_song(harness, owner), await a_song(harness, owner, "Other")
    first = await commented(ann, song["_id"], NICE)
    await commented(bob, song["_id"], "Lovely song", parent=first["_id"])
    await commented(bob, song["_id"], PLAIN)
    await commented(bob, song["_id"], SAD, parent=first["_id"])
    await commented(ann, song["_id"], ABUSE)  # held: not counted, as in commentCount
    await commented(ann, other["_id"], NICE)  # another song

    response = await owner.client.get(f"{COMMENTS}/analytics/{song['_id']}", headers=owner.auth)
    assert response.status_code == 200, response.text
    expected = {"Total": 4, "Positive": 2, "Negative": 1, "Neutral": 1}
    assert response.json()["data"] == {"Payload": expected}
    assert await comment_count(owner, song["_id"]) == expected["Total"]
    # The same numbers, for the analytics domain to import.
    async with runtime(harness).read_sessionmaker() as session:
        assert await sentiment_breakdown(session, uuid.UUID(song["_id"])) == expected
        assert await sentiment_breakdown(session, uuid.uuid4()) == {
            "Total": 0,
            "Positive": 0,
            "Negative": 0,
            "Neutral": 0,
        }

    path = f"{COMMENTS}/analytics/{song['_id']}"
    assert_error(await ann.client.get(path, headers=ann.auth), 403)
    assert_error(await harness.client().get(path), 401)
    unknown = await owner.client.get(f"{COMMENTS}/analytics/{uuid.uuid4()}", headers=owner.auth)
    assert_error(unknown, 404)
    assert_error(await owner.client.get(f"{COMMENTS}/analytics/nope", headers=owner.auth), 400)
