"""Songs a route may act on: any existing one, one a signed link names, or one the caller
owns."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.media.links import stream_path
from bandstand.models import Song
from bandstand.resources import UrlSignerDep
from bandstand.songs import repository as repo
from bandstand.songs.schemas import SongRef


async def _existing(session: SessionDep, songId: uuid.UUID) -> Song:
    song = await repo.song(session, songId)
    if song is None:
        raise NotFound("Song not found.")
    return song


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


async def _signed(song_id: Annotated[uuid.UUID, Depends(_signed_id)], session: SessionDep) -> Song:
    return await _existing(session, song_id)


async def _owned(song: Annotated[Song, Depends(_existing)], principal: PrincipalDep) -> Song:
    return _must_own(song, principal)


async def _owned_by_body(session: SessionDep, principal: PrincipalDep, body: SongRef) -> Song:
    return _must_own(await _existing(session, body.songId), principal)


ExistingSong = Annotated[Song, Depends(_existing)]
SignedSong = Annotated[Song, Depends(_signed)]
OwnedSong = Annotated[Song, Depends(_owned)]
OwnedSongInBody = Annotated[Song, Depends(_owned_by_body)]
