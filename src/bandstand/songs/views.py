"""How songs appear in answers: only as ``SongCard``s, which only the one reader
(``cards.read_cards``) makes."""

from __future__ import annotations

import uuid
from typing import Any

from bandstand.accounts.views import avatar_url
from bandstand.kit.pagination import keyset_page_of
from bandstand.kit.time import timestamp
from bandstand.media.audio import FORMATS
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import CONTENT_TYPES, media_url
from bandstand.runtime import Runtime
from bandstand.songs.cards import Owner, SongCard
from bandstand.songs.service import Page


def stream_path(song_id: uuid.UUID) -> str:
    """The path a stream URL signs: always the canonical form of the id."""
    return f"/api/v1/songs/{song_id}/stream"


def song_view(rt: Runtime, card: SongCard) -> dict[str, Any]:
    """A song as ``SongRead`` has it; its counters as the one reader
    (``cards.read_cards``) gave them. Built by hand, not by ``SongRead``: lists render
    one per song and the catalogue is the busiest read (bench/RESULTS.md); every route
    that answers a song is checked against its declared schema in
    tests/test_one_reader.py."""
    song = card.song
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
        "owner": _owner_view(rt, card.owner),
        "views": card.views,
        "likeCount": card.like_count,
        "commentCount": card.comment_count,
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


def _renditions(rt: Runtime, song: Any) -> list[dict[str, Any]]:
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


def _owner_view(rt: Runtime, owner: Owner) -> dict[str, Any]:
    """``UserPublic``: the owner's public summary, never an email."""
    return {
        "_id": str(owner.id),
        "username": owner.username,
        "fullname": owner.fullname,
        "avatar": avatar_url(rt, owner.avatar_key),
    }


def page_view(rt: Runtime, page: Page, number: int, limit: int) -> dict[str, Any]:
    docs = [song_view(rt, card) for card in page.songs]
    return keyset_page_of(
        docs,
        page=number,
        limit=limit,
        total=page.total,
        next_cursor=page.next_cursor,
        by_cursor=page.by_cursor,
    )
