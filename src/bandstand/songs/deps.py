"""Songs a route may act on: any existing one, or one the caller owns."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.models import Song
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


async def _owned(song: Annotated[Song, Depends(_existing)], principal: PrincipalDep) -> Song:
    return _must_own(song, principal)


async def _owned_by_body(session: SessionDep, principal: PrincipalDep, body: SongRef) -> Song:
    return _must_own(await _existing(session, body.songId), principal)


ExistingSong = Annotated[Song, Depends(_existing)]
OwnedSong = Annotated[Song, Depends(_owned)]
OwnedSongInBody = Annotated[Song, Depends(_owned_by_body)]
