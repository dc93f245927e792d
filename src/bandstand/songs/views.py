"""How songs appear in answers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row

from bandstand.accounts.views import avatar_url, public_view
from bandstand.kit.pagination import keyset_page_of
from bandstand.media.audio import FORMATS
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import CONTENT_TYPES, media_url
from bandstand.models import Song
from bandstand.runtime import Runtime
from bandstand.songs.service import Page


class _SongFields(Protocol):
    """What a song view reads: an ORM song, or a card row from the repository."""

    id: uuid.UUID
    title: str
    description: str
    genre: str | None
    artist: str | None
    duration: float
    codec: str
    sample_rate: int
    channels: int
    bitrate: int
    thumbnail_key: str
    audio_key: str
    audio_format: str
    views: int
    like_count: int
    comment_count: int
    status: str
    failure_reason: str | None
    hls_key: str | None
    progressive_key: str | None
    loudness_lufs: float | None
    true_peak_dbtp: float | None
    gain_db: float | None
    created_at: datetime
    updated_at: datetime


def stream_path(song_id: uuid.UUID) -> str:
    """The path a stream URL signs: always the canonical form of the id."""
    return f"/api/v1/songs/{song_id}/stream"


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _view(
    rt: Runtime,
    song: _SongFields,
    owner: dict[str, Any],
    pending: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """``pending``: counter deltas not yet in the row (engagement/counters.py), added so
    a listener sees their own like or play at once."""
    extra = pending or {}
    path = stream_path(song.id)
    signed = rt.url_signer.query(path, rt.settings.stream_url_ttl_s)
    base = rt.settings.public_url.rstrip("/")
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
        "songFile": f"{base}{path}?{signed}",
        "thumbnail": rt.storage.url(song.thumbnail_key),
        "thumbnails": _thumbnails(rt, song.thumbnail_key),
        "hls": media_url(rt, song.hls_key) if song.hls_key else None,
        "renditions": _renditions(rt, song),
        "waveform": f"{base}/api/v1/songs/{song.id}/waveform" if song.hls_key else None,
        "loudness": song.loudness_lufs,
        "truePeak": song.true_peak_dbtp,
        "gain": song.gain_db,
        "owner": owner,
        "views": song.views + extra.get("views", 0),
        "likeCount": song.like_count + extra.get("likes", 0),
        "commentCount": song.comment_count + extra.get("comments", 0),
        "status": song.status,
        "failureReason": song.failure_reason,
        "createdAt": timestamp(song.created_at),
        "updatedAt": timestamp(song.updated_at),
    }


def _thumbnails(rt: Runtime, key: str) -> dict[str, str]:
    """Cover art by size in pixels (``covers/<id>/<size>.webp``); a cover stored before
    sizes existed is one size."""
    if key.count("/") != 2:
        return {str(COVER_SIZES[-1]): rt.storage.url(key)}
    folder = key.rsplit("/", 1)[0]
    return {str(size): rt.storage.url(f"{folder}/{size}.webp") for size in COVER_SIZES}


def _renditions(rt: Runtime, song: _SongFields) -> list[dict[str, Any]]:
    """What a player can play, by signed link: the upload itself, and once processing is
    done, the progressive AAC every browser plays."""
    found = [
        {
            "kind": "original",
            "url": media_url(rt, song.audio_key),
            "contentType": FORMATS[song.audio_format].content_type,
        }
    ]
    if song.progressive_key:
        found.append(
            {
                "kind": "aac",
                "url": media_url(rt, song.progressive_key),
                "contentType": CONTENT_TYPES["m4a"],
            }
        )
    return found


def song_view(rt: Runtime, song: Song, pending: Mapping[str, int] | None = None) -> dict[str, Any]:
    return _view(rt, song, public_view(rt, song.owner), pending)


def card_view(
    rt: Runtime, card: Row[Any], pending: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """A song from a list query (``repository.CARD_COLUMNS``), its owner's summary flat."""
    owner = {
        "_id": str(card.owner_id),
        "username": card.owner_username,
        "fullname": card.owner_fullname,
        "avatar": avatar_url(rt, card.owner_avatar_key),
    }
    return _view(rt, card, owner, pending)


def page_view(
    rt: Runtime,
    page: Page,
    number: int,
    limit: int,
    pending: Mapping[uuid.UUID, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    pending = pending or {}
    docs = [card_view(rt, card, pending.get(card.id)) for card in page.songs]
    return keyset_page_of(
        docs,
        page=number,
        limit=limit,
        total=page.total,
        next_cursor=page.next_cursor,
        by_cursor=page.by_cursor,
    )
