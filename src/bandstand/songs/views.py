"""How songs appear in answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bandstand.accounts.views import public_view
from bandstand.kit.pagination import page_of
from bandstand.models import Song
from bandstand.runtime import Runtime
from bandstand.songs.service import Page


def stream_path(song: Song) -> str:
    return f"/api/v1/songs/{song.id}/stream"


def song_view(rt: Runtime, song: Song) -> dict[str, Any]:
    path = stream_path(song)
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
    return page_of(
        list(docs), page=number, limit=limit, total=page.total, next_cursor=page.next_cursor
    )
