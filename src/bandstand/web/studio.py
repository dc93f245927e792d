"""An artist's studio: the upload form, their songs, and each song's dashboard (its plays,
likes and comments day by day, how its comments read, held comments to approve, mutes),
with the forms that edit, re-cover and delete it.

Each route calls what the JSON route calls (``songs/router.py``: upload, userSongs,
updateSong, thumbnail, delete; ``analytics/router.py``; ``comments/router.py``: approve,
mutes). The upload itself goes to the JSON API from ``upload.js``, which alone can show
its progress; many files at once go one a request to the route here that brings a file
in as ``bandstand import`` does (``imports/service.py``: tags, covers, releases). A
song's pages are its owner's only: to anyone else they are 404, as a song
absent from their studio. A refused change is rolled back, as the API's error path does,
before the dashboard is shown again with the reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bandstand.accounts.deps import Principal
from bandstand.analytics import service as analytics
from bandstand.analytics.views import analytics_view
from bandstand.comments import listing
from bandstand.comments import service as comments
from bandstand.comments.deps import CommentOnMySong
from bandstand.comments.liked import LikedLookup
from bandstand.comments.recent import Recent
from bandstand.comments.views import card_view, mute_view
from bandstand.comments.views import page_view as comments_view
from bandstand.config import Settings
from bandstand.db import ReadSessionDep, SessionDep, rollback
from bandstand.engagement.counters import Counters
from bandstand.errors import AppError, BadRequest, NotFound
from bandstand.imports import service as imports
from bandstand.kit.envelope import envelope
from bandstand.kit.http import MULTIPART_BODY
from bandstand.media.links import Links
from bandstand.models import Song
from bandstand.resources import (
    CatalogueDep,
    CommentAnswersDep,
    CountersDep,
    LikedCommentsDep,
    LinksDep,
    QueueDep,
    ReadSessionsDep,
    Sessions,
    SettingsDep,
    StorageDep,
)
from bandstand.songs import quota
from bandstand.songs import service as songs
from bandstand.songs.cards import read_card
from bandstand.songs.deps import ExistingSong
from bandstand.songs.quota_view import QuotaRead
from bandstand.songs.schemas import SongUpdate
from bandstand.songs.views import page_view, song_view
from bandstand.web.auth import UserRequired, ViewerRequired
from bandstand.web.catalogue import PageNumber
from bandstand.web.csrf import CSRF
from bandstand.web.templating import render

router = APIRouter()
PER_PAGE = 20
DAYS = 30  # the dashboard's chart: the last 30 UTC days
COMMENTS_SHOWN = 50  # the newest threads, shown as recent comments
HELD_SHOWN = 100  # the newest held comments, however old their threads
MUTES_SHOWN = 100
# What the page says once a change went through (``?done=``): words, not rules.
DONE = {
    "saved": "Saved.",
    "cover": "Cover replaced.",
    "approved": "Comment approved: everyone sees it now.",
    "muted": "Listener muted: their new comments on your songs wait for your approval.",
    "unmuted": "Listener unmuted.",
    "deleted": "Song deleted.",
}
LABELS = {"title": "Title", "description": "Description", "genre": "Genre"}
Text = Annotated[str | None, Form()]


async def _mine(viewer: ViewerRequired, song: ExistingSong) -> Song:
    """The caller's own song. The login is asked for first (a page load without one goes
    to sign in); another's song is 404 here, not the API's 403: it is not in their studio."""
    if song.owner_id != viewer.user_id:
        raise NotFound("Song not found.")
    return song


MySong = Annotated[Song, Depends(_mine)]


@dataclass(frozen=True)
class Desk:
    """What a song's dashboard reads, for the routes that show it (again, after a refusal),
    and whose studio it is."""

    request: Request
    settings: Settings
    session: AsyncSession
    sessions: Sessions
    counters: Counters
    links: Links
    liked_comments: LikedLookup
    recent: Recent
    viewer: Principal


async def _desk(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    sessions: ReadSessionsDep,
    counters: CountersDep,
    links: LinksDep,
    liked_comments: LikedCommentsDep,
    recent: CommentAnswersDep,
    viewer: ViewerRequired,
) -> Desk:
    return Desk(
        request, settings, session, sessions, counters, links, liked_comments, recent, viewer
    )


DeskDep = Annotated[Desk, Depends(_desk)]


def _size(size: int) -> str:
    # In the quota's units (``songs.admission``).
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _limit(size: int) -> str:
    # As a refused file is told (``songs.service``).
    return f"{size // (1024 * 1024)} MB"


def _quota(settings: Settings, viewer: Principal) -> dict[str, Any]:
    """The viewer's quota as current-user answers it, and its sizes as people read them."""
    account = viewer.account
    usage = quota.of_row(settings, account.storage_used, account.uploads_day, account.uploads_today)
    shown = QuotaRead.of(usage).model_dump()
    return {
        **shown,
        "used": _size(usage.bytes_used),
        "limit": _size(usage.bytes_limit),
        "left": _size(usage.bytes_left),
    }


def _back(song: Song, done: str) -> RedirectResponse:
    return RedirectResponse(f"/studio/songs/{song.id}?done={done}", status_code=303)


def _flat(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Comments and their nested replies, one list."""
    return [c for doc in docs for c in (doc, *_flat(doc["replies"]))]


async def _dashboard(
    desk: Desk,
    song: Song,
    *,
    status: int = 200,
    problem: tuple[str, AppError] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    session, counters, links, viewer = desk.session, desk.counters, desk.links, desk.viewer
    found = await analytics.song_analytics(session, counters, song, DAYS)
    page = await listing.page(
        desk.sessions,
        counters,
        desk.liked_comments,
        desk.recent,
        song.id,
        viewer.user_id,
        number=1,
        limit=COMMENTS_SHOWN,
        cursor=None,
    )
    shown = _flat(comments_view(links, page, 1, COMMENTS_SHOWN)["docs"])
    # No like counts on the dashboard: the cards' pending likes are not read.
    held = [
        card_view(links, card, 0, []) for card in await comments.held(session, song, HELD_SHOWN)
    ]
    muted, _ = await comments.mutes(session, viewer.user_id, offset=0, limit=MUTES_SHOWN)
    mutes = [mute_view(links, m).model_dump(mode="json", by_alias=True) for m in muted]
    return render(
        desk.request,
        desk.settings,
        "studio/song.html",
        viewer,
        status=status,
        song=song_view(links, await read_card(counters, song)),
        stats=analytics_view(song, DAYS, found).model_dump(mode="json"),
        held=held,
        recent=[c for c in shown if not c["isHeld"]],
        mutes=mutes,
        muted={m["user"]["_id"] for m in mutes},
        problem=problem,
        labels=LABELS,
        done=DONE.get(done or ""),
    )


async def _refused(desk: Desk, song: Song, where: str, exc: AppError) -> Response:
    """Undo what the refused change wrote (a stored cover too), then show the dashboard
    again with the reason by the form it came from."""
    await rollback(desk.session)
    # The rollback expired the song as read: read again, its owner too.
    await desk.session.refresh(song)
    await desk.session.refresh(song, ["owner"])
    return await _dashboard(desk, song, status=exc.status_code, problem=(where, exc))


def _update(title: str | None, description: str | None, genre: str | None) -> SongUpdate:
    """The edit form as the JSON update's body: the same three fields, checked alike."""
    try:
        return SongUpdate(title=title, description=description, genre=genre)
    except ValidationError as exc:
        errors = [
            {"field": str(e["loc"][0]) if e["loc"] else "", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        raise BadRequest("Invalid input.", errors=errors) from exc


@router.get("/upload", response_class=HTMLResponse)
async def upload_page(request: Request, settings: SettingsDep, viewer: ViewerRequired) -> Response:
    return render(
        request,
        settings,
        "studio/upload.html",
        viewer,
        quota=_quota(settings, viewer),
        max_audio=_limit(settings.audio_max_bytes),
        max_image=_limit(settings.image_max_bytes),
    )


@router.post("/studio/upload/files", dependencies=[CSRF, MULTIPART_BODY], status_code=201)
async def upload_one_of_many(
    settings: SettingsDep,
    session: SessionDep,
    storage: StorageDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    owner: UserRequired,
    songFile: Annotated[UploadFile, File()],
    folderCover: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """One file of the upload page's many (``upload.js`` sends them one a request, with
    the picture of their folder if there is one): brought in as ``bandstand import``
    brings in a file (``imports.service.add_file``), answered in the API's envelope for
    the page's list."""
    cover = None
    if folderCover is not None:
        cover = await folderCover.read(settings.image_max_bytes + 1)
    added = await imports.add_file(
        session,
        settings,
        storage,
        queue,
        catalogue,
        owner,
        songFile.file,
        songFile.filename or "",
        cover,
    )
    song, release = added.song, added.release
    data = {
        "song": {"_id": str(song.id), "title": song.title, "status": song.status},
        "page": f"/studio/songs/{song.id}",
        "release": None
        if release is None
        else {"_id": str(release.id), "title": release.title, "kind": release.kind},
        "releaseCreated": added.release_created,
    }
    return envelope(data, "Song uploaded successfully.", 201)


@router.get("/studio", response_class=HTMLResponse)
async def studio(
    request: Request,
    settings: SettingsDep,
    session: ReadSessionDep,
    counters: CountersDep,
    links: LinksDep,
    viewer: ViewerRequired,
    page: PageNumber = 1,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    me = viewer.user_id
    # Their own taken-down songs too, with why (as userSongs).
    found = await songs.newest_page(
        session, counters, page=page, limit=PER_PAGE, cursor=None, owner_id=me, viewer_id=me
    )
    return render(
        request,
        settings,
        "studio/index.html",
        viewer,
        songs=page_view(links, found, page, PER_PAGE),
        quota=_quota(settings, viewer),
        done=DONE.get(done),
    )


@router.get("/studio/songs/{songId}", response_class=HTMLResponse)
async def dashboard(
    desk: DeskDep, song: MySong, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    return await _dashboard(desk, song, done=done)


@router.get("/studio/songs/{songId}/status", response_class=HTMLResponse)
async def status(desk: DeskDep, song: MySong) -> Response:
    """The song's processing status, polled by its page until it is final: then 286,
    which tells htmx to stop."""
    shown = song_view(desk.links, await read_card(desk.counters, song))
    final = shown["status"] != "processing"
    return render(
        desk.request,
        desk.settings,
        "studio/_status.html",
        desk.viewer,
        song=shown,
        status=286 if final else 200,
    )


@router.post("/studio/songs/{songId}/edit", dependencies=[CSRF])
async def edit(
    desk: DeskDep,
    catalogue: CatalogueDep,
    song: MySong,
    title: Text = None,
    description: Text = None,
    genre: Text = None,
) -> Response:
    try:
        await songs.update(desk.session, catalogue, song, _update(title, description, genre))
    except AppError as exc:
        return await _refused(desk, song, "edit", exc)
    return _back(song, "saved")


@router.post("/studio/songs/{songId}/cover", dependencies=[CSRF])
async def replace_cover(
    desk: DeskDep,
    storage: StorageDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    song: MySong,
    thumbnail: Annotated[UploadFile, File()],
) -> Response:
    max_bytes = desk.settings.image_max_bytes
    try:
        cover = await thumbnail.read(max_bytes + 1)
        await songs.replace_cover(desk.session, storage, queue, catalogue, song, cover, max_bytes)
    except AppError as exc:
        return await _refused(desk, song, "cover", exc)
    return _back(song, "cover")


@router.post("/studio/songs/{songId}/delete", dependencies=[CSRF])
async def delete(
    session: SessionDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    recent: CommentAnswersDep,
    viewer: ViewerRequired,
    song: MySong,
) -> Response:
    await songs.remove(session, queue, catalogue, recent, song)
    return RedirectResponse("/studio?done=deleted", status_code=303)


@router.post("/studio/songs/{songId}/comments/{commentId}/approve", dependencies=[CSRF])
async def approve(desk: DeskDep, song: MySong, comment: CommentOnMySong) -> Response:
    if comment.song_id != song.id:
        raise NotFound("Comment not found.")
    try:
        await comments.approve(desk.session, desk.counters, desk.recent, comment)
    except AppError as exc:
        return await _refused(desk, song, "comments", exc)
    return _back(song, "approved")


async def _muting(desk: Desk, song: Song, user_id: uuid.UUID, muted: bool) -> Response:
    change = comments.mute if muted else comments.unmute
    try:
        await change(desk.session, desk.viewer.user_id, user_id)
    except AppError as exc:
        return await _refused(desk, song, "mutes", exc)
    return _back(song, "muted" if muted else "unmuted")


@router.post("/studio/songs/{songId}/mutes/{userId}", dependencies=[CSRF])
async def mute(desk: DeskDep, song: MySong, userId: uuid.UUID) -> Response:
    return await _muting(desk, song, userId, True)


@router.post("/studio/songs/{songId}/mutes/{userId}/unmute", dependencies=[CSRF])
async def unmute(desk: DeskDep, song: MySong, userId: uuid.UUID) -> Response:
    return await _muting(desk, song, userId, False)
