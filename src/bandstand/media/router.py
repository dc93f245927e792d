"""HTTP for ``/api/v1/media``: a song's files by signed link.

Embedded, this answers with the bytes (Range and all); with ``media_offload`` it hands the
file to the proxy; in production the proxy itself checks these links and sends the files
(``bandstand proxy-config``), asking here only for a song taken down or whose owner was
banned since (``withheld.py``).

A song's files are the song's: whoever may not see it (taken down, or its owner banned,
and not theirs: ``songs.repository.listed``) is answered 404, as by every song route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from bandstand.accounts.deps import MaybePrincipalDep
from bandstand.db import ReadSessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.media.delivery import deliver
from bandstand.media.links import CONTENT_TYPES, scope_of
from bandstand.resources import SettingsDep, StorageDep, UrlSignerDep
from bandstand.songs import repository as songs
from bandstand.storage import InvalidKey, check_key

router = APIRouter(prefix="/media", tags=["media"])
PLAYLIST = CONTENT_TYPES["m3u8"]
PLAYLIST_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


# HEAD too: players and proxies ask it before they fetch; it answers as GET would.
@router.head(
    "/{expires}/{signature}/songs/{folder}/{name}",
    summary="The headers GET would answer with, without the body",
)
@router.get(
    "/{expires}/{signature}/songs/{folder}/{name}",
    summary="A song's file (original, rendition, HLS) by signed link; honours Range",
    responses={200: {"content": {"audio/mp4": {}}}, 206: {"description": "Partial content"}},
)
async def signed_media(
    expires: str,
    signature: str,
    folder: str,
    name: str,
    request: Request,
    url_signer: UrlSignerDep,
    storage: StorageDep,
    settings: SettingsDep,
    session: ReadSessionDep,
    principal: MaybePrincipalDep,
) -> Response:
    key = f"songs/{folder}/{name}"
    # The signature first: a forged link learns nothing, not even whether a file exists.
    if not url_signer.valid(scope_of(key), expires, signature):
        raise Forbidden("This link is invalid or has expired.")
    try:
        check_key(key)
    except InvalidKey as exc:
        raise NotFound("Media not found.") from exc
    content_type = CONTENT_TYPES.get(key.rsplit(".", 1)[-1])
    if content_type is None:
        raise NotFound("Media not found.")
    # Players follow these links without a login as often as with one; the owner of a
    # song taken down plays it when their login comes along (the web player's cookie).
    if not await songs.files_seen(session, folder, principal.user_id if principal else None):
        raise NotFound("Media not found.")
    if content_type == PLAYLIST and storage.local_path(key) is None:
        # From an object store, a playlist is answered here rather than by a redirect: a
        # player resolves its relative links against the URL it finally read it from, and
        # the segments must be asked of us (each then redirected) with our signature.
        try:
            playlist = await storage.get(key)
        except FileNotFoundError as exc:
            raise NotFound("Media not found.") from exc
        return Response(playlist, media_type=content_type, headers=PLAYLIST_HEADERS)
    return await deliver(storage, settings, key, content_type, request, "private, max-age=3600")
