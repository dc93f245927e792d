"""How songs appear in answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from bandstand.accounts.views import public_view
from bandstand.kit.pagination import page_of
from bandstand.models import Song
from bandstand.runtime import Runtime
from bandstand.songs.service import Page


def stream_path(song_id: uuid.UUID) -> str:
    """The path a stream URL signs: always the canonical form of the id."""
    return f"/api/v1/songs/{song_id}/stream"


def song_view(rt: Runtime, song: Song) -> dict[str, Any]:
    path = stream_path(song.id)
    signed = rt.url_signer.query(path, rt.settings.stream_url_ttl_s)
    return {
        "_id": str(song.id),
        "title": song.title,
        "description": song.description,
        "genre": song.genre,
        "artist": song.artist,
        "duration": song.duration,
        "codec": song.codec,
        "sampleRate": song.sample_rate,
        "channels": song.channels,
        "bitrate": song.bitrate,
        "songFile": f"{rt.settings.public_url.rstrip('/')}{path}?{signed}",
        "thumbnail": rt.storage.url(song.thumbnail_key),
        "owner": public_view(rt, song.owner),
        "views": song.views,
        "likeCount": song.like_count,
        "commentCount": song.comment_count,
        "status": song.status,
        "createdAt": song.created_at.isoformat().replace("+00:00", "Z"),
        "updatedAt": song.updated_at.isoformat().replace("+00:00", "Z"),
    }


def page_view(rt: Runtime, page: Page, number: int, limit: int) -> dict[str, Any]:
    docs: Sequence[dict[str, Any]] = [song_view(rt, song) for song in page.songs]
    shaped = page_of(
        list(docs), page=number, limit=limit, total=page.total, next_cursor=page.next_cursor
    )
    # What the rows show, not arithmetic on a page number a cursor walk does not have.
    shaped["hasNextPage"] = page.next_cursor is not None
    if page.by_cursor:
        shaped["hasPrevPage"] = True
    return shaped
