"""HTTP for moderation: ``/api/v1/reports`` (any logged-in user) and ``/api/v1/admin``
(moderators and admins).

Every ``/admin`` route declares who may call it (``deps.ModeratorDep``, ``deps.AdminDep``)
before anything else, so a user is refused with 403 whatever id they send. The audit log
has a reading route and nothing else: no route changes or deletes an entry."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import SessionDep
from bandstand.kit.envelope import Envelope, answer
from bandstand.kit.http import JSON_BODY
from bandstand.kit.pagination import PagingDep
from bandstand.models import TargetType
from bandstand.moderation import service, views
from bandstand.moderation.deps import AdminDep, EffectsDep, ModeratorDep
from bandstand.moderation.schemas import (
    AuditPage,
    BanCreate,
    CommentStanding,
    MaybeReason,
    PlaylistStanding,
    QueuePage,
    QueueStatus,
    ReportCreate,
    ReportPage,
    ReportRead,
    Resolution,
    Resolved,
    RoleChange,
    SongStanding,
    UserStanding,
    WithReason,
)
from bandstand.resources import (
    LinksDep,
    QueueDep,
)

reports_router = APIRouter(prefix="/reports", tags=["moderation"])
admin_router = APIRouter(prefix="/admin", tags=["moderation"])


def _why(body: MaybeReason | None) -> str:
    return body.reason if body is not None else ""


# -- reports: any logged-in user


@reports_router.post(
    "",
    response_model=Envelope[ReportRead],
    status_code=201,
    dependencies=[JSON_BODY],
    summary="Report a song, comment, user or playlist to the moderators",
)
async def file_report(
    session: SessionDep, principal: PrincipalDep, body: ReportCreate
) -> Envelope[ReportRead]:
    """One open report per reporter and target; what the caller cannot see is 404, their
    own content 400, and more than ``limit_reports_per_user`` reports 429."""
    report = await service.file_report(session, principal.user_id, body)
    return answer(views.report_view(report), "Report filed.", 201)


@reports_router.get(
    "/mine", response_model=Envelope[ReportPage], summary="My reports and what became of them"
)
async def my_reports(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep, cursor: str | None = None
) -> Envelope[ReportPage]:
    listing = await service.my_reports(
        session, principal.user_id, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return answer(views.report_page(listing, paging.page, paging.limit), "Reports fetched.")


# -- the queue


@admin_router.get(
    "/reports",
    response_model=Envelope[QueuePage],
    summary="The moderators' queue: open reports oldest first, or resolved ones newest first",
)
async def queue(
    session: SessionDep,
    links: LinksDep,
    _: ModeratorDep,
    paging: PagingDep,
    status: QueueStatus = "open",
    cursor: str | None = None,
) -> Envelope[QueuePage]:
    listing = await service.queue_page(
        session, status, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return answer(views.queue_page(links, listing, paging.page, paging.limit), "Reports fetched.")


@admin_router.post(
    "/reports/{reportId}/resolve",
    response_model=Envelope[Resolved],
    dependencies=[JSON_BODY],
    summary="Resolve every open report of this report's target, and act on it",
)
async def resolve(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    reportId: uuid.UUID,
    body: Resolution,
) -> Envelope[Resolved]:
    done = await service.resolve(session, effects, actor, reportId, body.action, body.note)
    resolved = Resolved(
        targetType=TargetType(done.target_type),
        targetId=done.target_id,
        action=body.action,
        reportsResolved=done.reports,
    )
    return answer(resolved, "Reports resolved.")


# -- users: roles and bans


@admin_router.post(
    "/users/{userId}/role",
    response_model=Envelope[UserStanding],
    dependencies=[JSON_BODY],
    summary="Make a user a user, moderator or admin (admins only)",
)
async def set_role(
    session: SessionDep, actor: AdminDep, userId: uuid.UUID, body: RoleChange
) -> Envelope[UserStanding]:
    user = await service.set_role(session, actor, userId, body.role)
    return answer(views.standing(user), "Role changed.")


@admin_router.post(
    "/users/{userId}/ban",
    response_model=Envelope[UserStanding],
    dependencies=[JSON_BODY],
    summary="Ban a user: logins end now, content hidden from everyone else",
)
async def ban(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    userId: uuid.UUID,
    body: BanCreate,
) -> Envelope[UserStanding]:
    user = await service.ban(session, effects, actor, userId, body)
    return answer(views.standing(user), "User banned.")


@admin_router.post(
    "/users/{userId}/unban",
    response_model=Envelope[UserStanding],
    dependencies=[JSON_BODY],
    summary="Lift a user's ban",
)
async def unban(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    userId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[UserStanding]:
    user = await service.unban(session, effects, actor, userId, _why(body))
    return answer(views.standing(user), "Ban lifted.")


# -- songs


@admin_router.post(
    "/songs/{songId}/takedown",
    response_model=Envelope[SongStanding],
    dependencies=[JSON_BODY],
    summary="Take a song down: gone for everyone but its owner, who sees why",
)
async def take_down(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    songId: uuid.UUID,
    body: WithReason,
) -> Envelope[SongStanding]:
    song = await service.take_down(session, effects, actor, songId, body.reason)
    return answer(views.song_standing(song), "Song taken down.")


@admin_router.post(
    "/songs/{songId}/restore",
    response_model=Envelope[SongStanding],
    dependencies=[JSON_BODY],
    summary="Put a taken-down song back",
)
async def restore(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    songId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[SongStanding]:
    song = await service.restore(session, effects, actor, songId, _why(body))
    return answer(views.song_standing(song), "Song restored.")


@admin_router.delete(
    "/songs/{songId}",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a song, its files and everything on it",
)
async def remove_song(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    songId: uuid.UUID,
    body: WithReason,
) -> Envelope[None]:
    await service.remove_song(session, effects, actor, songId, body.reason)
    return answer(None, "Song deleted.")


# -- comments


@admin_router.post(
    "/comments/{commentId}/hide",
    response_model=Envelope[CommentStanding],
    dependencies=[JSON_BODY],
    summary="Hide a comment: held, seen only by its author and the song's owner",
)
async def hide_comment(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    commentId: uuid.UUID,
    body: WithReason,
) -> Envelope[CommentStanding]:
    row = await service.hide_comment(session, effects, actor, commentId, body.reason)
    return answer(views.comment_standing(row), "Comment hidden.")


@admin_router.post(
    "/comments/{commentId}/unhide",
    response_model=Envelope[CommentStanding],
    dependencies=[JSON_BODY],
    summary="Show a hidden comment again",
)
async def unhide_comment(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    commentId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[CommentStanding]:
    row = await service.unhide_comment(session, effects, actor, commentId, _why(body))
    return answer(views.comment_standing(row), "Comment shown again.")


@admin_router.delete(
    "/comments/{commentId}",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a comment and its replies",
)
async def remove_comment(
    session: SessionDep,
    effects: EffectsDep,
    actor: ModeratorDep,
    commentId: uuid.UUID,
    body: WithReason,
) -> Envelope[None]:
    await service.remove_comment(session, effects, actor, commentId, body.reason)
    return answer(None, "Comment deleted.")


# -- playlists


@admin_router.post(
    "/playlists/{playlistId}/hide",
    response_model=Envelope[PlaylistStanding],
    dependencies=[JSON_BODY],
    summary="Hide a playlist from everyone but its owner",
)
async def hide_playlist(
    session: SessionDep,
    actor: ModeratorDep,
    playlistId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[PlaylistStanding]:
    playlist = await service.hide_playlist(session, actor, playlistId, _why(body))
    return answer(views.playlist_standing(playlist), "Playlist hidden.")


@admin_router.post(
    "/playlists/{playlistId}/unhide",
    response_model=Envelope[PlaylistStanding],
    dependencies=[JSON_BODY],
    summary="Show a hidden playlist again",
)
async def unhide_playlist(
    session: SessionDep,
    actor: ModeratorDep,
    playlistId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[PlaylistStanding]:
    playlist = await service.unhide_playlist(session, actor, playlistId, _why(body))
    return answer(views.playlist_standing(playlist), "Playlist shown again.")


@admin_router.delete(
    "/playlists/{playlistId}",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    summary="Delete a playlist and its cover",
)
async def remove_playlist(
    session: SessionDep,
    queue: QueueDep,
    actor: ModeratorDep,
    playlistId: uuid.UUID,
    body: MaybeReason | None = None,
) -> Envelope[None]:
    await service.remove_playlist(session, queue, actor, playlistId, _why(body))
    return answer(None, "Playlist deleted.")


# -- the audit log: read only


@admin_router.get(
    "/audit",
    response_model=Envelope[AuditPage],
    summary="Every moderator's action, newest first (admins only)",
)
async def audit(
    session: SessionDep,
    _: AdminDep,
    paging: PagingDep,
    actor: uuid.UUID | None = None,
    targetType: TargetType | None = None,
    targetId: uuid.UUID | None = None,
    cursor: str | None = None,
) -> Envelope[AuditPage]:
    """``actor`` (a user id), ``targetType`` and ``targetId`` narrow it down."""
    listing = await service.audit_page(
        session,
        actor_id=actor,
        target_type=targetType,
        target_id=targetId,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    return answer(views.audit_page(listing, paging.page, paging.limit), "Audit log fetched.")
