"""The moderators' pages: the report queue (flagged comments in it), a user's and a song's
standing with their actions, and the audit log.

Each route declares who may call it as its JSON route does (``moderation.deps``: 403 to
anyone but moderators, and but admins for roles and the audit log), reads its form with
the JSON route's schema, and calls the same service function. A refused action is undone
(``forms.undo``) and its page shown again with the service's words; a done one redirects
to its page, which says what was done.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bandstand.accounts.deps import Principal
from bandstand.config import Settings
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.errors import AppError
from bandstand.kit.pagination import MAX_PAGE
from bandstand.media.links import Links
from bandstand.models import ReportAction, Role, TargetType
from bandstand.moderation import service, views
from bandstand.moderation.deps import AdminDep, EffectsDep, ModeratorDep
from bandstand.moderation.schemas import (
    BanCreate,
    MaybeReason,
    QueueStatus,
    Resolution,
    RoleChange,
    WithReason,
)
from bandstand.resources import LinksDep, QueueDep, SettingsDep
from bandstand.web.auth import ViewerRequired
from bandstand.web.csrf import CSRF
from bandstand.web.forms import undo, validated
from bandstand.web.templating import render

router = APIRouter(prefix="/moderation")
PER_PAGE = 20
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Text = Annotated[str, Form()]
Tab = Annotated[QueueStatus, Form()]
Verb = Literal["hide", "unhide", "remove"]

# What a page says after an action (``?done=``): the JSON routes' own words.
DONE = {
    "resolve": "Reports resolved.",
    "ban": "User banned.",
    "unban": "Ban lifted.",
    "role": "Role changed.",
    "takedown": "Song taken down.",
    "restore": "Song restored.",
    "comment-hide": "Comment hidden.",
    "comment-unhide": "Comment shown again.",
    "comment-remove": "Comment deleted.",
    "playlist-hide": "Playlist hidden.",
    "playlist-unhide": "Playlist shown again.",
    "playlist-remove": "Playlist deleted.",
}


def _done(path: str, what: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({**query, 'done': what})}", status_code=303)


@dataclass(frozen=True)
class Desk:
    """What a moderation page is rendered from, gathered once per request."""

    request: Request
    settings: Settings
    session: AsyncSession
    links: Links
    viewer: Principal


async def _reading(
    request: Request,
    settings: SettingsDep,
    session: ReadSessionDep,
    links: LinksDep,
    viewer: ViewerRequired,
) -> Desk:
    return Desk(request, settings, session, links, viewer)


async def _writing(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    links: LinksDep,
    viewer: ViewerRequired,
) -> Desk:
    return Desk(request, settings, session, links, viewer)


# A page's reading routes take ``Reading``; its forms, which change things, ``Writing``.
Reading = Annotated[Desk, Depends(_reading)]
Writing = Annotated[Desk, Depends(_writing)]


# A page shown again after a refusal: ``_queue``, ``_user`` or ``_song``.
Page = Callable[..., Awaitable[HTMLResponse]]


def _page(
    desk: Desk, template: str, error: AppError | None, done: str | None, **context: Any
) -> HTMLResponse:
    status = error.status_code if error else 200
    notice = DONE.get(done or "")
    return render(
        desk.request,
        desk.settings,
        template,
        desk.viewer,
        status=status,
        error=error,
        done=notice,
        **context,
    )


async def _refused(desk: Desk, error: AppError, page: Page, *args: Any) -> HTMLResponse:
    """Undo the refused action (``forms.undo``), then show ``page`` again with why."""
    await undo(desk.session, error)
    return await page(desk, *args, error=error)


# -- the queue


async def _queue(
    desk: Desk,
    tab: QueueStatus,
    page: int = 1,
    *,
    done: str | None = None,
    error: AppError | None = None,
) -> HTMLResponse:
    listing = await service.queue_page(desk.session, tab, page=page, limit=PER_PAGE, cursor=None)
    reports = views.queue_page(desk.links, listing, page, PER_PAGE)
    return _page(
        desk,
        "moderation/queue.html",
        error,
        done,
        tab=tab,
        reports=reports,
        actions=list(ReportAction),
    )


@router.get("", response_class=HTMLResponse)
async def queue(
    desk: Reading,
    _: ModeratorDep,
    status: QueueStatus = "open",
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    return await _queue(desk, status, page, done=done)


@router.post("/reports/{report_id}/resolve", dependencies=[CSRF])
async def resolve(
    desk: Writing,
    effects: EffectsDep,
    actor: ModeratorDep,
    report_id: uuid.UUID,
    action: Text = "",
    note: Text = "",
) -> Response:
    try:
        body = validated(Resolution, {"action": action, "note": note})
        await service.resolve(desk.session, effects, actor, report_id, body.action, body.note)
    except AppError as error:
        return await _refused(desk, error, _queue, "open")
    return _done("/moderation", "resolve")


@router.post("/comments/{comment_id}/{verb}", dependencies=[CSRF])
async def judge_comment(
    desk: Writing,
    effects: EffectsDep,
    actor: ModeratorDep,
    comment_id: uuid.UUID,
    verb: Verb,
    reason: Text = "",
    tab: Tab = "open",
) -> Response:
    try:
        if verb == "unhide":
            why = validated(MaybeReason, {"reason": reason}).reason
            await service.unhide_comment(desk.session, effects, actor, comment_id, why)
        else:
            why = validated(WithReason, {"reason": reason}).reason
            act = service.hide_comment if verb == "hide" else service.remove_comment
            await act(desk.session, effects, actor, comment_id, why)
    except AppError as error:
        return await _refused(desk, error, _queue, tab)
    return _done("/moderation", f"comment-{verb}", status=tab)


@router.post("/playlists/{playlist_id}/{verb}", dependencies=[CSRF])
async def judge_playlist(
    desk: Writing,
    queue: QueueDep,
    actor: ModeratorDep,
    playlist_id: uuid.UUID,
    verb: Verb,
    reason: Text = "",
    tab: Tab = "open",
) -> Response:
    session = desk.session
    try:
        why = validated(MaybeReason, {"reason": reason}).reason
        if verb == "hide":
            await service.hide_playlist(session, actor, playlist_id, why)
        elif verb == "unhide":
            await service.unhide_playlist(session, actor, playlist_id, why)
        else:
            await service.remove_playlist(session, queue, actor, playlist_id, why)
    except AppError as error:
        return await _refused(desk, error, _queue, tab)
    return _done("/moderation", f"playlist-{verb}", status=tab)


# -- users


async def _user(
    desk: Desk,
    user_id: uuid.UUID,
    *,
    done: str | None = None,
    error: AppError | None = None,
) -> HTMLResponse:
    standing = views.standing(await service.user_to_judge(desk.session, user_id))
    return _page(desk, "moderation/user.html", error, done, user=standing, roles=Role)


@router.get("/users/{user_id}", response_class=HTMLResponse)
async def user_page(
    desk: Reading, _: ModeratorDep, user_id: uuid.UUID, done: str | None = None
) -> Response:
    return await _user(desk, user_id, done=done)


@router.post("/users/{user_id}/ban", dependencies=[CSRF])
async def ban(
    desk: Writing,
    effects: EffectsDep,
    actor: ModeratorDep,
    user_id: uuid.UUID,
    reason: Text = "",
    until: Text = "",
) -> Response:
    try:
        body = validated(BanCreate, {"reason": reason, "until": until or None})
        await service.ban(desk.session, effects, actor, user_id, body)
    except AppError as error:
        return await _refused(desk, error, _user, user_id)
    return _done(f"/moderation/users/{user_id}", "ban")


@router.post("/users/{user_id}/unban", dependencies=[CSRF])
async def unban(
    desk: Writing, effects: EffectsDep, actor: ModeratorDep, user_id: uuid.UUID, reason: Text = ""
) -> Response:
    try:
        why = validated(MaybeReason, {"reason": reason}).reason
        await service.unban(desk.session, effects, actor, user_id, why)
    except AppError as error:
        return await _refused(desk, error, _user, user_id)
    return _done(f"/moderation/users/{user_id}", "unban")


@router.post("/users/{user_id}/role", dependencies=[CSRF])
async def set_role(desk: Writing, actor: AdminDep, user_id: uuid.UUID, role: Text = "") -> Response:
    try:
        body = validated(RoleChange, {"role": role})
        await service.set_role(desk.session, actor, user_id, body.role)
    except AppError as error:
        return await _refused(desk, error, _user, user_id)
    return _done(f"/moderation/users/{user_id}", "role")


# -- songs


async def _song(
    desk: Desk,
    song_id: uuid.UUID,
    *,
    done: str | None = None,
    error: AppError | None = None,
) -> HTMLResponse:
    song = await service.song_to_judge(desk.session, song_id)
    owner = await service.user_to_judge(desk.session, song.owner_id)
    return _page(
        desk,
        "moderation/song.html",
        error,
        done,
        song=views.song_standing(song),
        artist=song.artist,
        owner=views.standing(owner),
    )


@router.get("/songs/{song_id}", response_class=HTMLResponse)
async def song_page(
    desk: Reading, _: ModeratorDep, song_id: uuid.UUID, done: str | None = None
) -> Response:
    return await _song(desk, song_id, done=done)


@router.post("/songs/{song_id}/takedown", dependencies=[CSRF])
async def take_down(
    desk: Writing, effects: EffectsDep, actor: ModeratorDep, song_id: uuid.UUID, reason: Text = ""
) -> Response:
    try:
        why = validated(WithReason, {"reason": reason}).reason
        await service.take_down(desk.session, effects, actor, song_id, why)
    except AppError as error:
        return await _refused(desk, error, _song, song_id)
    return _done(f"/moderation/songs/{song_id}", "takedown")


@router.post("/songs/{song_id}/restore", dependencies=[CSRF])
async def restore(
    desk: Writing, effects: EffectsDep, actor: ModeratorDep, song_id: uuid.UUID, reason: Text = ""
) -> Response:
    try:
        why = validated(MaybeReason, {"reason": reason}).reason
        await service.restore(desk.session, effects, actor, song_id, why)
    except AppError as error:
        return await _refused(desk, error, _song, song_id)
    return _done(f"/moderation/songs/{song_id}", "restore")


# -- the audit log (admins)


@router.get("/audit", response_class=HTMLResponse)
async def audit(
    desk: Reading,
    _: AdminDep,
    page: PageNumber = 1,
    targetType: TargetType | None = None,
    targetId: uuid.UUID | None = None,
) -> Response:
    """All of it, or (``targetType`` and ``targetId``) what was done to one target."""
    one = targetType is not None and targetId is not None
    listing = await service.audit_page(
        desk.session,
        actor_id=None,
        target_type=targetType if one else None,
        target_id=targetId if one else None,
        page=page,
        limit=PER_PAGE,
        cursor=None,
    )
    query = urlencode({"targetType": targetType, "targetId": targetId}) + "&" if one else ""
    return _page(
        desk,
        "moderation/audit.html",
        None,
        None,
        entries=views.audit_page(listing, page, PER_PAGE),
        base=f"/moderation/audit?{query}",
        narrowed=one,
    )
