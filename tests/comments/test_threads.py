"""Comments and replies: what they must be, how they nest, and how a song's comments page."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from bandstand.comments import listing as listings
from bandstand.comments import service
from tests.comments.support import (
    COMMENT_FIELDS,
    COMMENT_PAGE_FIELDS,
    COMMENTS,
    OWNER_FIELDS,
    a_song,
    commented,
    listing,
    people,
    post,
    walk,
)
from tests.conftest import Harness
from tests.songs.support import Artist, assert_error, error_fields


@pytest.fixture
async def cast(harness: Harness) -> tuple[Artist, Artist, Artist]:
    """An artist and two listeners."""
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    return owner, ann, bob


async def test_comments_and_replies_nest_in_the_listing(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, bob = cast
    song = await a_song(harness, owner)
    first = await commented(ann, song["_id"], "  What a lovely tune  ", timestamp=0.25)
    assert set(first) == COMMENT_FIELDS
    assert first["content"] == "What a lovely tune"  # trimmed
    assert first["timestamp"] == 0.25
    assert first["song"] == song["_id"] and first["parentComment"] is None
    assert first["owner"] == {
        "_id": ann.id,
        "username": "ann",
        "fullname": ann.user["fullname"],
        "avatar": ann.user["avatar"],
    }
    assert first["sentimentScore"] > 0.05 and not first["isFlagged"] and not first["isHeld"]
    assert (first["likeCount"], first["likedByMe"], first["replyCount"]) == (0, False, 0)

    second = await commented(bob, song["_id"], "Second!")
    reply = await commented(bob, song["_id"], "Agreed,\nit is\tlovely", parent=first["_id"])
    assert reply["parentComment"] == first["_id"] and reply["content"] == "Agreed,\nit is\tlovely"
    deeper = await commented(owner, song["_id"], "Thank you both", parent=reply["_id"])
    later = await commented(ann, song["_id"], "Me again", parent=first["_id"])

    page = await listing(ann, song["_id"])
    assert set(page) == COMMENT_PAGE_FIELDS
    assert (page["totalDocs"], page["totalPages"], page["hasNextPage"]) == (2, 1, False)
    # Newest top-level first; replies oldest first, nested to any depth.
    assert [d["_id"] for d in page["docs"]] == [second["_id"], first["_id"]]
    top = page["docs"][1]
    # Every reply beneath it, the reply to a reply too.
    assert top["replyCount"] == 3
    assert [r["_id"] for r in top["replies"]] == [reply["_id"], later["_id"]]
    assert top["replies"][0]["replyCount"] == 1
    assert [r["_id"] for r in top["replies"][0]["replies"]] == [deeper["_id"]]
    assert top["replies"][0]["replies"][0]["parentComment"] == reply["_id"]
    for doc in walk(page["docs"]):
        assert set(doc) == COMMENT_FIELDS
        assert set(doc["owner"]) == OWNER_FIELDS
    # The listing shows the comment as it was answered when made.
    assert {k: v for k, v in top.items() if k not in {"replies", "replyCount"}} == {
        k: v for k, v in first.items() if k not in {"replies", "replyCount"}
    }
    assert "@example.com" not in str(page)


async def test_pages_by_number_and_by_cursor(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    made = [(await commented(ann, song["_id"], f"Comment {n}"))["_id"] for n in range(5)]
    newest = made[::-1]

    pages = [await listing(ann, song["_id"], limit=2, page=n) for n in (1, 2, 3, 4)]
    assert [[d["_id"] for d in p["docs"]] for p in pages] == [
        newest[0:2],
        newest[2:4],
        newest[4:],
        [],
    ]
    assert [(p["totalDocs"], p["totalPages"]) for p in pages] == [(5, 3)] * 4
    assert [p["hasNextPage"] for p in pages] == [True, True, False, False]
    assert [p["hasPrevPage"] for p in pages] == [False, True, True, True]

    walked: list[str] = []
    cursor = None
    while True:
        page = await listing(ann, song["_id"], limit=2, **({"cursor": cursor} if cursor else {}))
        walked += [d["_id"] for d in page["docs"]]
        assert page["totalDocs"] == 5
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert walked == newest

    clamped = await listing(ann, song["_id"], limit=1000)
    assert clamped["limit"] == 100 and len(clamped["docs"]) == 5


async def test_new_comments_count_at_once(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, bob = cast
    song = await a_song(harness, owner)
    await commented(ann, song["_id"])
    assert (await listing(bob, song["_id"]))["totalDocs"] == 1
    await asyncio.gather(*(commented(bob, song["_id"], f"c{n}") for n in range(4)))
    assert (await listing(ann, song["_id"]))["totalDocs"] == 5
    # Replies are nested, not counted as pages' documents.
    first = (await listing(ann, song["_id"]))["docs"][0]
    await commented(ann, song["_id"], "a reply", parent=first["_id"])
    assert (await listing(owner, song["_id"]))["totalDocs"] == 5


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor!"}, {"page": 0}, {"limit": 0}, {"limit": "ten"}],
)
async def test_bad_paging_is_400(
    harness: Harness, cast: tuple[Artist, Artist, Artist], params: dict[str, Any]
) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    response = await ann.client.get(
        f"{COMMENTS}/{song['_id']}/comments", params=params, headers=ann.auth
    )
    assert_error(response, 400)


async def test_listing_needs_a_login_and_a_song(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    path = f"{COMMENTS}/{song['_id']}/comments"
    assert_error(await harness.client().get(path), 401)
    unknown = await ann.client.get(f"{COMMENTS}/{uuid.uuid4()}/comments", headers=ann.auth)
    assert_error(unknown, 404)
    assert_error(await ann.client.get(f"{COMMENTS}/nope/comments", headers=ann.auth), 400)
    assert_error(
        await harness.client().post(f"{COMMENTS}/{song['_id']}", json={"content": "x"}), 401
    )


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("empty", {"content": ""}, "content"),
    ("blank", {"content": " \n\t "}, "content"),
    ("invisible", {"content": "\u200b\u200b"}, "content"),
    ("too long", {"content": "x" * 1001}, "content"),
    ("NUL", {"content": "nice\x00song"}, "content"),
    ("bell", {"content": "nice\x07song"}, "content"),
    ("number", {"content": 42}, "content"),
    ("list", {"content": ["nice"]}, "content"),
    ("operator", {"content": {"$ne": ""}}, "content"),
    ("missing", {}, "content"),
    ("unknown field", {"content": "nice", "isFlagged": False}, "isFlagged"),
    ("negative timestamp", {"content": "nice", "timestamp": -1}, "timestamp"),
    ("timestamp text", {"content": "nice", "timestamp": "3"}, "timestamp"),
    ("timestamp bool", {"content": "nice", "timestamp": True}, "timestamp"),
    ("timestamp past the end", {"content": "nice", "timestamp": 3600}, "timestamp"),
]


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in BAD_BODIES], ids=[n for n, _, _ in BAD_BODIES]
)
async def test_bad_comments_are_refused_and_stored_nowhere(
    harness: Harness, cast: tuple[Artist, Artist, Artist], body: dict[str, Any], field: str
) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    parent = await commented(ann, song["_id"])
    for path in (f"{COMMENTS}/{song['_id']}", f"{COMMENTS}/{song['_id']}/reply/{parent['_id']}"):
        response = await ann.client.post(path, json=body, headers=ann.auth)
        assert_error(response, 400)
        assert field in error_fields(response), response.text
    assert await harness.sql("SELECT count(*) FROM comments") == [(1,)]


async def test_limits_are_inclusive(harness: Harness, cast: tuple[Artist, Artist, Artist]) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    longest = await commented(ann, song["_id"], "y" * 1000, timestamp=song["duration"])
    assert len(longest["content"]) == 1000 and longest["timestamp"] == song["duration"]
    assert (await commented(ann, song["_id"], "z", timestamp=0))["timestamp"] == 0


async def test_not_a_number_and_not_json_are_refused(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, _ = cast
    song = await a_song(harness, owner)
    path = f"{COMMENTS}/{song['_id']}"
    nan = await ann.client.post(
        path,
        content=b'{"content": "nice", "timestamp": NaN}',
        headers={**ann.auth, "content-type": "application/json"},
    )
    assert_error(nan, 400)
    form = await ann.client.post(path, data={"content": "nice"}, headers=ann.auth)
    assert_error(form, 415)
    broken = await ann.client.post(
        path, content=b'{"content": ', headers={**ann.auth, "content-type": "application/json"}
    )
    assert_error(broken, 400)
    assert await harness.sql("SELECT count(*) FROM comments") == [(0,)]


async def test_a_reply_needs_a_parent_on_the_same_song(
    harness: Harness, cast: tuple[Artist, Artist, Artist]
) -> None:
    owner, ann, _ = cast
    song, other = await a_song(harness, owner), await a_song(harness, owner, "Other")
    elsewhere = await commented(ann, other["_id"])
    here = await commented(ann, song["_id"])

    wrong_song = await post(ann, song["_id"], "hi", parent=elsewhere["_id"])
    assert_error(wrong_song, 400)
    assert "parentId" in error_fields(wrong_song)
    assert_error(await post(ann, song["_id"], "hi", parent=str(uuid.uuid4())), 404)
    assert_error(await post(ann, song["_id"], "hi", parent="nope"), 400)
    assert_error(await post(ann, str(uuid.uuid4()), "hi", parent=here["_id"]), 404)
    assert_error(await post(ann, str(uuid.uuid4()), "hi"), 404)
    assert_error(await post(ann, "nope", "hi"), 400)
    assert await harness.sql("SELECT count(*) FROM comments") == [(2,)]


async def test_threads_nest_a_preview_of_their_replies(
    harness: Harness, cast: tuple[Artist, Artist, Artist], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, ann, bob = cast
    monkeypatch.setattr(listings, "PREVIEW_REPLIES", 2)
    song = await a_song(harness, owner)
    top = await commented(ann, song["_id"], "Top")
    replies = [
        (await commented(bob, song["_id"], f"r{n}", parent=top["_id"]))["_id"] for n in range(5)
    ]
    shown = (await listing(ann, song["_id"]))["docs"][0]
    # The oldest two are nested; the count says there are more.
    assert [r["_id"] for r in shown["replies"]] == replies[:2]
    assert shown["replyCount"] == 5


async def test_threads_nest_only_so_deep(
    harness: Harness, cast: tuple[Artist, Artist, Artist], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, ann, _ = cast
    monkeypatch.setattr(service, "MAX_DEPTH", 3)
    song = await a_song(harness, owner)
    parent = await commented(ann, song["_id"], "depth 0")
    for depth in (1, 2, 3):
        parent = await commented(ann, song["_id"], f"depth {depth}", parent=parent["_id"])
    too_deep = await post(ann, song["_id"], "depth 4", parent=parent["_id"])
    assert_error(too_deep, 400)
    assert "parentId" in error_fields(too_deep)
    chain = (await listing(ann, song["_id"]))["docs"][0]
    depth = 0
    while chain["replies"]:
        chain, depth = chain["replies"][0], depth + 1
    assert depth == 3
