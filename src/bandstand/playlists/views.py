"""How playlists appear in answers: in a list (songs as ids), and alone (songs whole)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import keyset_page_of
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import Links
from bandstand.playlists.schemas import PlaylistCard, PlaylistPage, PlaylistRead, SongsPage
from bandstand.playlists.service import Detail, Listing
from bandstand.songs.views import song_view


def _thumbnails(links: Links, key: str | None) -> dict[str, str] | None:
    """The cover by size in pixels (``covers/<id>/<size>.webp``), or None without one."""
    if key is None:
        return None
    folder = key.rsplit("/", 1)[0]
    return {str(size): links.file(f"{folder}/{size}.webp") for size in COVER_SIZES}


def _fields(links: Links, card: Row[Any]) -> dict[str, Any]:
    """What every answer shows of a playlist (``repository.cards``), but its songs."""
    return {
        "id": card.id,
        "playlist_name": card.name,
        "description": card.description,
        "isPublic": card.is_public,
        # The public summary only: never an email.
        "owner": UserPublic(
            id=card.owner_id,
            username=card.owner_username,
            fullname=card.owner_fullname,
            avatar=links.avatar(card.owner_avatar_key),
        ),
        "thumbnail": links.file(card.thumbnail_key) if card.thumbnail_key else None,
        "thumbnails": _thumbnails(links, card.thumbnail_key),
        "songCount": card.song_count,
        "hiddenReason": card.hidden_reason if card.hidden_at else None,
        "createdAt": card.created_at,
        "updatedAt": card.updated_at,
    }


def card_view(links: Links, card: Row[Any], song_ids: list[uuid.UUID]) -> PlaylistCard:
    """A playlist in a list: its songs as ids, in order."""
    return PlaylistCard(**_fields(links, card), songs=song_ids)


def cards(links: Links, listing: Listing) -> list[PlaylistCard]:
    return [card_view(links, card, listing.song_ids.get(card.id, [])) for card in listing.cards]


def cards_view(links: Links, listing: Listing) -> list[dict[str, Any]]:
    """``cards`` as JSON, for the answers written by hand (search) or typed loosely (a
    user's profile)."""
    return [card.model_dump(mode="json", by_alias=True) for card in cards(links, listing)]


def page_view(links: Links, listing: Listing, number: int, limit: int) -> PlaylistPage:
    shaped = keyset_page_of(
        cards(links, listing),
        page=number,
        limit=limit,
        total=listing.total,
        next_cursor=listing.next_cursor,
        by_cursor=listing.by_cursor,
    )
    return PlaylistPage(**shaped)


def playlist_view(links: Links, detail: Detail) -> PlaylistRead:
    """One playlist: a page of its songs, each as a song list shows it, and where that
    page is (``songsPage``)."""
    where = keyset_page_of(
        [],
        page=detail.page,
        limit=detail.limit,
        total=detail.card.song_count,
        next_cursor=detail.next_cursor,
        by_cursor=detail.by_cursor,
    )
    del where["docs"]
    return PlaylistRead(
        **_fields(links, detail.card),
        songs=[song_view(links, card) for card in detail.songs],
        songsPage=SongsPage(**where),
    )
