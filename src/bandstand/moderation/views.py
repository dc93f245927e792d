"""How moderation appears in answers: the schemas' objects, from rows."""

from __future__ import annotations

from typing import Any

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import keyset_page_of
from bandstand.media.links import Links
from bandstand.models import AuditEntry, Playlist, Report, Song, TargetType, User
from bandstand.moderation.schemas import (
    AuditPage,
    AuditRead,
    CommentStanding,
    PlaylistStanding,
    QueueItem,
    QueuePage,
    ReportPage,
    ReportRead,
    SongStanding,
    TargetContent,
    UserStanding,
)
from bandstand.moderation.service import Listing, QueueEntry


def _public(links: Links, user: User | None) -> UserPublic | None:
    if user is None:
        return None
    return UserPublic(
        id=user.id,
        username=user.username,
        fullname=user.fullname,
        avatar=links.avatar(user.avatar_key),
    )


def report_view(report: Report) -> ReportRead:
    return ReportRead(
        id=report.id,
        targetType=TargetType(report.target_type),
        targetId=report.target_id,
        reason=report.reason,
        note=report.note,
        status=report.status,
        action=report.action,
        createdAt=report.created_at,
        resolvedAt=report.resolved_at,
    )


def report_page(listing: Listing[Report], page: int, limit: int) -> ReportPage:
    return ReportPage(**_shaped([report_view(r) for r in listing.rows], listing, page, limit))


def _target(kind: str, row: Any) -> TargetContent | None:
    if row is None:
        return None
    if kind == TargetType.SONG:
        return TargetContent(title=row.title, artist=row.artist, hidden=row.hidden)
    if kind == TargetType.COMMENT:
        return TargetContent(content=row.content, songId=row.song_id, hidden=row.hidden)
    if kind == TargetType.USER:
        return TargetContent(
            username=row.username, fullname=row.fullname, hidden=row.banned_at is not None
        )
    return TargetContent(name=row.name, description=row.description, hidden=row.hidden)


def queue_item(links: Links, entry: QueueEntry) -> QueueItem:
    report = entry.report
    return QueueItem(
        **report_view(report).model_dump(),
        reporter=_public(links, entry.reporter),
        target=_target(report.target_type, entry.target),
        targetOwner=_public(links, entry.target_owner),
        otherOpenReports=entry.other_open,
        ownerUpheldReports=entry.owner_upheld,
        resolutionNote=report.resolution_note,
    )


def queue_page(links: Links, listing: Listing[QueueEntry], page: int, limit: int) -> QueuePage:
    docs = [queue_item(links, entry) for entry in listing.rows]
    return QueuePage(**_shaped(docs, listing, page, limit))


def standing(user: User) -> UserStanding:
    return UserStanding(
        id=user.id,
        username=user.username,
        fullname=user.fullname,
        role=user.role,
        bannedAt=user.banned_at,
        banReason=user.ban_reason,
        bannedUntil=user.banned_until,
    )


def song_standing(song: Song) -> SongStanding:
    return SongStanding(
        id=song.id,
        title=song.title,
        owner=song.owner_id,
        takenDownAt=song.taken_down_at,
        takedownReason=song.takedown_reason,
    )


def playlist_standing(playlist: Playlist) -> PlaylistStanding:
    return PlaylistStanding(
        id=playlist.id,
        playlist_name=playlist.name,
        owner=playlist.owner_id,
        hiddenAt=playlist.hidden_at,
    )


def audit_view(entry: AuditEntry) -> AuditRead:
    return AuditRead(
        id=entry.id,
        actorId=entry.actor_id,
        actorName=entry.actor_name,
        action=entry.action,
        targetType=entry.target_type,
        targetId=entry.target_id,
        reason=entry.reason,
        createdAt=entry.created_at,
    )


def audit_page(listing: Listing[AuditEntry], page: int, limit: int) -> AuditPage:
    return AuditPage(**_shaped([audit_view(e) for e in listing.rows], listing, page, limit))


def _shaped(docs: list[Any], listing: Listing[Any], page: int, limit: int) -> dict[str, Any]:
    return keyset_page_of(
        docs,
        page=page,
        limit=limit,
        total=listing.total,
        next_cursor=listing.next_cursor,
        by_cursor=listing.by_cursor,
    )


def comment_standing(row: Any) -> CommentStanding:
    """``row``: a comment as ``repository.comment`` reads it."""
    return CommentStanding(
        id=row.id, song=row.song_id, owner=row.user_id, isHeld=row.is_held, hiddenAt=row.hidden_at
    )
