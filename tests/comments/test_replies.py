"""A thread's replies: previewed in the listing, paged in full by cursor, flat and oldest
first, as the reader may see them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from bandstand.comments.listing import PREVIEW_REPLIES
from bandstand.comments.recent import Recent
from tests.comments.support import (
    ABUSE,
    COMMENT_FIELDS,
    COMMENT_PAGE_FIELDS,
    COMMENTS,
    a_song,
    act,
    commented,
    listing,
    people,
    runtime,
)
from tests.conftest import Harness
from tests.songs.support import Artist, assert_error, error_fields


async def replies(who: Artist, comment_id: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(
        f"{COMMENTS}/{comment_id}/replies", params=params, headers=who.auth
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def every_reply(who: Artist, comment_id: str, limit: int) -> list[dict[str, Any]]:
    """The whole thread, page by page, by cursor."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await replies(who, comment_id, limit=limit, **({"cursor": cursor} if cursor else {}))
        assert len(page["docs"]) <= limit
        found += page["docs"]
        cursor = page["nextCursor"]
        assert page["hasNextPage"] is (cursor is not None)
        if cursor is None:
            return found


async def test_the_listing_previews_a_thread_and_its_replies_page_to_the_end(
    harness: Harness,
) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    made = [
        (await commented(bob, song["_id"], f"r{n}", parent=top["_id"]))["_id"] for n in range(6)
    ]
    deeper = await commented(ann, song["_id"], "A reply to a reply", parent=made[1])

    shown = (await listing(ann, song["_id"]))["docs"][0]
    # The oldest few of the thread are nested; the count says how many there are, at
    # every depth: what paging the thread lists.
    assert [r["_id"] for r in shown["replies"]] == made[:PREVIEW_REPLIES]
    assert shown["replyCount"] == 7
    assert shown["replies"][1]["replyCount"] == 1

    first = await replies(bob, top["_id"], limit=4)
    assert set(first) == COMMENT_PAGE_FIELDS
    assert (first["totalDocs"], first["totalPages"], first["page"], first["limit"]) == (7, 2, 1, 4)
    assert first["hasNextPage"] and not first["hasPrevPage"]
    for doc in first["docs"]:
        assert set(doc) == COMMENT_FIELDS and doc["replies"] == []

    # Oldest first, every depth, flat: each names its parent.
    thread = await every_reply(bob, top["_id"], limit=2)
    assert [r["_id"] for r in thread] == [*made, deeper["_id"]]
    parents = {r["_id"]: r["parentComment"] for r in thread}
    assert parents[deeper["_id"]] == made[1]
    assert all(parents[r] == top["_id"] for r in made)
    assert thread == await every_reply(bob, top["_id"], limit=100)

    # A thread with no replies is one empty page.
    lonely = await commented(bob, song["_id"], "Nobody answers")
    empty = await replies(ann, lonely["_id"])
    assert (empty["docs"], empty["totalDocs"], empty["nextCursor"]) == ([], 0, None)


async def test_replies_say_who_likes_them_and_count_pending_likes(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    reply = await commented(bob, song["_id"], "A reply", parent=top["_id"])
    assert (await act(ann, reply["_id"], "like")).status_code == 200

    for who, liked in ((ann, True), (bob, False), (owner, False)):
        doc = (await replies(who, top["_id"]))["docs"][0]
        assert (doc["_id"], doc["likeCount"], doc["likedByMe"]) == (reply["_id"], 1, liked)
    assert (await act(ann, reply["_id"], "unlike")).status_code == 200
    doc = (await replies(ann, top["_id"]))["docs"][0]
    assert (doc["likeCount"], doc["likedByMe"]) == (0, False)


async def test_held_replies_are_paged_only_for_their_author_and_the_song_owner(
    harness: Harness,
) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(bob, song["_id"], "Nice")
    open_reply = await commented(bob, song["_id"], "Me again", parent=top["_id"])
    held = await commented(ann, song["_id"], ABUSE, parent=top["_id"])
    # Not held itself, but under a held reply: hidden with it.
    answer = await commented(owner, song["_id"], "Please be kind", parent=held["_id"])
    later = await commented(bob, song["_id"], "Still here", parent=open_reply["_id"])
    assert held["isHeld"] and not answer["isHeld"]

    seen = await every_reply(bob, top["_id"], limit=1)
    assert [r["_id"] for r in seen] == [open_reply["_id"], later["_id"]]
    assert (await replies(bob, top["_id"]))["totalDocs"] == 2
    everything = [open_reply["_id"], held["_id"], answer["_id"], later["_id"]]
    for insider in (ann, owner):
        assert [r["_id"] for r in await every_reply(insider, top["_id"], limit=1)] == everything
        assert (await replies(insider, top["_id"]))["totalDocs"] == 4

    # Approved, the held reply and what is below it show to everyone.
    assert (await act(owner, held["_id"], "approve")).status_code == 200
    assert [r["_id"] for r in await every_reply(bob, top["_id"], limit=3)] == everything


async def _held_since_another_process_tallied(
    harness: Harness, make_harness: Callable[..., Any], keep_pages: bool
) -> tuple[str, Artist, Artist]:
    """A thread whose song another process tallied when nothing was held, then a held
    reply with an answer under it: the thread's id, and its owner and a listener asking
    in that other process."""
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(bob, song["_id"], "Nice")
    other: Harness = await make_harness()
    if not keep_pages:
        runtime(other).comment_answers = Recent(page_ttl_s=0)
    owner_there, bob_there = (
        Artist(user=p.user, auth=p.auth, client=other.client()) for p in (owner, bob)
    )
    # A page of five: the pages asked for later, of the default size, are not kept yet.
    assert (await replies(bob_there, top["_id"], limit=5))["docs"] == []
    held = await commented(ann, song["_id"], ABUSE, parent=top["_id"])
    answer = await commented(ann, song["_id"], "Sorry, everyone", parent=held["_id"])
    assert held["isHeld"] and not answer["isHeld"]
    return top["_id"], owner_there, bob_there


async def test_another_process_hides_a_reply_under_a_comment_held_since_its_tally(
    harness: Harness, make_harness: Callable[..., Any]
) -> None:
    top, _, bob_there = await _held_since_another_process_tallied(
        harness, make_harness, keep_pages=False
    )
    page = await replies(bob_there, top)
    assert (page["docs"], page["totalDocs"]) == ([], 0)


async def test_the_owner_asking_first_does_not_open_the_shared_page(
    harness: Harness, make_harness: Callable[..., Any]
) -> None:
    top, owner_there, bob_there = await _held_since_another_process_tallied(
        harness, make_harness, keep_pages=True
    )
    # By its stale tally the owner sees what everyone sees: the page made for the owner
    # is the one everyone gets, so it hides what is below the held comment.
    await replies(owner_there, top)
    page = await replies(bob_there, top)
    assert (page["docs"], page["totalDocs"]) == ([], 0)


async def test_a_held_or_unknown_thread_is_404_to_others(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    held = await commented(ann, song["_id"], ABUSE)
    answer = await commented(owner, song["_id"], "Please be kind", parent=held["_id"])
    assert held["isHeld"]

    for insider in (ann, owner):
        page = await replies(insider, held["_id"])
        assert [r["_id"] for r in page["docs"]] == [answer["_id"]]
    for missing in (held["_id"], str(uuid.uuid4())):
        response = await bob.client.get(f"{COMMENTS}/{missing}/replies", headers=bob.auth)
        assert_error(response, 404)


async def test_bad_requests_for_replies(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    reply = await commented(ann, song["_id"], "A reply", parent=top["_id"])
    path = f"{COMMENTS}/{top['_id']}/replies"

    for params in ({"cursor": "not-a-cursor!"}, {"limit": 0}, {"limit": "ten"}):
        assert_error(await ann.client.get(path, params=params, headers=ann.auth), 400)
    # Replies page from the top of their thread, not from a reply.
    of_reply = await ann.client.get(f"{COMMENTS}/{reply['_id']}/replies", headers=ann.auth)
    assert_error(of_reply, 400)
    assert "commentId" in error_fields(of_reply)
    assert_error(await ann.client.get(f"{COMMENTS}/nope/replies", headers=ann.auth), 400)
    assert_error(await harness.client().get(path), 401)
    assert (await replies(ann, top["_id"], limit=1000))["limit"] == 100
    # The fixed first segments still mean what they meant.
    assert_error(await ann.client.get(f"{COMMENTS}/analytics/replies", headers=ann.auth), 400)
    assert (await listing(ann, song["_id"]))["docs"][0]["_id"] == top["_id"]
