"""An artist's page: who they are, their songs and their playlists, newest first, as the
API's profile and ``/users/{userId}/content`` give them (a banned or unknown user is 404;
a viewer looking at their own page sees their private playlists and taken-down songs
too)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from bandstand.accounts import profiles
from bandstand.accounts.deps import MaybePrincipalDep
from bandstand.accounts.views import public_view
from bandstand.db import ReadSessionDep
from bandstand.playlists import service as playlists
from bandstand.playlists.views import page_view as playlists_page
from bandstand.resources import CountersDep, LinksDep, SettingsDep
from bandstand.songs import service as songs
from bandstand.songs.views import page_view as songs_page
from bandstand.web.catalogue import PER_PAGE, PageNumber
from bandstand.web.templating import render

router = APIRouter()


@router.get("/artists/{userId}", response_class=HTMLResponse)
async def artist(
    request: Request,
    settings: SettingsDep,
    session: ReadSessionDep,
    counters: CountersDep,
    links: LinksDep,
    viewer: MaybePrincipalDep,
    userId: uuid.UUID,
    page: PageNumber = 1,
) -> HTMLResponse:
    """``page`` pages through both lists at once, as ``/content`` does."""
    user = await profiles.public_user(session, userId)
    viewer_id = viewer.user_id if viewer else None
    found_songs = await songs.newest_page(
        session,
        counters,
        page=page,
        limit=PER_PAGE,
        cursor=None,
        owner_id=user.id,
        viewer_id=viewer_id,
    )
    found_playlists = await playlists.newest_page(
        session, viewer_id=viewer_id, owner_id=user.id, page=page, limit=PER_PAGE
    )
    shown_songs = songs_page(links, found_songs, page, PER_PAGE)
    shown_playlists = playlists_page(links, found_playlists, page, PER_PAGE).model_dump(
        mode="json", by_alias=True
    )
    # One pager for both: the longer list's.
    more = max(shown_songs, shown_playlists, key=lambda shown: shown["totalPages"])
    return render(
        request,
        settings,
        "artist.html",
        viewer,
        person=public_view(links, user),
        joined=user.created_at,
        songs=shown_songs,
        playlists=shown_playlists,
        more=more,
    )
