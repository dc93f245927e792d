"""Signed links to a song's files: one signature covers the song's folder, so a player
can follow an HLS playlist's relative links to its segments."""

from __future__ import annotations

import uuid

from bandstand.config import Settings
from bandstand.kit.signing import UrlSigner
from bandstand.media import hls
from bandstand.media.audio import FORMATS
from bandstand.storage import Storage

MEDIA_PATH = "/api/v1/media"
# What each stored file is, by its extension: the upload formats and what processing
# writes (HLS playlists, init and media segments); anything else is never served.
CONTENT_TYPES = {
    **{fmt.extension: fmt.content_type for fmt in FORMATS.values()},
    "m3u8": hls.PLAYLIST_CONTENT_TYPE,
    "mp4": hls.SEGMENT_CONTENT_TYPE,
    "m4s": hls.SEGMENT_CONTENT_TYPE,
}


def scope_of(key: str) -> str:
    """What a link's signature covers: ``/songs/<id>/`` for ``songs/<id>/original.wav``."""
    return "/" + key.rsplit("/", 1)[0] + "/"


def stream_path(song_id: uuid.UUID) -> str:
    """The path a stream URL signs: always the canonical form of the id."""
    return f"/api/v1/songs/{song_id}/stream"


class Links:
    """How answers name files: a stored file's public URL, and signed links to a song's
    media that expire after ``stream_url_ttl_s``. Every view that shows a file takes one."""

    def __init__(self, settings: Settings, storage: Storage, url_signer: UrlSigner) -> None:
        self._storage = storage
        self._signer = url_signer
        self._ttl_s = settings.stream_url_ttl_s
        self._base = settings.public_url.rstrip("/")

    def file(self, key: str) -> str:
        """A stored file anyone may fetch (a cover, an avatar)."""
        return self._storage.url(key)

    def avatar(self, key: str | None) -> str | None:
        return self._storage.url(key) if key else None

    def media(self, key: str) -> str:
        """A song's file, by a link whose signature covers the song's folder."""
        token = self._signer.path_token(scope_of(key), self._ttl_s)
        return f"{self._base}{MEDIA_PATH}/{token}/{key}"

    def stream(self, song_id: uuid.UUID) -> str:
        """The song's stream route, signed."""
        path = stream_path(song_id)
        return f"{self._base}{path}?{self._signer.query(path, self._ttl_s)}"

    def waveform(self, song_id: uuid.UUID) -> str:
        return f"{self._base}/api/v1/songs/{song_id}/waveform"
