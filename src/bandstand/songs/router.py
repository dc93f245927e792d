"""HTTP for ``/api/v1/songs``: parse, call one service function, answer in the envelope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import AliasChoices
from starlette.responses import Response

from bandstand.accounts.deps import CurrentUser, PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.pagination import PagingDep
from bandstand.media.audio import FORMATS
from bandstand.media.delivery import deliver
from bandstand.runtime import RuntimeDep
from bandstand.songs import service
from bandstand.songs.cards import read_card
from bandstand.songs.deps import ExistingSong, OwnedSong, OwnedSongInBody, SignedSong
from bandstand.songs.schemas import SongPage, SongRead, SongUpdate, Waveform
from bandstand.songs.views import page_view, song_view

router = APIRouter(prefix="/songs", tags=["songs"])
# The upload's text fields, with examples for /docs to fill its form with (not "string").
# Genre is one field there, spelt as in the spec; ``genre`` is read too.
FormTitle = Annotated[str | None, Form(examples=["First light"])]
FormDescription = Annotated[str | None, Form(examples=["Recorded at home, in one take."])]
FormGenre = Annotated[
    str | None, Form(validation_alias=AliasChoices("Genre", "genre"), examples=["Ambient"])
]


@router.post(
    "/upload",
    response_model=Envelope[SongRead],
    status_code=201,
    dependencies=[MULTIPART_BODY],
    summary="Upload a song with its cover art",
)
async def upload(
    rt: RuntimeDep,
    session: SessionDep,
    owner: CurrentUser,
    songFile: Annotated[UploadFile, File()],
    thumbnail: Annotated[UploadFile, File()],
    title: FormTitle = None,
    description: FormDescription = None,
    genre: FormGenre = None,
) -> JSONResponse:
    form = service.UploadForm(title=title, description=description, genre=genre)
    cover = await thumbnail.read(rt.settings.image_max_bytes + 1)
    song = await service.upload(rt, session, owner, form, songFile.file, cover)
    card = await read_card(rt.counters, song)
    return envelope(song_view(rt, card), "Song uploaded successfully.", 201)


@router.get("/home", response_model=Envelope[SongPage], summary="Newest songs")
async def home(
    rt: RuntimeDep,
    session: ReadSessionDep,
    _: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> Response:
    """The same for every listener, so recent answers are reused (``catalogue_cache_s``)."""

    async def render() -> bytes:
        page = await service.newest_page(
            session, rt.counters, page=paging.page, limit=paging.limit, cursor=cursor
        )
        shaped = page_view(rt, page, paging.page, paging.limit)
        return bytes(envelope(shaped, "Songs fetched.").body)

    body = await rt.catalogue.fetch((paging.page, paging.limit, cursor), render)
    return Response(body, media_type="application/json")


@router.get("/userSongs", response_model=Envelope[SongPage], summary="My songs, newest first")
async def user_songs(
    rt: RuntimeDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    page = await service.newest_page(
        session,
        rt.counters,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
        owner_id=principal.user_id,
    )
    return envelope(page_view(rt, page, paging.page, paging.limit), "Your songs fetched.")


@router.patch(
    "/updateSong/{songId}",
    response_model=Envelope[SongRead],
    dependencies=[JSON_BODY],
    summary="Change a song's title, description or genre",
)
async def update_song(
    rt: RuntimeDep, session: SessionDep, song: OwnedSong, body: SongUpdate
) -> JSONResponse:
    song = await service.update(rt, session, song, body)
    card = await read_card(rt.counters, song)
    return envelope(song_view(rt, card), "Song updated successfully.")


@router.delete(
    "/delete",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a song and everything that hangs on it",
)
async def delete_song(rt: RuntimeDep, session: SessionDep, song: OwnedSongInBody) -> JSONResponse:
    await service.remove(rt, session, song)
    return envelope(None, "Song deleted successfully.")


@router.patch(
    "/{songId}/thumbnail",
    response_model=Envelope[SongRead],
    dependencies=[MULTIPART_BODY],
    summary="Replace a song's cover art",
)
async def replace_thumbnail(
    rt: RuntimeDep,
    session: SessionDep,
    song: OwnedSong,
    thumbnail: Annotated[UploadFile, File()],
) -> JSONResponse:
    cover = await thumbnail.read(rt.settings.image_max_bytes + 1)
    song = await service.replace_cover(rt, session, song, cover)
    card = await read_card(rt.counters, song)
    return envelope(song_view(rt, card), "Thumbnail updated successfully.")


# HEAD too: players and proxies ask it before they fetch; it answers as GET would.
@router.head("/{songId}/stream", summary="The headers GET would answer with, without the body")
@router.get(
    "/{songId}/stream",
    summary="The song's audio (signed URL from songFile; honours Range)",
    responses={200: {"content": {"audio/mpeg": {}}}, 206: {"description": "Partial content"}},
)
async def stream(request: Request, rt: RuntimeDep, song: SignedSong) -> Response:
    content_type = FORMATS[song.audio_format].content_type
    return await deliver(rt, song.audio_key, content_type, request, "private, max-age=3600")


@router.get("/{songId}/waveform", response_model=Envelope[Waveform], summary="The song's waveform")
async def waveform(session: SessionDep, _: PrincipalDep, song: ExistingSong) -> JSONResponse:
    peaks = await service.waveform(session, song)
    return envelope({"songId": str(song.id), "peaks": peaks}, "Waveform fetched.")


@router.get("/{songId}", response_model=Envelope[SongRead], summary="One song, for its page")
async def get_song(rt: RuntimeDep, _: PrincipalDep, song: ExistingSong) -> JSONResponse:
    card = await read_card(rt.counters, song)
    return envelope(song_view(rt, card), "Song fetched.")
