"""Playlists a route may act on: one the caller may see, or one the caller owns.

A playlist the caller may not see answers 404 whatever the route (a private one cannot be
told from a missing one); one they may see but do not own answers 403 to a change."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.models import Playlist
from bandstand.playlists import repository as repo
from bandstand.playlists.schemas import PlaylistRef


async def _visible_to(session: SessionDep, principal: PrincipalDep, ident: uuid.UUID) -> Playlist:
    playlist = await repo.visible(session, ident, principal.user_id)
    if playlist is None:
        raise NotFound("Playlist not found.")
    return playlist


def _must_own(playlist: Playlist, principal: PrincipalDep) -> Playlist:
    if playlist.owner_id != principal.user_id:
        raise Forbidden("Only the playlist's owner can do this.")
    return playlist


async def _visible(session: SessionDep, principal: PrincipalDep, playlistId: uuid.UUID) -> Playlist:
    return await _visible_to(session, principal, playlistId)


async def _owned(
    playlist: Annotated[Playlist, Depends(_visible)], principal: PrincipalDep
) -> Playlist:
    return _must_own(playlist, principal)


async def _owned_by_body(
    session: SessionDep, principal: PrincipalDep, body: PlaylistRef
) -> Playlist:
    return _must_own(await _visible_to(session, principal, body.playlistId), principal)


VisiblePlaylist = Annotated[Playlist, Depends(_visible)]
OwnedPlaylist = Annotated[Playlist, Depends(_owned)]
OwnedPlaylistInBody = Annotated[Playlist, Depends(_owned_by_body)]
