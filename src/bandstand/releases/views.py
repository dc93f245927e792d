"""How releases appear in answers: in a list, and alone (with its songs whole)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import keyset_page_of
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import Links
from bandstand.releases.schemas import ReleaseCard, ReleasePage, ReleaseRead
from bandstand.releases.service import Detail, Listing
from bandstand.songs.views import song_view


def _thumbnails(links: Links, key: str | None) -> dict[str, str] | None:
    """The cover by size in pixels (``covers/<id>/<size>.webp``); one stored before sizes
    existed (a song's) is one size; None without one."""
    if key is None:
        return None
    if key.count("/") != 2:
        return {str(COVER_SIZES[-1]): links.file(key)}
    folder = key.rsplit("/", 1)[0]
    return {str(size): links.file(f"{folder}/{size}.webp") for size in COVER_SIZES}


def _fields(links: Links, card: Row[Any]) -> dict[str, Any]:
    """What every answer shows of a release (``repository.card``), but its songs."""
    return {
        "id": card.id,
        "title": card.title,
        "kind": card.kind,
        "year": card.year,
        # The public summary only: never an email.
        "owner": UserPublic(
            id=card.owner_id,
            username=card.owner_username,
            fullname=card.owner_fullname,
            avatar=links.avatar(card.owner_avatar_key),
        ),
        "thumbnail": links.file(card.cover_key) if card.cover_key else None,
        "thumbnails": _thumbnails(links, card.cover_key),
        "songCount": card.song_count,
        "duration": float(card.duration or 0),
        "createdAt": card.created_at,
        "updatedAt": card.updated_at,
    }


def card_view(links: Links, card: Row[Any]) -> ReleaseCard:
    return ReleaseCard(**_fields(links, card))


def page_view(links: Links, listing: Listing, number: int, limit: int) -> ReleasePage:
    shaped = keyset_page_of(
        [card_view(links, card) for card in listing.cards],
        page=number,
        limit=limit,
        total=listing.total,
        next_cursor=listing.next_cursor,
        by_cursor=listing.by_cursor,
    )
    return ReleasePage(**shaped)


def release_view(links: Links, detail: Detail) -> ReleaseRead:
    """One release: its songs in track order, each as every song answer shows it."""
    return ReleaseRead(
        **_fields(links, detail.card),
        songs=[song_view(links, card) for card in detail.songs],
    )
