"""Playlists a route may act on: one the caller may see, or one the caller owns.

A playlist the caller may not see answers 404 whatever the route (a private one cannot be
told from a missing one); one they may see but do not own answers 403 to a change."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bandstand.accounts.deps import MaybePrincipalDep, PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.models import Playlist
from bandstand.playlists import repository as repo
from bandstand.playlists.schemas import PlaylistRef


async def visible_to(session: SessionDep, principal: PrincipalDep, ident: uuid.UUID) -> Playlist:
    """The playlist if the caller may see it (public, or theirs); 404 if not."""
    playlist = await repo.visible(session, ident, principal.user_id)
    if playlist is None:
        raise NotFound("Playlist not found.")
    return playlist


def must_own(playlist: Playlist, principal: PrincipalDep) -> Playlist:
    """The playlist, if it is the caller's; 403 if not (they may see it)."""
    if playlist.owner_id != principal.user_id:
        raise Forbidden("Only the playlist's owner can do this.")
    return playlist


async def _seen(session: SessionDep, viewer: MaybePrincipalDep, playlistId: uuid.UUID) -> Playlist:
    """The playlist if the caller, signed in or not, may see it; 404 if not."""
    playlist = await repo.visible(session, playlistId, viewer.user_id if viewer else None)
    if playlist is None:
        raise NotFound("Playlist not found.")
    return playlist


async def _visible(session: SessionDep, principal: PrincipalDep, playlistId: uuid.UUID) -> Playlist:
    return await visible_to(session, principal, playlistId)


async def _owned(
    playlist: Annotated[Playlist, Depends(_visible)], principal: PrincipalDep
) -> Playlist:
    return must_own(playlist, principal)


async def _owned_by_body(
    session: SessionDep, principal: PrincipalDep, body: PlaylistRef
) -> Playlist:
    return must_own(await visible_to(session, principal, body.playlistId), principal)


VisiblePlaylist = Annotated[Playlist, Depends(_visible)]
# For pages anyone may open (bandstand/web/).
SeenPlaylist = Annotated[Playlist, Depends(_seen)]
OwnedPlaylist = Annotated[Playlist, Depends(_owned)]
OwnedPlaylistInBody = Annotated[Playlist, Depends(_owned_by_body)]
