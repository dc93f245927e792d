"""How songs appear in answers: only as ``SongCard``s, which only the one reader
(``cards.read_cards``) makes."""

from __future__ import annotations

from typing import Any

from bandstand.kit.pagination import keyset_page_of
from bandstand.kit.time import timestamp
from bandstand.media.audio import FORMATS
from bandstand.media.images import COVER_SIZES
from bandstand.media.links import CONTENT_TYPES, Links
from bandstand.songs.cards import OnRelease, Owner, SongCard
from bandstand.songs.service import Page

# The status a song taken down by a moderator shows: only its owner ever sees it
# (``songs.repository.listed``), with the moderator's reason.
TAKEN_DOWN = "taken_down"


def song_view(links: Links, card: SongCard) -> dict[str, Any]:
    """A song as ``SongRead`` has it; its counters as the one reader
    (``cards.read_cards``) gave them. Built by hand, not by ``SongRead``: lists render
    one per song and the catalogue is the busiest read (bench/RESULTS.md); every route
    that answers a song is checked against its declared schema in
    tests/test_one_reader.py."""
    song = card.song
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
        "songFile": links.stream(song.id),
        "thumbnail": links.file(song.thumbnail_key),
        "thumbnails": _thumbnails(links, song.thumbnail_key),
        "hls": links.media(song.hls_key) if song.hls_key else None,
        "renditions": _renditions(links, song),
        "waveform": links.waveform(song.id) if song.hls_key else None,
        "loudness": song.loudness_lufs,
        "truePeak": song.true_peak_dbtp,
        "gain": song.gain_db,
        "owner": _owner_view(links, card.owner),
        "views": card.views,
        "likeCount": card.like_count,
        "commentCount": card.comment_count,
        "status": TAKEN_DOWN if song.taken_down_at else song.status,
        "failureReason": song.failure_reason,
        "takedownReason": song.takedown_reason if song.taken_down_at else None,
        "release": _release_view(card.release),
        "createdAt": timestamp(song.created_at),
        "updatedAt": timestamp(song.updated_at),
    }


def _thumbnails(links: Links, key: str) -> dict[str, str]:
    """Cover art by size in pixels (``covers/<id>/<size>.webp``); a cover stored before
    sizes existed is one size."""
    if key.count("/") != 2:
        return {str(COVER_SIZES[-1]): links.file(key)}
    folder = key.rsplit("/", 1)[0]
    return {str(size): links.file(f"{folder}/{size}.webp") for size in COVER_SIZES}


def _renditions(links: Links, song: Any) -> list[dict[str, Any]]:
    """What a player can play, by signed link: the upload itself, and once processing is
    done, the progressive AAC every browser plays."""
    found = [
        {
            "kind": "original",
            "url": links.media(song.audio_key),
            "contentType": FORMATS[song.audio_format].content_type,
        }
    ]
    if song.progressive_key:
        found.append(
            {
                "kind": "aac",
                "url": links.media(song.progressive_key),
                "contentType": CONTENT_TYPES["m4a"],
            }
        )
    return found


def _owner_view(links: Links, owner: Owner) -> dict[str, Any]:
    """``UserPublic``: the owner's public summary, never an email."""
    return {
        "_id": str(owner.id),
        "username": owner.username,
        "fullname": owner.fullname,
        "avatar": links.avatar(owner.avatar_key),
    }


def _release_view(release: OnRelease | None) -> dict[str, Any] | None:
    """``SongRelease``: the release the song is on and its track there, or None."""
    if release is None:
        return None
    return {
        "_id": str(release.id),
        "title": release.title,
        "kind": release.kind,
        "year": release.year,
        "track": release.track,
    }


def page_view(links: Links, page: Page, number: int, limit: int) -> dict[str, Any]:
    docs = [song_view(links, card) for card in page.songs]
    return keyset_page_of(
        docs,
        page=number,
        limit=limit,
        total=page.total,
        next_cursor=page.next_cursor,
        by_cursor=page.by_cursor,
    )
