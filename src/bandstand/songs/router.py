"""HTTP for ``/api/v1/songs``: parse, call one service function, answer in the envelope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.responses import Response

from bandstand.accounts.deps import CurrentUser, PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement.service import pending_for
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.pagination import PagingDep
from bandstand.media.audio import FORMATS
from bandstand.media.delivery import deliver
from bandstand.runtime import RuntimeDep
from bandstand.songs import service
from bandstand.songs.deps import ExistingSong, OwnedSong, OwnedSongInBody, SignedSong
from bandstand.songs.schemas import SongPage, SongRead, SongUpdate, Waveform
from bandstand.songs.views import page_view, song_view

router = APIRouter(prefix="/songs", tags=["songs"])
Text = Annotated[str | None, Form()]


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
    title: Text = None,
    description: Text = None,
    Genre: Text = None,
    genre: Text = None,
) -> JSONResponse:
    form = service.UploadForm(title=title, description=description, genre=Genre or genre)
    cover = await thumbnail.read(rt.settings.image_max_bytes + 1)
    song = await service.upload(rt, session, owner, form, songFile.file, cover)
    return envelope(song_view(rt, song), "Song uploaded successfully.", 201)


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
            session, page=paging.page, limit=paging.limit, cursor=cursor
        )
        pending = await pending_for(rt, [card.id for card in page.songs])
        shaped = page_view(rt, page, paging.page, paging.limit, pending)
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
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
        owner_id=principal.user_id,
    )
    pending = await pending_for(rt, [card.id for card in page.songs])
    return envelope(page_view(rt, page, paging.page, paging.limit, pending), "Your songs fetched.")


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
    return envelope(song_view(rt, song), "Song updated successfully.")


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
    return envelope(song_view(rt, song), "Thumbnail updated successfully.")


@router.get(
    "/{songId}/stream",
    summary="The song's audio (signed URL from songFile; honours Range)",
    responses={200: {"content": {"audio/mpeg": {}}}, 206: {"description": "Partial content"}},
)
async def stream(request: Request, rt: RuntimeDep, song: SignedSong) -> Response:
    content_type = FORMATS[song.audio_format].content_type
    return await deliver(rt, song.audio_key, content_type, request.headers, "private, max-age=3600")


@router.get("/{songId}/waveform", response_model=Envelope[Waveform], summary="The song's waveform")
async def waveform(session: SessionDep, _: PrincipalDep, song: ExistingSong) -> JSONResponse:
    peaks = await service.waveform(session, song)
    return envelope({"songId": str(song.id), "peaks": peaks}, "Waveform fetched.")


@router.get("/{songId}", response_model=Envelope[SongRead], summary="One song, for its page")
async def get_song(rt: RuntimeDep, _: PrincipalDep, song: ExistingSong) -> JSONResponse:
    pending = await pending_for(rt, [song.id])
    return envelope(song_view(rt, song, pending.get(song.id)), "Song fetched.")
