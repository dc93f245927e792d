"""HTTP for ``/api/v1/playlist``: parse, call one service function, answer in the envelope.

Who may do what is the routes' dependencies' (``deps.py``): a playlist the caller may not
see is 404 on every route, even to change it; one they see but do not own is 403."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.envelope import Envelope, answer
from bandstand.kit.http import JSON_BODY
from bandstand.kit.openapi import json_or_form_body
from bandstand.kit.pagination import PagingDep, paging
from bandstand.playlists import service
from bandstand.playlists.deps import OwnedPlaylist, OwnedPlaylistInBody, VisiblePlaylist
from bandstand.playlists.forms import COVER, CreateBody, UpdateBody
from bandstand.playlists.schemas import (
    PlaylistCreate,
    PlaylistPage,
    PlaylistRead,
    PlaylistUpdate,
    SongsToAdd,
)
from bandstand.playlists.views import page_view, playlist_view
from bandstand.resources import CountersDep, LinksDep, QueueDep, SettingsDep, StorageDep

router = APIRouter(prefix="/playlist", tags=["playlists"])


@router.post(
    "/",
    response_model=Envelope[PlaylistRead],
    status_code=201,
    summary="Create a playlist (JSON, or multipart with a thumbnail)",
    openapi_extra=json_or_form_body(PlaylistCreate, file=COVER, required=True),
)
@router.post("", response_model=Envelope[PlaylistRead], status_code=201, include_in_schema=False)
async def create(
    session: SessionDep,
    storage: StorageDep,
    counters: CountersDep,
    settings: SettingsDep,
    links: LinksDep,
    principal: PrincipalDep,
    body: CreateBody,
) -> Envelope[PlaylistRead]:
    detail = await service.create(
        session,
        storage,
        counters,
        principal.user_id,
        body.data,
        body.cover,
        settings.image_max_bytes,
    )
    return answer(playlist_view(links, detail), "Playlist created successfully.", 201)


@router.get("/get", response_model=Envelope[PlaylistPage], summary="My playlists, newest first")
async def mine(
    session: ReadSessionDep,
    links: LinksDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> Envelope[PlaylistPage]:
    listing = await service.newest_page(
        session,
        viewer_id=principal.user_id,
        owner_id=principal.user_id,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    return answer(page_view(links, listing, paging.page, paging.limit), "Playlists fetched.")


@router.get(
    "/getPublicPlaylist",
    response_model=Envelope[PlaylistPage],
    summary="Everyone's public playlists, newest first",
)
async def public(
    session: ReadSessionDep,
    links: LinksDep,
    _: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> Envelope[PlaylistPage]:
    listing = await service.newest_page(
        session, viewer_id=None, page=paging.page, limit=paging.limit, cursor=cursor
    )
    page = page_view(links, listing, paging.page, paging.limit)
    return answer(page, "Public playlists fetched.")


@router.get(
    "/get/{playlistId}",
    response_model=Envelope[PlaylistRead],
    summary="One playlist with a page of its songs (public, or the caller's own)",
)
async def get_one(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    playlist: VisiblePlaylist,
    page: int = 1,
    limit: int = service.SONGS_PER_PAGE,
    cursor: str | None = None,
) -> Envelope[PlaylistRead]:
    """``page``/``limit``/``cursor`` page through the songs (100 a page by default, at
    most 100); ``songsPage`` says where the page is."""
    songs_paging = await paging(page, limit)
    detail = await service.detail(
        session,
        counters,
        playlist.id,
        page=songs_paging.page,
        limit=songs_paging.limit,
        cursor=cursor,
    )
    return answer(playlist_view(links, detail), "Playlist fetched.")


@router.post(
    "/{playlistId}/addSongs",
    response_model=Envelope[PlaylistRead],
    dependencies=[JSON_BODY],
    summary="Append songs (one songId, or a list); duplicates are skipped",
)
async def add_songs(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    playlist: OwnedPlaylist,
    body: SongsToAdd,
) -> Envelope[PlaylistRead]:
    detail = await service.add_songs(session, counters, playlist, body.song_ids)
    return answer(playlist_view(links, detail), "Songs added to playlist.")


@router.delete(
    "/{playlistId}/removeSong/{songId}",
    response_model=Envelope[PlaylistRead],
    summary="Take a song out of a playlist (a song not in it is no error)",
)
async def remove_song(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    playlist: OwnedPlaylist,
    songId: uuid.UUID,
) -> Envelope[PlaylistRead]:
    detail = await service.remove_song(session, counters, playlist, songId)
    return answer(playlist_view(links, detail), "Song removed from playlist.")


@router.post(
    "/{playlistId}/update",
    response_model=Envelope[PlaylistRead],
    summary="Change name, description, visibility or cover (JSON, or multipart)",
    openapi_extra=json_or_form_body(PlaylistUpdate, file=COVER, required=True),
)
async def update(
    session: SessionDep,
    storage: StorageDep,
    queue: QueueDep,
    counters: CountersDep,
    settings: SettingsDep,
    links: LinksDep,
    playlist: OwnedPlaylist,
    body: UpdateBody,
) -> Envelope[PlaylistRead]:
    detail = await service.update(
        session,
        storage,
        queue,
        counters,
        playlist,
        body.data,
        body.cover,
        settings.image_max_bytes,
    )
    return answer(playlist_view(links, detail), "Playlist updated successfully.")


@router.delete(
    "/delete",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a playlist and its cover",
)
async def delete(
    session: SessionDep, queue: QueueDep, playlist: OwnedPlaylistInBody
) -> Envelope[None]:
    await service.remove(session, queue, playlist)
    return answer(None, "Playlist deleted successfully.")
