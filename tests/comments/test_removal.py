"""Who may remove or moderate what, what a removal takes with it, and how commentCount
follows."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.comments.support import (
    ABUSE,
    COMMENTS,
    SONGS,
    a_song,
    act,
    comment_count,
    commented,
    flush,
    people,
    scalar,
    seen_ids,
    stored_comment_count,
)
from tests.conftest import Harness
from tests.songs.support import Artist, assert_error


async def _rows(harness: Harness) -> list[object]:
    return [
        *await harness.sql("SELECT * FROM comments ORDER BY id"),
        *await harness.sql("SELECT comment_id, user_id FROM comment_likes ORDER BY comment_id"),
    ]


async def test_every_owner_only_route_refuses_anyone_else(harness: Harness) -> None:
    owner, ann, mallory = await people(harness, "owner", "ann", "mallory")
    song = await a_song(harness, owner)
    own_song = await a_song(harness, mallory, "Mallory's")
    comment = await commented(ann, song["_id"], "Lovely song")
    held = await commented(ann, song["_id"], ABUSE)
    await commented(mallory, song["_id"], "A reply", parent=comment["_id"])
    before = await _rows(harness)

    refusals = [
        # Only the author deletes; not even the song's owner through this route.
        (mallory, comment, "delete", "DELETE", {}),
        (owner, comment, "delete", "DELETE", {}),
        # Only the owner of the comment's song nukes, whatever the request names.
        (mallory, comment, "nuke", "DELETE", {}),
        (mallory, comment, "nuke", "DELETE", {"json": {"songId": own_song["_id"]}}),
        (mallory, comment, "nuke", "DELETE", {"params": {"songId": own_song["_id"]}}),
        (ann, comment, "nuke", "DELETE", {"json": {"songId": song["_id"]}}),
        (ann, held, "approve", "POST", {}),
        (mallory, comment, "approve", "POST", {"json": {"songId": own_song["_id"]}}),
    ]
    for who, target, verb, method, extra in refusals:
        response = await act(who, target["_id"], verb, method, **extra)
        assert_error(response, 403)
    for who in (ann, mallory):
        response = await who.client.get(f"{COMMENTS}/analytics/{song['_id']}", headers=who.auth)
        assert_error(response, 403)
    # A held comment is not even there for someone who may not see it.
    assert_error(await act(mallory, held["_id"], "approve"), 404)
    assert_error(await act(mallory, held["_id"], "nuke", "DELETE"), 404)
    assert await _rows(harness) == before


async def test_writes_need_a_login_and_a_well_formed_known_comment(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    comment = await commented(ann, song["_id"])
    stranger = harness.client()
    routes = [("like", "POST"), ("unlike", "POST"), ("delete", "DELETE"), ("approve", "POST")]
    for verb, method in [*routes, ("nuke", "DELETE")]:
        path = (
            f"{COMMENTS}/nuke/{comment['_id']}"
            if verb == "nuke"
            else f"{COMMENTS}/{comment['_id']}/{verb}"
        )
        assert_error(await stranger.request(method, path), 401)
        assert_error(await act(owner, str(uuid.uuid4()), verb, method), 404)
        assert_error(await act(owner, "not-an-id", verb, method), 400)
    assert await seen_ids(ann, song["_id"]) == {comment["_id"]}


@pytest.mark.parametrize("remover", ["author", "song owner"])
async def test_removal_takes_the_whole_tree_and_its_likes(harness: Harness, remover: str) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    a1 = await commented(bob, song["_id"], "a1", parent=top["_id"])
    a11 = await commented(owner, song["_id"], "a11", parent=a1["_id"])
    a2 = await commented(ann, song["_id"], "a2", parent=top["_id"])
    held = await commented(bob, song["_id"], ABUSE, parent=a11["_id"])
    other = await commented(bob, song["_id"], "Other")
    kept = await commented(ann, song["_id"], "kept", parent=other["_id"])
    for who, target in ((bob, top), (ann, a11), (owner, a2), (ann, kept)):
        assert (await act(who, target["_id"], "like")).status_code == 200
    assert await comment_count(owner, song["_id"]) == 6  # the held one does not count
    await flush(harness)

    response = (
        await act(ann, top["_id"], "delete", "DELETE")
        if remover == "author"
        else await act(owner, top["_id"], "nuke", "DELETE")
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"deleted": 5}
    assert await seen_ids(ann, song["_id"]) == {other["_id"], kept["_id"]}
    for gone in (top, a1, a11, a2, held):
        assert (
            await scalar(harness, "SELECT count(*) FROM comments WHERE id = :id", id=gone["_id"])
            == 0
        )
    assert await harness.sql("SELECT count(*) FROM comment_likes") == [(1,)]
    assert await comment_count(owner, song["_id"]) == 2
    assert (await act(ann, top["_id"], "delete", "DELETE")).status_code == 404

    # A reply goes with its own subtree only.
    assert (await act(owner, kept["_id"], "nuke", "DELETE")).json()["data"] == {"deleted": 1}
    assert await seen_ids(ann, song["_id"]) == {other["_id"]}
    assert await comment_count(owner, song["_id"]) == 1
    await flush(harness)
    assert await stored_comment_count(harness, song["_id"]) == 1
    assert await comment_count(owner, song["_id"]) == 1


async def test_two_removals_at_once_count_once(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    for n in range(3):
        await commented(bob, song["_id"], f"reply {n}", parent=top["_id"])
    await commented(bob, song["_id"], "Stays")
    answers = await asyncio.gather(
        act(ann, top["_id"], "delete", "DELETE"), act(owner, top["_id"], "nuke", "DELETE")
    )
    assert sorted(a.status_code for a in answers) == [200, 404], [a.text for a in answers]
    assert await comment_count(owner, song["_id"]) == 1
    await flush(harness)
    assert await comment_count(owner, song["_id"]) == 1


async def test_deleting_a_song_deletes_its_comments(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song, other = await a_song(harness, owner), await a_song(harness, owner, "Other")
    top = await commented(ann, song["_id"])
    reply = await commented(owner, song["_id"], "Thanks", parent=top["_id"])
    await act(owner, reply["_id"], "like")
    survivor = await commented(ann, other["_id"])
    response = await owner.client.request(
        "DELETE", f"{SONGS}/delete", json={"songId": song["_id"]}, headers=owner.auth
    )
    assert response.status_code == 200, response.text
    assert await harness.sql("SELECT count(*) FROM comment_likes") == [(0,)]
    assert await seen_ids(ann, other["_id"]) == {survivor["_id"]}
    assert await harness.sql("SELECT count(*) FROM comments") == [(1,)]
    assert_error(await act(ann, top["_id"], "like"), 404)


async def _comments_seen(who: Artist, song_id: str) -> int:
    return len(await seen_ids(who, song_id))


async def test_comment_count_follows_adds_and_removals(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    made = await asyncio.gather(*(commented(ann, song["_id"], f"c{n}") for n in range(6)))
    await asyncio.gather(
        *(commented(owner, song["_id"], "thanks", parent=c["_id"]) for c in made[:3])
    )
    assert await comment_count(ann, song["_id"]) == 9 == await _comments_seen(ann, song["_id"])
    await flush(harness)
    await asyncio.gather(*(act(ann, c["_id"], "delete", "DELETE") for c in made[:2]))
    assert await comment_count(ann, song["_id"]) == 5 == await _comments_seen(ann, song["_id"])
    await flush(harness)
    assert await comment_count(ann, song["_id"]) == 5
