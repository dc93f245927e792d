"""HTTP for ``/api/v1/playlist``: parse, call one service function, answer in the envelope.

Who may do what is the routes' dependencies' (``deps.py``): a playlist the caller may not
see is 404 on every route, even to change it; one they see but do not own is 403."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.http import JSON_BODY
from bandstand.kit.pagination import PagingDep, paging
from bandstand.playlists import service
from bandstand.playlists.deps import OwnedPlaylist, OwnedPlaylistInBody, VisiblePlaylist
from bandstand.playlists.forms import CreateBody, UpdateBody, request_body
from bandstand.playlists.schemas import (
    PlaylistCreate,
    PlaylistPage,
    PlaylistRead,
    PlaylistUpdate,
    SongsToAdd,
)
from bandstand.playlists.views import page_view, playlist_view
from bandstand.runtime import RuntimeDep

router = APIRouter(prefix="/playlist", tags=["playlists"])


@router.post(
    "/",
    response_model=Envelope[PlaylistRead],
    status_code=201,
    summary="Create a playlist (JSON, or multipart with a thumbnail)",
    openapi_extra=request_body(PlaylistCreate, required=True),
)
@router.post("", status_code=201, include_in_schema=False)
async def create(
    rt: RuntimeDep, session: SessionDep, principal: PrincipalDep, body: CreateBody
) -> JSONResponse:
    detail = await service.create(rt, session, principal.user_id, body.data, body.cover)
    return envelope(playlist_view(rt, detail), "Playlist created successfully.", 201)


@router.get("/get", response_model=Envelope[PlaylistPage], summary="My playlists, newest first")
async def mine(
    rt: RuntimeDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    listing = await service.newest_page(
        session,
        viewer_id=principal.user_id,
        owner_id=principal.user_id,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    return envelope(page_view(rt, listing, paging.page, paging.limit), "Playlists fetched.")


@router.get(
    "/getPublicPlaylist",
    response_model=Envelope[PlaylistPage],
    summary="Everyone's public playlists, newest first",
)
async def public(
    rt: RuntimeDep,
    session: ReadSessionDep,
    _: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    listing = await service.newest_page(
        session, viewer_id=None, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return envelope(page_view(rt, listing, paging.page, paging.limit), "Public playlists fetched.")


@router.get(
    "/get/{playlistId}",
    response_model=Envelope[PlaylistRead],
    summary="One playlist with a page of its songs (public, or the caller's own)",
)
async def get_one(
    rt: RuntimeDep,
    session: SessionDep,
    playlist: VisiblePlaylist,
    page: int = 1,
    limit: int = service.SONGS_PER_PAGE,
    cursor: str | None = None,
) -> JSONResponse:
    """``page``/``limit``/``cursor`` page through the songs (100 a page by default, at
    most 100); ``songsPage`` says where the page is."""
    songs_paging = await paging(page, limit)
    detail = await service.detail(
        rt, session, playlist.id, page=songs_paging.page, limit=songs_paging.limit, cursor=cursor
    )
    return envelope(playlist_view(rt, detail), "Playlist fetched.")


@router.post(
    "/{playlistId}/addSongs",
    response_model=Envelope[PlaylistRead],
    dependencies=[JSON_BODY],
    summary="Append songs (one songId, or a list); duplicates are skipped",
)
async def add_songs(
    rt: RuntimeDep, session: SessionDep, playlist: OwnedPlaylist, body: SongsToAdd
) -> JSONResponse:
    detail = await service.add_songs(rt, session, playlist, body.song_ids)
    return envelope(playlist_view(rt, detail), "Songs added to playlist.")


@router.delete(
    "/{playlistId}/removeSong/{songId}",
    response_model=Envelope[PlaylistRead],
    summary="Take a song out of a playlist (a song not in it is no error)",
)
async def remove_song(
    rt: RuntimeDep, session: SessionDep, playlist: OwnedPlaylist, songId: uuid.UUID
) -> JSONResponse:
    detail = await service.remove_song(rt, session, playlist, songId)
    return envelope(playlist_view(rt, detail), "Song removed from playlist.")


@router.post(
    "/{playlistId}/update",
    response_model=Envelope[PlaylistRead],
    summary="Change name, description, visibility or cover (JSON, or multipart)",
    openapi_extra=request_body(PlaylistUpdate, required=True),
)
async def update(
    rt: RuntimeDep, session: SessionDep, playlist: OwnedPlaylist, body: UpdateBody
) -> JSONResponse:
    detail = await service.update(rt, session, playlist, body.data, body.cover)
    return envelope(playlist_view(rt, detail), "Playlist updated successfully.")


@router.delete(
    "/delete",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a playlist and its cover",
)
async def delete(
    rt: RuntimeDep, session: SessionDep, playlist: OwnedPlaylistInBody
) -> JSONResponse:
    await service.remove(rt, session, playlist)
    return envelope(None, "Playlist deleted successfully.")
