"""Songs a route may act on: one the caller may see, one a signed link names (and whoever
follows it may see), or one the caller owns.

A song the caller may not see (taken down, or its owner banned, and not theirs) answers
404 whatever the route, before any 403: it cannot be told from a missing one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts.deps import MaybePrincipalDep, PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.media.links import stream_path
from bandstand.models import Song
from bandstand.resources import UrlSignerDep
from bandstand.songs import repository as repo
from bandstand.songs.schemas import SongRef


async def _seen_by(session: AsyncSession, song_id: uuid.UUID, viewer_id: uuid.UUID | None) -> Song:
    song = await repo.song(session, song_id, viewer_id)
    if song is None:
        raise NotFound("Song not found.")
    return song


async def _existing(session: SessionDep, principal: PrincipalDep, songId: uuid.UUID) -> Song:
    return await _seen_by(session, songId, principal.user_id)


def _must_own(song: Song, principal: PrincipalDep) -> Song:
    if song.owner_id != principal.user_id:
        raise Forbidden("Only the song's owner can do this.")
    return song


async def _signed_id(request: Request, url_signer: UrlSignerDep, songId: uuid.UUID) -> uuid.UUID:
    # Checked before the song is looked up: a forged link costs no database query and
    # learns nothing about which ids exist.
    query = request.query_params
    if not url_signer.valid(stream_path(songId), query.get("exp"), query.get("sig")):
        raise Forbidden("This link is invalid or has expired.")
    return songId


async def _signed(
    song_id: Annotated[uuid.UUID, Depends(_signed_id)],
    session: SessionDep,
    principal: MaybePrincipalDep,
) -> Song:
    # A link is followed without a login as often as with one (players): its owner still
    # plays a song taken down when their login comes along (the web player's cookie).
    return await _seen_by(session, song_id, principal.user_id if principal else None)


async def _owned(song: Annotated[Song, Depends(_existing)], principal: PrincipalDep) -> Song:
    return _must_own(song, principal)


async def _owned_by_body(session: SessionDep, principal: PrincipalDep, body: SongRef) -> Song:
    return _must_own(await _seen_by(session, body.songId, principal.user_id), principal)


ExistingSong = Annotated[Song, Depends(_existing)]
SignedSong = Annotated[Song, Depends(_signed)]
OwnedSong = Annotated[Song, Depends(_owned)]
OwnedSongInBody = Annotated[Song, Depends(_owned_by_body)]
