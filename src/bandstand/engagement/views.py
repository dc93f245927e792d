"""How plays, likes and history appear in answers."""

from __future__ import annotations

from typing import Any

from bandstand.engagement.service import LikeState, Listing
from bandstand.kit.pagination import keyset_page_of
from bandstand.runtime import Runtime
from bandstand.songs.views import card_view, timestamp


def like_view(state: LikeState) -> dict[str, Any]:
    return {"songId": str(state.song_id), "liked": state.liked, "likeCount": state.like_count}


def liked_view(rt: Runtime, listing: Listing, number: int, limit: int) -> dict[str, Any]:
    """Liked songs as song cards, each with when it was liked."""
    docs = [
        {**card_view(rt, row, listing.pending.get(row.id)), "likedAt": timestamp(row.liked_at)}
        for row in listing.rows
    ]
    return _page(docs, listing, number, limit)


def history_view(rt: Runtime, listing: Listing, number: int, limit: int) -> dict[str, Any]:
    """History entries as the original spec has them: ``{song, watchedAt}``."""
    docs = [
        {
            "song": card_view(rt, row, listing.pending.get(row.id)),
            "watchedAt": timestamp(row.watched_at),
        }
        for row in listing.rows
    ]
    return _page(docs, listing, number, limit)


def _page(docs: list[dict[str, Any]], listing: Listing, number: int, limit: int) -> dict[str, Any]:
    return keyset_page_of(
        docs,
        page=number,
        limit=limit,
        total=listing.total,
        next_cursor=listing.next_cursor,
        by_cursor=listing.by_cursor,
    )
