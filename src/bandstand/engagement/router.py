"""HTTP for plays, song likes and listening history (``/songs/...``, ``/users/...``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement import service
from bandstand.engagement.schemas import HistoryPage, LikedPage, LikeRead, PlayRead
from bandstand.engagement.views import history_view, like_view, liked_view
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.pagination import PagingDep
from bandstand.runtime import RuntimeDep
from bandstand.songs.cards import read_card
from bandstand.songs.deps import ExistingSong
from bandstand.songs.views import song_view

# Two routers because of the songs router between them. ``first`` goes before every other
# router: there ``GET /songs/likedSongs`` is not taken for a song id, and the busiest write
# (a like) is matched without trying every other route first. ``router`` goes after songs,
# where ``POST /songs/upload`` is not taken for a play.
first = APIRouter(tags=["engagement"])
router = APIRouter(tags=["engagement"])


@first.get(
    "/songs/likedSongs", response_model=Envelope[LikedPage], summary="Songs I liked, newest first"
)
async def liked_songs(
    rt: RuntimeDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    listing = await service.liked_songs(
        rt, session, principal.user_id, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return envelope(liked_view(rt, listing, paging.page, paging.limit), "Liked songs fetched.")


@router.post(
    "/songs/{songId}",
    response_model=Envelope[PlayRead],
    summary="Play a song: it joins my history and counts as a view (once per 30 minutes)",
)
async def play(
    rt: RuntimeDep, session: SessionDep, principal: PrincipalDep, song: ExistingSong
) -> JSONResponse:
    played = await service.play(rt, session, principal.user_id, song)
    counted = played.counted
    if counted:
        message = "Fetched song and view was counted."
    elif played.own:
        message = "Fetched song; view was not counted (it is your own song)."
    else:
        message = "Fetched song; view was not counted (played within the last 30 minutes)."
    card = await read_card(rt.counters, song)
    return envelope({**song_view(rt, card), "viewCounted": counted}, message)


@first.post("/songs/{songId}/like", response_model=Envelope[LikeRead], summary="Like a song")
async def like(rt: RuntimeDep, principal: PrincipalDep, songId: uuid.UUID) -> JSONResponse:
    state = await service.like(rt, principal.user_id, songId)
    return envelope(like_view(state), "Song liked successfully.")


@first.post("/songs/{songId}/unlike", response_model=Envelope[LikeRead], summary="Withdraw a like")
async def unlike(rt: RuntimeDep, principal: PrincipalDep, songId: uuid.UUID) -> JSONResponse:
    state = await service.unlike(rt, principal.user_id, songId)
    return envelope(like_view(state), "Song unliked successfully.")


@first.get(
    "/users/watchHistory", response_model=Envelope[HistoryPage], summary="My listening history"
)
@first.post(
    "/users/watchHistory", response_model=Envelope[HistoryPage], summary="My listening history"
)
async def watch_history(
    rt: RuntimeDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    """Each song once, at its latest play, newest first: the last 30 days, at most 500."""
    listing = await service.history(
        rt, session, principal.user_id, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return envelope(history_view(rt, listing, paging.page, paging.limit), "Watch history fetched.")
