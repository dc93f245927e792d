"""HTTP for ``/api/v1/songs``: parse, call one service function, answer in the envelope.

Every ``/songs/...`` route is declared here, whichever domain's service answers it (songs,
engagement, search), so their order is visible in one place. Two rules hold it, and
tests/test_routes.py checks both against the built app:

* likes come first: the busiest write is matched before any other route is tried (route
  matching was an eighth of a like's CPU when every router came before it);
* literal paths (``/search``, ``/likedSongs``, ``/upload``) come before the routes that take
  a ``{songId}`` in the same place, so a literal is never read as a song id.

Tags are per route so the API docs keep grouping them by domain.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import AliasChoices
from starlette.responses import Response

from bandstand.accounts.deps import CurrentUser, PrincipalDep
from bandstand.accounts.views import public_view
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement import service as engagement
from bandstand.engagement.schemas import LikedPage, LikeRead, PlayRead
from bandstand.engagement.views import like_view, liked_view
from bandstand.kit.envelope import Envelope, answer, envelope
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.pagination import PagingDep, page_of
from bandstand.media.audio import FORMATS
from bandstand.media.delivery import deliver
from bandstand.playlists.views import cards_view
from bandstand.resources import (
    CatalogueDep,
    CommentAnswersDep,
    CountersDep,
    LikesDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
)
from bandstand.search import service as search_service
from bandstand.search.schemas import SearchResults
from bandstand.songs import service
from bandstand.songs.cards import read_card
from bandstand.songs.deps import ExistingSong, OwnedSong, OwnedSongInBody, SignedSong
from bandstand.songs.quota_view import QuotaRead
from bandstand.songs.schemas import SongPage, SongRead, SongUpdate, UploadRead, Waveform
from bandstand.songs.views import page_view, song_view

router = APIRouter(prefix="/songs")
SONGS: list[str | Enum] = ["songs"]
ENGAGEMENT: list[str | Enum] = ["engagement"]
SEARCH: list[str | Enum] = ["search"]
# The upload's text fields, with examples for /docs to fill its form with (not "string").
# Genre is one field there, spelt as in the spec; ``genre`` is read too.
FormTitle = Annotated[str | None, Form(examples=["First light"])]
FormDescription = Annotated[str | None, Form(examples=["Recorded at home, in one take."])]
FormGenre = Annotated[
    str | None, Form(validation_alias=AliasChoices("Genre", "genre"), examples=["Ambient"])
]


@router.post(
    "/{songId}/like",
    response_model=Envelope[LikeRead],
    tags=ENGAGEMENT,
    summary="Like a song",
)
async def like(likes: LikesDep, principal: PrincipalDep, songId: uuid.UUID) -> JSONResponse:
    state = await engagement.like(likes, principal.user_id, songId)
    return envelope(like_view(state), "Song liked successfully.")


@router.post(
    "/{songId}/unlike",
    response_model=Envelope[LikeRead],
    tags=ENGAGEMENT,
    summary="Withdraw a like",
)
async def unlike(likes: LikesDep, principal: PrincipalDep, songId: uuid.UUID) -> JSONResponse:
    state = await engagement.unlike(likes, principal.user_id, songId)
    return envelope(like_view(state), "Song unliked successfully.")


@router.get(
    "/search",
    response_model=Envelope[SearchResults],
    tags=SEARCH,
    summary="Search songs, people and public playlists (typo-tolerant)",
)
async def search(
    counters: CountersDep,
    links: LinksDep,
    session: SessionDep,
    _: PrincipalDep,
    paging: PagingDep,
    q: str | None = None,
) -> JSONResponse:
    """Each kind is a page of its own, through at most its best 1,000 matches.
    ``totalExact`` is false when the search stopped before it saw every match (it reads
    only as far as the page needs): ``totalDocs`` is then a lower bound, at most 1,000."""
    found = await search_service.search(session, counters, q, paging.page, paging.limit)

    def page(docs: list[dict[str, Any]], total: int, exact: bool) -> dict[str, Any]:
        shaped = page_of(docs, page=paging.page, limit=paging.limit, total=total)
        return {**shaped, "totalExact": exact}

    songs, users, playlists = found.songs, found.users, found.playlists
    data = {
        "songs": page([song_view(links, s) for s in songs.items], songs.total, songs.exact),
        "users": page([public_view(links, u) for u in users.items], users.total, users.exact),
        "playlists": page(
            cards_view(links, playlists.listing), playlists.listing.total, playlists.exact
        ),
    }
    return envelope(data, "Search results fetched.")


@router.get(
    "/likedSongs",
    response_model=Envelope[LikedPage],
    tags=ENGAGEMENT,
    summary="Songs I liked, newest first",
)
async def liked_songs(
    counters: CountersDep,
    links: LinksDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    listing = await engagement.liked_songs(
        session, counters, principal.user_id, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return envelope(liked_view(links, listing, paging.page, paging.limit), "Liked songs fetched.")


@router.post(
    "/upload",
    response_model=Envelope[UploadRead],
    tags=SONGS,
    status_code=201,
    dependencies=[MULTIPART_BODY],
    summary="Upload a song with its cover art (413 past the storage quota, 429 past a day's)",
)
async def upload(
    settings: SettingsDep,
    storage: StorageDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    counters: CountersDep,
    links: LinksDep,
    session: SessionDep,
    owner: CurrentUser,
    songFile: Annotated[UploadFile, File()],
    thumbnail: Annotated[UploadFile, File()],
    title: FormTitle = None,
    description: FormDescription = None,
    genre: FormGenre = None,
) -> JSONResponse:
    form = service.UploadForm(title=title, description=description, genre=genre)
    cover = await thumbnail.read(settings.image_max_bytes + 1)
    song, quota = await service.upload(
        session, settings, storage, queue, catalogue, owner, form, songFile.file, cover
    )
    card = await read_card(counters, song)
    data = {**song_view(links, card), "quota": QuotaRead.of(quota).model_dump()}
    return envelope(data, "Song uploaded successfully.", 201)


@router.get("/home", response_model=Envelope[SongPage], tags=SONGS, summary="Newest songs")
async def home(
    catalogue: CatalogueDep,
    counters: CountersDep,
    links: LinksDep,
    session: ReadSessionDep,
    _: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> Response:
    """The same for every listener, so recent answers are reused (``catalogue_cache_s``)."""

    async def render() -> bytes:
        page = await service.newest_page(
            session, counters, page=paging.page, limit=paging.limit, cursor=cursor
        )
        shaped = page_view(links, page, paging.page, paging.limit)
        return bytes(envelope(shaped, "Songs fetched.").body)

    body = await catalogue.fetch((paging.page, paging.limit, cursor), render)
    return Response(body, media_type="application/json")


@router.get(
    "/userSongs", response_model=Envelope[SongPage], tags=SONGS, summary="My songs, newest first"
)
async def user_songs(
    counters: CountersDep,
    links: LinksDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    page = await service.newest_page(
        session,
        counters,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
        owner_id=principal.user_id,
        # Their own taken-down songs too, with why.
        viewer_id=principal.user_id,
    )
    return envelope(page_view(links, page, paging.page, paging.limit), "Your songs fetched.")


@router.patch(
    "/updateSong/{songId}",
    response_model=Envelope[SongRead],
    tags=SONGS,
    dependencies=[JSON_BODY],
    summary="Change a song's title, description or genre",
)
async def update_song(
    catalogue: CatalogueDep,
    counters: CountersDep,
    links: LinksDep,
    session: SessionDep,
    song: OwnedSong,
    body: SongUpdate,
) -> JSONResponse:
    song = await service.update(session, catalogue, song, body)
    card = await read_card(counters, song)
    return envelope(song_view(links, card), "Song updated successfully.")


@router.delete(
    "/delete",
    response_model=Envelope[None],
    tags=SONGS,
    dependencies=[JSON_BODY],
    summary="Delete a song and everything that hangs on it",
)
async def delete_song(
    queue: QueueDep,
    catalogue: CatalogueDep,
    comment_answers: CommentAnswersDep,
    session: SessionDep,
    song: OwnedSongInBody,
) -> Envelope[None]:
    await service.remove(session, queue, catalogue, comment_answers, song)
    return answer(None, "Song deleted successfully.")


@router.patch(
    "/{songId}/thumbnail",
    response_model=Envelope[SongRead],
    tags=SONGS,
    dependencies=[MULTIPART_BODY],
    summary="Replace a song's cover art",
)
async def replace_thumbnail(
    settings: SettingsDep,
    storage: StorageDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    counters: CountersDep,
    links: LinksDep,
    session: SessionDep,
    song: OwnedSong,
    thumbnail: Annotated[UploadFile, File()],
) -> JSONResponse:
    max_bytes = settings.image_max_bytes
    cover = await thumbnail.read(max_bytes + 1)
    song = await service.replace_cover(session, storage, queue, catalogue, song, cover, max_bytes)
    card = await read_card(counters, song)
    return envelope(song_view(links, card), "Thumbnail updated successfully.")


# HEAD too: players and proxies ask it before they fetch; it answers as GET would.
@router.head(
    "/{songId}/stream",
    tags=SONGS,
    summary="The headers GET would answer with, without the body",
)
@router.get(
    "/{songId}/stream",
    tags=SONGS,
    summary="The song's audio (signed URL from songFile; honours Range)",
    responses={200: {"content": {"audio/mpeg": {}}}, 206: {"description": "Partial content"}},
)
async def stream(
    request: Request, storage: StorageDep, settings: SettingsDep, song: SignedSong
) -> Response:
    content_type = FORMATS[song.audio_format].content_type
    cache = "private, max-age=3600"
    return await deliver(storage, settings, song.audio_key, content_type, request, cache)


@router.get(
    "/{songId}/waveform",
    response_model=Envelope[Waveform],
    tags=SONGS,
    summary="The song's waveform",
)
async def waveform(session: SessionDep, _: PrincipalDep, song: ExistingSong) -> Envelope[Waveform]:
    peaks = await service.waveform(session, song)
    return answer(Waveform(songId=song.id, peaks=peaks), "Waveform fetched.")


@router.get(
    "/{songId}", response_model=Envelope[SongRead], tags=SONGS, summary="One song, for its page"
)
async def get_song(
    counters: CountersDep, links: LinksDep, _: PrincipalDep, song: ExistingSong
) -> JSONResponse:
    card = await read_card(counters, song)
    return envelope(song_view(links, card), "Song fetched.")


@router.post(
    "/{songId}",
    response_model=Envelope[PlayRead],
    tags=ENGAGEMENT,
    summary="Play a song: it joins my history and counts as a view (once per 30 minutes)",
)
async def play(
    counters: CountersDep,
    settings: SettingsDep,
    links: LinksDep,
    session: SessionDep,
    principal: PrincipalDep,
    song: ExistingSong,
) -> JSONResponse:
    played = await engagement.play(session, counters, settings, principal.user_id, song)
    counted = played.counted
    if counted:
        message = "Fetched song and view was counted."
    elif played.own:
        message = "Fetched song; view was not counted (it is your own song)."
    else:
        message = "Fetched song; view was not counted (played within the last 30 minutes)."
    card = await read_card(counters, song)
    return envelope({**song_view(links, card), "viewCounted": counted}, message)
