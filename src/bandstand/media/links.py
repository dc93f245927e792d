"""Signed links to a song's files: one signature covers the song's folder, so a player
can follow an HLS playlist's relative links to its segments."""

from __future__ import annotations

from bandstand.media import hls
from bandstand.media.audio import FORMATS
from bandstand.runtime import Runtime

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


def media_url(rt: Runtime, key: str) -> str:
    token = rt.url_signer.path_token(scope_of(key), rt.settings.stream_url_ttl_s)
    return f"{rt.settings.public_url.rstrip('/')}{MEDIA_PATH}/{token}/{key}"
