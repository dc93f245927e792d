"""How playlists appear in answers: in a list (songs as ids), and alone (songs whole)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row

from bandstand.kit.pagination import keyset_page_of
from bandstand.kit.time import timestamp
from bandstand.media.images import COVER_SIZES
from bandstand.playlists.service import Detail, Listing
from bandstand.runtime import Runtime
from bandstand.songs.views import song_view


def _thumbnails(rt: Runtime, key: str | None) -> dict[str, str] | None:
    """The cover by size in pixels (``covers/<id>/<size>.webp``), or None without one."""
    if key is None:
        return None
    folder = key.rsplit("/", 1)[0]
    return {str(size): rt.storage.url(f"{folder}/{size}.webp") for size in COVER_SIZES}


def _fields(rt: Runtime, card: Row[Any]) -> dict[str, Any]:
    """What every answer shows of a playlist (``repository.CARD_COLUMNS``), but its songs."""
    return {
        "_id": str(card.id),
        "playlist_name": card.name,
        "description": card.description,
        "isPublic": card.is_public,
        # The public summary only: never an email.
        "owner": {
            "_id": str(card.owner_id),
            "username": card.owner_username,
            "fullname": card.owner_fullname,
            "avatar": rt.links.avatar(card.owner_avatar_key),
        },
        "thumbnail": rt.storage.url(card.thumbnail_key) if card.thumbnail_key else None,
        "thumbnails": _thumbnails(rt, card.thumbnail_key),
        "songCount": card.song_count,
        "createdAt": timestamp(card.created_at),
        "updatedAt": timestamp(card.updated_at),
    }


def card_view(rt: Runtime, card: Row[Any], song_ids: list[uuid.UUID]) -> dict[str, Any]:
    """A playlist in a list: its songs as ids, in order."""
    return {**_fields(rt, card), "songs": [str(ident) for ident in song_ids]}


def cards_view(rt: Runtime, listing: Listing) -> list[dict[str, Any]]:
    return [card_view(rt, card, listing.song_ids.get(card.id, [])) for card in listing.cards]


def page_view(rt: Runtime, listing: Listing, number: int, limit: int) -> dict[str, Any]:
    return keyset_page_of(
        cards_view(rt, listing),
        page=number,
        limit=limit,
        total=listing.total,
        next_cursor=listing.next_cursor,
        by_cursor=listing.by_cursor,
    )


def playlist_view(rt: Runtime, detail: Detail) -> dict[str, Any]:
    """One playlist: a page of its songs, each as a song list shows it, and where that
    page is (``songsPage``)."""
    songs = [song_view(rt.links, card) for card in detail.songs]
    where = keyset_page_of(
        [],
        page=detail.page,
        limit=detail.limit,
        total=detail.card.song_count,
        next_cursor=detail.next_cursor,
        by_cursor=detail.by_cursor,
    )
    del where["docs"]
    return {**_fields(rt, detail.card), "songs": songs, "songsPage": where}
