"""Releases in the web app: a release's page for anyone, an artist's releases, and the
studio's pages where an artist makes and changes theirs (details, cover, songs, track
order with up and down buttons that are plain forms, delete).

Each route calls what the JSON route calls (``releases/router.py``) and the same
dependency decides who sees a release (``releases.deps``). A release's studio pages are
its owner's only: to anyone else they are 404, as a release absent from their studio. A
refused change is rolled back, as the API's error path does, before the page is shown
again with the reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bandstand.accounts import profiles
from bandstand.accounts.deps import MaybePrincipalDep, Principal
from bandstand.accounts.views import public_view
from bandstand.config import Settings
from bandstand.db import SessionDep
from bandstand.engagement.counters import Counters
from bandstand.errors import AppError, BadRequest, NotFound
from bandstand.kit.cache import RecentAnswers
from bandstand.media.links import Links
from bandstand.models import Release, ReleaseKind
from bandstand.releases import service as releases
from bandstand.releases.deps import SeenRelease
from bandstand.releases.schemas import ReleaseCreate, ReleaseUpdate, SongsToAdd
from bandstand.releases.views import page_view, release_view
from bandstand.resources import (
    CatalogueDep,
    CountersDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
)
from bandstand.songs.views import song_view
from bandstand.web.auth import ViewerRequired
from bandstand.web.catalogue import PER_PAGE, PageNumber
from bandstand.web.csrf import CSRF
from bandstand.web.forms import refusal, undo, validated
from bandstand.web.templating import render

router = APIRouter()
# The studio offers the owner's newest songs on no release to add.
SINGLES_SHOWN = 100
KINDS = {ReleaseKind.ALBUM: "Album", ReleaseKind.EP: "EP", ReleaseKind.SINGLE: "Single"}
LABELS = {"title": "Title", "kind": "Kind", "year": "Year", "songIds": "Songs"}
DONE = {
    "created": "Release made. Add songs to it below.",
    "saved": "Saved.",
    "cover": "Cover replaced.",
    "added": "Songs added.",
    "removed": "Song taken off the release: it is a single again.",
    "moved": "Track order saved.",
    "deleted": "Release deleted. Its songs are singles again.",
}
Text = Annotated[str | None, Form()]
Cover = Annotated[UploadFile | None, File()]
# What the page says once a change went through (``?done=``).
DoneQuery = Annotated[str, Query(max_length=20)]


@dataclass(frozen=True)
class Desk:
    """What the release pages read, gathered once per request."""

    request: Request
    settings: Settings
    session: AsyncSession
    counters: Counters
    links: Links
    catalogue: RecentAnswers


async def _desk(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    catalogue: CatalogueDep,
) -> Desk:
    return Desk(request, settings, session, counters, links, catalogue)


DeskDep = Annotated[Desk, Depends(_desk)]


async def _mine(viewer: ViewerRequired, release: SeenRelease) -> Release:
    """The caller's own release. The login is asked for first (a page load without one
    goes to sign in); another's release is 404 here, not the API's 403: it is not in
    their studio."""
    if release.owner_id != viewer.user_id:
        raise NotFound("Release not found.")
    return release


MyRelease = Annotated[Release, Depends(_mine)]


def _shown(desk: Desk, detail: releases.Detail) -> dict[str, Any]:
    return release_view(desk.links, detail).model_dump(mode="json", by_alias=True)


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _back(release_id: uuid.UUID, done: str) -> RedirectResponse:
    return RedirectResponse(f"/studio/releases/{release_id}?done={done}", status_code=303)


async def _cover(settings: Settings, upload: UploadFile | None) -> bytes | None:
    # A file input left empty sends a nameless, empty part: no cover.
    if upload is None or not (upload.filename or upload.size):
        return None
    return await upload.read(settings.image_max_bytes + 1)


# For anyone: a release's page, an artist's releases.


@router.get("/releases/{releaseId}", response_class=HTMLResponse)
async def release_page(
    desk: DeskDep, viewer: MaybePrincipalDep, release: SeenRelease
) -> HTMLResponse:
    viewer_id = viewer.user_id if viewer else None
    detail = await releases.detail(desk.session, desk.counters, release.id, viewer_id=viewer_id)
    return render(
        desk.request,
        desk.settings,
        "releases/release.html",
        viewer,
        release=_shown(desk, detail),
        mine=release.owner_id == viewer_id,
        kinds=KINDS,
    )


@router.get("/artists/{userId}/releases", response_class=HTMLResponse)
async def artist_releases(
    desk: DeskDep, viewer: MaybePrincipalDep, userId: uuid.UUID, page: PageNumber = 1
) -> HTMLResponse:
    """An artist's releases, newest first: a page of its own, and the list the artist's
    page loads into itself."""
    user = await profiles.public_user(desk.session, userId)
    found = await releases.newest_page(
        desk.session,
        viewer_id=viewer.user_id if viewer else None,
        owner_id=user.id,
        page=page,
        limit=PER_PAGE,
    )
    shown = page_view(desk.links, found, page, PER_PAGE).model_dump(mode="json", by_alias=True)
    return render(
        desk.request,
        desk.settings,
        "releases/artist.html",
        viewer,
        person=public_view(desk.links, user),
        releases=shown,
        kinds=KINDS,
    )


# The studio: my releases, a new one.


async def _studio_list(
    desk: Desk,
    viewer: Principal,
    page: int,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """My releases, and the form for a new one (again with what was sent and why it was
    refused, after a refusal)."""
    me = viewer.user_id
    found = await releases.newest_page(
        desk.session, viewer_id=me, owner_id=me, page=page, limit=PER_PAGE
    )
    shown = page_view(desk.links, found, page, PER_PAGE).model_dump(mode="json", by_alias=True)
    return render(
        desk.request,
        desk.settings,
        "releases/studio.html",
        viewer,
        status=status,
        releases=shown,
        kinds=KINDS,
        values=values or {"kind": ReleaseKind.ALBUM.value},
        fields=fields or {},
        error=error,
        done=done,
    )


@router.get("/studio/releases", response_class=HTMLResponse)
async def studio_releases(
    desk: DeskDep,
    viewer: ViewerRequired,
    page: PageNumber = 1,
    done: DoneQuery = "",
) -> HTMLResponse:
    return await _studio_list(desk, viewer, page, done=DONE.get(done))


@router.post("/studio/releases", response_class=HTMLResponse, dependencies=[CSRF])
async def create(
    desk: DeskDep,
    storage: StorageDep,
    viewer: ViewerRequired,
    title: Text = None,
    kind: Text = None,
    year: Text = None,
    thumbnail: Cover = None,
) -> Response:
    settings = desk.settings
    values = {"title": title or "", "kind": kind or "", "year": year or ""}
    try:
        data = validated(ReleaseCreate, values)
        cover = await _cover(settings, thumbnail)
        made = await releases.create(
            desk.session,
            storage,
            desk.counters,
            desk.catalogue,
            viewer.user_id,
            data,
            cover,
            settings.image_max_bytes,
        )
    except AppError as exc:
        await undo(desk.session, exc)
        return await _studio_list(desk, viewer, 1, values=values, **refusal(exc))
    return _back(made.card.id, "created")


# One of mine: its page, and the forms on it.


async def _edit_page(
    desk: Desk,
    viewer: Principal,
    release_id: uuid.UUID,
    *,
    status: int = 200,
    problem: tuple[str, AppError] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    me = viewer.user_id
    detail = await releases.detail(desk.session, desk.counters, release_id, viewer_id=me)
    singles = await releases.singles(desk.session, desk.counters, me, SINGLES_SHOWN)
    shown = _shown(desk, detail)
    return render(
        desk.request,
        desk.settings,
        "releases/edit.html",
        viewer,
        status=status,
        release=shown,
        # Oldest first: songs uploaded in track order are added in that order.
        singles=[song_view(desk.links, card) for card in reversed(singles)],
        kinds=KINDS,
        labels=LABELS,
        problem=problem,
        done=DONE.get(done or ""),
    )


async def _refused(
    desk: Desk, viewer: Principal, release: Release, where: str, exc: AppError
) -> Response:
    """Undo what the refused change wrote (a stored cover too), then show the page again
    with the reason by the form it came from."""
    release_id = release.id
    await undo(desk.session, exc)
    return await _edit_page(desk, viewer, release_id, status=exc.status_code, problem=(where, exc))


@router.get("/studio/releases/{releaseId}", response_class=HTMLResponse)
async def edit_page(
    desk: DeskDep,
    viewer: ViewerRequired,
    release: MyRelease,
    done: DoneQuery = "",
) -> HTMLResponse:
    return await _edit_page(desk, viewer, release.id, done=done)


@router.post("/studio/releases/{releaseId}/edit", dependencies=[CSRF])
async def edit(
    desk: DeskDep,
    viewer: ViewerRequired,
    release: MyRelease,
    title: Text = None,
    kind: Text = None,
    year: Text = None,
) -> Response:
    # The form sends all three; an empty year clears it.
    values = {"title": title or "", "kind": kind or "", "year": year or None}
    try:
        data = validated(ReleaseUpdate, values)
        await releases.update(desk.session, desk.counters, desk.catalogue, release, data)
    except AppError as exc:
        return await _refused(desk, viewer, release, "details", exc)
    return _back(release.id, "saved")


@router.post("/studio/releases/{releaseId}/cover", dependencies=[CSRF])
async def replace_cover(
    desk: DeskDep,
    storage: StorageDep,
    queue: QueueDep,
    viewer: ViewerRequired,
    release: MyRelease,
    thumbnail: Cover = None,
) -> Response:
    max_bytes = desk.settings.image_max_bytes
    try:
        cover = await _cover(desk.settings, thumbnail)
        if cover is None:
            raise BadRequest("Choose an image.", errors=[_error("thumbnail", "No file chosen.")])
        await releases.replace_cover(
            desk.session, storage, queue, desk.counters, release, cover, max_bytes
        )
    except AppError as exc:
        return await _refused(desk, viewer, release, "cover", exc)
    return _back(release.id, "cover")


@router.post("/studio/releases/{releaseId}/songs", dependencies=[CSRF])
async def add_songs(
    desk: DeskDep,
    viewer: ViewerRequired,
    release: MyRelease,
    songIds: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        wanted = validated(SongsToAdd, {"songIds": songIds or []})
        await releases.add_songs(
            desk.session, desk.counters, desk.catalogue, release, wanted.song_ids
        )
    except AppError as exc:
        return await _refused(desk, viewer, release, "add", exc)
    return _back(release.id, "added")


@router.post("/studio/releases/{releaseId}/songs/{songId}/remove", dependencies=[CSRF])
async def remove_song(
    desk: DeskDep, viewer: ViewerRequired, release: MyRelease, songId: uuid.UUID
) -> Response:
    try:
        await releases.remove_song(desk.session, desk.counters, desk.catalogue, release, songId)
    except AppError as exc:
        return await _refused(desk, viewer, release, "songs", exc)
    return _back(release.id, "removed")


@router.post("/studio/releases/{releaseId}/songs/{songId}/move", dependencies=[CSRF])
async def move_song(
    desk: DeskDep,
    viewer: ViewerRequired,
    release: MyRelease,
    songId: uuid.UUID,
    to: Text = None,
) -> Response:
    """One place up or down: a plain form per button, so it works without a script."""
    steps = {"up": -1, "down": 1}
    try:
        if to not in steps:
            raise BadRequest("Move a song up or down.", errors=[_error("to", "up or down")])
        await releases.move_song(
            desk.session, desk.counters, desk.catalogue, release, songId, steps[to]
        )
    except AppError as exc:
        return await _refused(desk, viewer, release, "songs", exc)
    return _back(release.id, "moved")


@router.post("/studio/releases/{releaseId}/delete", dependencies=[CSRF])
async def delete(
    session: SessionDep,
    queue: QueueDep,
    catalogue: CatalogueDep,
    viewer: ViewerRequired,
    release: MyRelease,
) -> Response:
    await releases.remove(session, queue, catalogue, release)
    return RedirectResponse("/studio/releases?done=deleted", status_code=303)
