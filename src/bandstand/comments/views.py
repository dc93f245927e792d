"""How comments appear in answers. ``CommentRead`` is built by hand, as the listing is a
busy route (bench/RESULTS.md), and checked against the schemas its routes declare
(tests/comments/test_count_definitions.py); the routes that answer one comment (a new
one, an approved one) use the same writer, so the shape is written once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Row

from bandstand.accounts.principals import Account
from bandstand.accounts.schemas import UserPublic
from bandstand.accounts.views import public_view
from bandstand.comments.listing import Listing, Node, Page
from bandstand.comments.schemas import CommentLikes, MuteRead
from bandstand.comments.service import Likes, Muted, Shown
from bandstand.engagement.counters import LIKES
from bandstand.kit.envelope import envelope
from bandstand.kit.pagination import keyset_page_of
from bandstand.kit.time import timestamp
from bandstand.media.links import Links
from bandstand.models import Comment


def _id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _view(
    comment: Any,
    owner: dict[str, Any],
    *,
    like_count: int,
    liked: bool,
    reply_count: int,
    replies: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "_id": str(comment.id),
        "content": comment.content,
        "song": str(comment.song_id),
        "owner": owner,
        "parentComment": _id(comment.parent_id),
        "timestamp": comment.timestamp_s,
        "sentimentScore": comment.sentiment_score,
        "isFlagged": comment.is_flagged,
        "isHeld": comment.is_held,
        "hiddenReason": comment.hidden_reason if comment.hidden_at else None,
        "likeCount": like_count,
        "likedByMe": liked,
        "replyCount": reply_count,
        "replies": replies,
        "createdAt": timestamp(comment.created_at),
        "updatedAt": timestamp(comment.updated_at),
    }


def _author(links: Links, card: Row[Any]) -> dict[str, Any]:
    """``UserPublic`` from a card's flat author columns (never the email)."""
    return {
        "_id": str(card.user_id),
        "username": card.author_username,
        "fullname": card.author_fullname,
        "avatar": links.avatar(card.author_avatar_key),
    }


def card_view(
    links: Links, card: Row[Any], pending_likes: int, replies: list[dict[str, Any]]
) -> dict[str, Any]:
    return _view(
        card,
        _author(links, card),
        like_count=card.like_count + pending_likes,
        liked=bool(card.liked),
        reply_count=int(card.reply_count),
        replies=replies,
    )


def _node_view(links: Links, node: Node, page: Page) -> dict[str, Any]:
    card = node.card
    replies = [_node_view(links, reply, page) for reply in node.replies]
    return card_view(links, card, page.listing.pending.get(card.id, {}).get(LIKES, 0), replies)


def shown_view(links: Links, shown: Shown) -> dict[str, Any]:
    return card_view(links, shown.card, shown.pending_likes, [])


def new_view(links: Links, comment: Comment, author: Account) -> dict[str, Any]:
    """A comment just written by ``author``: nothing liked or replied yet."""
    owner = {
        "_id": str(author.id),
        "username": author.username,
        "fullname": author.fullname,
        "avatar": links.avatar(author.avatar_key),
    }
    return _view(comment, owner, like_count=0, liked=False, reply_count=0, replies=[])


def likes_view(likes: Likes) -> CommentLikes:
    return CommentLikes(id=likes.comment_id, likeCount=likes.like_count, likedByMe=likes.liked)


def mute_view(links: Links, muted: Muted) -> MuteRead:
    return MuteRead(
        user=UserPublic.model_validate(public_view(links, muted.user)),
        muted=muted.muted_at is not None,
        mutedAt=muted.muted_at,
    )


def _shaped(page: Page, docs: list[dict[str, Any]], number: int, limit: int) -> dict[str, Any]:
    shaped = keyset_page_of(
        docs,
        page=number,
        limit=limit,
        total=page.total,
        next_cursor=page.listing.next_cursor,
        by_cursor=page.by_cursor,
    )
    shaped["commentsOff"] = page.comments_off
    return shaped


@dataclass
class _Shared:
    """A shared listing rendered once: its documents as a listener who likes none of
    them sees them, each comment's parent, and finished answers by page shape."""

    docs: list[dict[str, Any]]
    parents: dict[str, str | None]
    bodies: dict[tuple[int, int, int, bool, bool], bytes] = field(default_factory=dict)


# Kept with the shared listing (listing.EVERYONE's), and gone with it.
_SHARED: WeakKeyDictionary[Listing, _Shared] = WeakKeyDictionary()


def _shared(links: Links, page: Page) -> _Shared:
    kept = _SHARED.get(page.listing)
    if kept is None:
        docs = [_node_view(links, node, page) for node in page.listing.threads]
        parents: dict[str, str | None] = {}
        stack = list(docs)
        while stack:
            doc = stack.pop()
            parents[doc["_id"]] = doc["parentComment"]
            stack.extend(doc["replies"])
        kept = _SHARED[page.listing] = _Shared(docs=docs, parents=parents)
    return kept


def _with_likes(kept: _Shared, liked: set[str]) -> list[dict[str, Any]]:
    """The shared documents with ``likedByMe`` set for ``liked``: only those and their
    ancestors are copied, the rest is shared."""
    touched: set[str] = set()
    for doc_id in liked:
        current: str | None = doc_id
        while current is not None and current not in touched:
            touched.add(current)
            current = kept.parents.get(current)

    def mark(doc: dict[str, Any]) -> dict[str, Any]:
        if doc["_id"] not in touched:
            return doc
        return {
            **doc,
            "likedByMe": doc["_id"] in liked,
            "replies": [mark(reply) for reply in doc["replies"]],
        }

    return [mark(doc) for doc in kept.docs]


def page_view(links: Links, page: Page, number: int, limit: int) -> dict[str, Any]:
    # A shared listing's cards are as listing.EVERYONE sees them: nothing liked.
    if page.liked is None:
        docs = [_node_view(links, node, page) for node in page.listing.threads]
    else:
        docs = _with_likes(_shared(links, page), {str(i) for i in page.liked})
    return _shaped(page, docs, number, limit)


def page_body(links: Links, page: Page, number: int, limit: int, message: str) -> bytes:
    """The page's answer in the envelope, as bytes. A shared listing is rendered once;
    every listener who likes none of its comments gets the same bytes."""
    if page.liked is None or page.liked:
        return bytes(envelope(page_view(links, page, number, limit), message).body)
    kept = _shared(links, page)
    key = (number, limit, page.total, page.by_cursor, page.comments_off)
    body = kept.bodies.get(key)
    if body is None:
        shaped = _shaped(page, kept.docs, number, limit)
        body = kept.bodies[key] = bytes(envelope(shaped, message).body)
    return body
