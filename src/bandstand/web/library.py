"""A listener's library (liked songs, history, their playlists) and the playlist pages:
one playlist to listen to, and its owner's forms to make and change it.

Each route calls what the JSON route calls (``playlists/router.py``, ``/songs/likedSongs``,
``/users/watchHistory``) and the same dependencies decide who may do what: a playlist the
viewer may not see is 404 on every route, one they see but do not own is 403 to a change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bandstand.accounts.deps import MaybePrincipalDep, Principal
from bandstand.config import Settings
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement import service as engagement
from bandstand.engagement.counters import Counters
from bandstand.engagement.views import history_view, liked_view
from bandstand.errors import AppError
from bandstand.media.links import Links
from bandstand.playlists import service as playlists
from bandstand.playlists.deps import OwnedPlaylist, SeenPlaylist
from bandstand.playlists.schemas import PlaylistCreate, PlaylistUpdate, SongsToAdd
from bandstand.playlists.views import page_view, playlist_view
from bandstand.resources import CountersDep, LinksDep, QueueDep, SettingsDep, StorageDep
from bandstand.search import service as search_service
from bandstand.songs.views import song_view
from bandstand.web.auth import ViewerRequired
from bandstand.web.catalogue import PER_PAGE, PageNumber
from bandstand.web.csrf import CSRF
from bandstand.web.forms import refusal, undo, validated
from bandstand.web.templating import render

router = APIRouter()
SHELF = 6  # songs in each list of the library's overview
FOUND = 10  # songs an owner's search for songs to add shows

Text = Annotated[str | None, Form()]
Cover = Annotated[UploadFile | None, File()]


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _sent(**fields: str | None) -> dict[str, str]:
    """The playlist form's fields that were sent: one left out is not changed."""
    return {name: value for name, value in fields.items() if value is not None}


async def _cover(settings: Settings, upload: UploadFile | None) -> bytes | None:
    # A file input left empty sends a nameless, empty part: no cover.
    if upload is None or not (upload.filename or upload.size):
        return None
    return await upload.read(settings.image_max_bytes + 1)


@dataclass(frozen=True)
class Shelf:
    """What the library's and playlists' pages are rendered from, gathered once per
    request. Who the viewer is each route declares: ``ViewerRequired`` or, where anyone
    may look, ``MaybePrincipalDep``."""

    request: Request
    settings: Settings
    session: AsyncSession
    counters: Counters
    links: Links


async def _reading(
    request: Request,
    settings: SettingsDep,
    session: ReadSessionDep,
    counters: CountersDep,
    links: LinksDep,
) -> Shelf:
    return Shelf(request, settings, session, counters, links)


async def _writing(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
) -> Shelf:
    return Shelf(request, settings, session, counters, links)


# Lists take ``Reading``; a playlist's pages take ``Writing``, whose session is the one
# ``SeenPlaylist`` and ``OwnedPlaylist`` read the playlist with.
Reading = Annotated[Shelf, Depends(_reading)]
Writing = Annotated[Shelf, Depends(_writing)]


def _render(shelf: Shelf, template: str, viewer: Principal | None, **context: Any) -> HTMLResponse:
    return render(shelf.request, shelf.settings, template, viewer, **context)


# The library.


@router.get("/library", response_class=HTMLResponse)
async def library(shelf: Reading, viewer: ViewerRequired) -> HTMLResponse:
    session, counters, settings, links = shelf.session, shelf.counters, shelf.settings, shelf.links
    me = viewer.user_id
    liked = await engagement.liked_songs(session, counters, me, page=1, limit=SHELF, cursor=None)
    history = await engagement.history(
        session, counters, settings, me, page=1, limit=SHELF, cursor=None
    )
    mine = await playlists.newest_page(session, viewer_id=me, owner_id=me, page=1, limit=PER_PAGE)
    return _render(
        shelf,
        "library/index.html",
        viewer,
        liked=liked_view(links, liked, 1, SHELF),
        history=history_view(links, history, 1, SHELF),
        playlists=page_view(links, mine, 1, PER_PAGE).model_dump(mode="json", by_alias=True),
    )


@router.get("/library/liked", response_class=HTMLResponse)
async def liked(shelf: Reading, viewer: ViewerRequired, page: PageNumber = 1) -> HTMLResponse:
    found = await engagement.liked_songs(
        shelf.session, shelf.counters, viewer.user_id, page=page, limit=PER_PAGE, cursor=None
    )
    shaped = liked_view(shelf.links, found, page, PER_PAGE)
    return _render(shelf, "library/songs.html", viewer, kind="liked", songs=shaped)


@router.get("/library/history", response_class=HTMLResponse)
async def history(shelf: Reading, viewer: ViewerRequired, page: PageNumber = 1) -> HTMLResponse:
    me = viewer.user_id
    found = await engagement.history(
        shelf.session, shelf.counters, shelf.settings, me, page=page, limit=PER_PAGE, cursor=None
    )
    shaped = history_view(shelf.links, found, page, PER_PAGE)
    songs = {**shaped, "docs": [entry["song"] for entry in shaped["docs"]]}
    return _render(shelf, "library/songs.html", viewer, kind="history", songs=songs)


@router.get("/library/playlists", response_class=HTMLResponse)
async def my_playlists(
    shelf: Reading, viewer: ViewerRequired, page: PageNumber = 1
) -> HTMLResponse:
    me = viewer.user_id
    mine = await playlists.newest_page(
        shelf.session, viewer_id=me, owner_id=me, page=page, limit=PER_PAGE
    )
    shaped = page_view(shelf.links, mine, page, PER_PAGE).model_dump(mode="json", by_alias=True)
    return _render(shelf, "library/playlists.html", viewer, playlists=shaped)


# Making a playlist.


@router.get("/playlists/new", response_class=HTMLResponse)
async def new_playlist(
    request: Request, settings: SettingsDep, viewer: ViewerRequired
) -> HTMLResponse:
    return render(request, settings, "library/new.html", viewer, values={}, fields={})


@router.post("/playlists", response_class=HTMLResponse, dependencies=[CSRF])
async def create_playlist(
    shelf: Writing,
    storage: StorageDep,
    viewer: ViewerRequired,
    playlist_name: Text = None,
    description: Text = None,
    isPublic: Text = None,
    thumbnail: Cover = None,
) -> Response:
    settings = shelf.settings
    values = _sent(playlist_name=playlist_name, description=description or "", isPublic=isPublic)
    try:
        data = validated(PlaylistCreate, values)
        cover = await _cover(settings, thumbnail)
        made = await playlists.create(
            shelf.session,
            storage,
            shelf.counters,
            viewer.user_id,
            data,
            cover,
            settings.image_max_bytes,
        )
    except AppError as exc:
        await undo(shelf.session, exc)
        return _render(shelf, "library/new.html", viewer, values=values, **refusal(exc))
    return _back(f"/playlists/{made.card.id}")


# One playlist.


async def _shown(
    shelf: Shelf, playlist_id: uuid.UUID, viewer: Principal | None, page: int = 1
) -> dict[str, Any]:
    """The playlist and a page of the songs the viewer may see, as the API answers it."""
    detail = await playlists.detail(
        shelf.session,
        shelf.counters,
        playlist_id,
        viewer_id=viewer.user_id if viewer else None,
        page=page,
        limit=playlists.SONGS_PER_PAGE,
    )
    return playlist_view(shelf.links, detail).model_dump(mode="json", by_alias=True)


async def _playlist_page(
    shelf: Shelf,
    playlist_id: uuid.UUID,
    viewer: Principal | None,
    *,
    page: int = 1,
    q: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The playlist's page; its owner's has the search for songs to add, and ``q``'s
    results."""
    shown = await _shown(shelf, playlist_id, viewer, page)
    mine = viewer is not None and shown["owner"]["_id"] == str(viewer.user_id)
    found = None
    if mine and q.strip():
        try:
            hits = await search_service.search(shelf.session, shelf.counters, q, 1, FOUND)
            found = [song_view(shelf.links, card) for card in hits.songs.items]
        except AppError as exc:
            error, status = exc.message, exc.status_code
    return _render(
        shelf,
        "playlist.html",
        viewer,
        status=status,
        playlist=shown,
        mine=mine,
        song_query=q,
        found=found,
        error=error,
    )


@router.get("/playlists/{playlistId}", response_class=HTMLResponse)
async def playlist_page(
    shelf: Writing,
    viewer: MaybePrincipalDep,
    playlist: SeenPlaylist,
    page: PageNumber = 1,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    return await _playlist_page(shelf, playlist.id, viewer, page=page, q=q)


@router.post("/playlists/{playlistId}/songs", response_class=HTMLResponse, dependencies=[CSRF])
async def add_song(
    shelf: Writing,
    viewer: ViewerRequired,
    playlist: OwnedPlaylist,
    songId: Text = None,
    q: Text = None,
) -> Response:
    """Add one song (from the owner's search, or a song's page) and come back to the
    search."""
    playlist_id = playlist.id
    try:
        wanted = SongsToAdd.model_validate({"songId": songId or ""})
    except ValidationError:
        error, status = "Choose a song to add.", 400
    else:
        try:
            await playlists.add_songs(shelf.session, shelf.counters, playlist, wanted.song_ids)
            query = f"?{urlencode({'q': q})}" if q else ""
            return _back(f"/playlists/{playlist_id}{query}")
        except AppError as exc:
            await undo(shelf.session, exc)
            error, status = exc.message, exc.status_code
    return await _playlist_page(shelf, playlist_id, viewer, q=q or "", error=error, status=status)


# Changing one: its owner's page for it.


def _values(shown: dict[str, Any]) -> dict[str, str]:
    """The edit form's fields as the playlist has them."""
    return {
        "playlist_name": shown["playlist_name"],
        "description": shown["description"],
        "isPublic": "true" if shown["isPublic"] else "false",
    }


@router.get("/playlists/{playlistId}/edit", response_class=HTMLResponse)
async def edit_page(
    shelf: Writing, viewer: ViewerRequired, playlist: OwnedPlaylist
) -> HTMLResponse:
    shown = await _shown(shelf, playlist.id, viewer)
    return _render(
        shelf, "library/edit.html", viewer, playlist=shown, values=_values(shown), fields={}
    )


@router.post("/playlists/{playlistId}/edit", response_class=HTMLResponse, dependencies=[CSRF])
async def edit(
    shelf: Writing,
    storage: StorageDep,
    queue: QueueDep,
    viewer: ViewerRequired,
    playlist: OwnedPlaylist,
    playlist_name: Text = None,
    description: Text = None,
    isPublic: Text = None,
    thumbnail: Cover = None,
) -> Response:
    """The whole form, or a field of it (the playlist page's "Make private" sends only
    ``isPublic``)."""
    session, settings = shelf.session, shelf.settings
    playlist_id = playlist.id
    values = _sent(playlist_name=playlist_name, description=description, isPublic=isPublic)
    try:
        data = validated(PlaylistUpdate, values)
        cover = await _cover(settings, thumbnail)
        await playlists.update(
            session, storage, queue, shelf.counters, playlist, data, cover, settings.image_max_bytes
        )
    except AppError as exc:
        await undo(session, exc)
        shown = await _shown(shelf, playlist_id, viewer)
        values = {**_values(shown), **values}
        return _render(
            shelf, "library/edit.html", viewer, playlist=shown, values=values, **refusal(exc)
        )
    return _back(f"/playlists/{playlist_id}")


@router.post(
    "/playlists/{playlistId}/songs/{songId}/remove",
    response_class=RedirectResponse,
    dependencies=[CSRF],
)
async def remove_song(
    session: SessionDep,
    counters: CountersDep,
    _: ViewerRequired,
    playlist: OwnedPlaylist,
    songId: uuid.UUID,
) -> RedirectResponse:
    await playlists.remove_song(session, counters, playlist, songId)
    return _back(f"/playlists/{playlist.id}/edit")


@router.post("/playlists/{playlistId}/delete", response_class=RedirectResponse, dependencies=[CSRF])
async def delete(
    session: SessionDep, queue: QueueDep, _: ViewerRequired, playlist: OwnedPlaylist
) -> RedirectResponse:
    await playlists.remove(session, queue, playlist)
    return _back("/library/playlists")
