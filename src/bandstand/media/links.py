"""Signed links to a song's files: one signature covers the song's folder, so a player
can follow an HLS playlist's relative links to its segments."""

from __future__ import annotations

from bandstand.runtime import Runtime

MEDIA_PATH = "/api/v1/media"
# What each stored file is, by its extension; anything else is never served.
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "m3u8": "application/vnd.apple.mpegurl",
    "mp4": "audio/mp4",
    "m4s": "audio/mp4",
}


def scope_of(key: str) -> str:
    """What a link's signature covers: ``/songs/<id>/`` for ``songs/<id>/original.wav``."""
    return "/" + key.rsplit("/", 1)[0] + "/"


def media_url(rt: Runtime, key: str) -> str:
    token = rt.url_signer.path_token(scope_of(key), rt.settings.stream_url_ttl_s)
    return f"{rt.settings.public_url.rstrip('/')}{MEDIA_PATH}/{token}/{key}"
