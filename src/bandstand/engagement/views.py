"""How plays, likes and history appear in answers."""

from __future__ import annotations

from typing import Any

from bandstand.engagement.service import LikeState, Listing
from bandstand.kit.pagination import keyset_page_of
from bandstand.kit.time import timestamp
from bandstand.media.links import Links
from bandstand.songs.views import song_view


def like_view(state: LikeState) -> dict[str, Any]:
    return {"songId": str(state.song_id), "liked": state.liked, "likeCount": state.like_count}


def liked_view(links: Links, listing: Listing, number: int, limit: int) -> dict[str, Any]:
    """Liked songs as song cards, each with when it was liked."""
    docs = [
        {**song_view(links, card), "likedAt": timestamp(card.song.liked_at)}
        for card in listing.cards
    ]
    return _page(docs, listing, number, limit)


def history_view(links: Links, listing: Listing, number: int, limit: int) -> dict[str, Any]:
    """History entries as the original spec has them: ``{song, watchedAt}``."""
    docs = [
        {"song": song_view(links, card), "watchedAt": timestamp(card.song.watched_at)}
        for card in listing.cards
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
