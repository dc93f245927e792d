"""Every moderation query: reports, the audit log, and the moderators' writes to users,
songs, comments and playlists (bans, takedowns, hidden rows)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.models import (
    AuditEntry,
    Comment,
    LoginSession,
    Playlist,
    RefreshToken,
    Report,
    ReportAction,
    ReportStatus,
    Role,
    Song,
    TargetType,
    User,
)

# -- users: roles and bans


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def locked_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user, their row held until the transaction ends: a ban and a takedown of one of
    their songs take turns, so the catalogue's size counts each song once. The hold is a
    write (of nothing), so on SQLite too it opens the write transaction before the read."""
    held = (
        update(User)
        .where(User.id == user_id)
        .values(updated_at=User.updated_at)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(held)).first() is None:
        return None
    stmt = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def banned(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Whether the user is banned, read with their row share-locked (see ``locked_user``).
    Read after the caller's own write, so on SQLite it is read inside the transaction."""
    stmt = select(User.banned_at).where(User.id == user_id).with_for_update(read=True)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def locked_admins(session: AsyncSession) -> list[uuid.UUID]:
    """The admins who are not banned, their rows held until the transaction ends, so two
    admins demoting each other at once cannot leave the instance with none. (Held by a
    write of nothing first, which on SQLite opens the write transaction.)"""
    is_admin = (User.role == Role.ADMIN, User.banned_at.is_(None))
    await session.execute(
        update(User)
        .where(*is_admin)
        .values(role=User.role)
        .execution_options(synchronize_session=False)
    )
    stmt = select(User.id).where(*is_admin).order_by(User.id).with_for_update()
    return list((await session.scalars(stmt)).all())


async def revoke_logins(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """End every login of the user, and every refresh token of them: the next request with
    any of their tokens is refused."""
    await session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    theirs = select(LoginSession.id).where(LoginSession.user_id == user_id)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(theirs), RefreshToken.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


async def catalogued_songs(session: AsyncSession, owner_id: uuid.UUID) -> int:
    """How many of the user's songs the catalogue counts while they are not banned: all but
    the taken-down ones."""
    stmt = (
        select(func.count())
        .select_from(Song)
        .where(Song.owner_id == owner_id, Song.taken_down_at.is_(None))
    )
    return int((await session.execute(stmt)).scalar_one())


async def expired_bans(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(User.id)
        .where(User.banned_at.is_not(None), User.banned_until <= now)
        .order_by(User.banned_until)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


# -- songs, comments, playlists


async def song(session: AsyncSession, song_id: uuid.UUID) -> Song | None:
    return await session.get(Song, song_id)


async def set_takedown(
    session: AsyncSession, song_id: uuid.UUID, when: datetime | None, reason: str | None
) -> bool:
    """Take the song down (``when`` set) or restore it (None); True only if this call
    changed it, so two moderators acting at once move the catalogue's size once."""
    is_down = Song.taken_down_at.is_not(None)
    stmt = (
        update(Song)
        .where(Song.id == song_id, ~is_down if when is not None else is_down)
        .values(taken_down_at=when, takedown_reason=reason)
        .returning(Song.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def comment(session: AsyncSession, comment_id: uuid.UUID) -> Any:
    """The comment with its song's owner, whatever its state (a moderator sees all)."""
    stmt = (
        select(
            Comment.id,
            Comment.song_id,
            Comment.user_id,
            Comment.root_id,
            Comment.is_held,
            Comment.like_count,
            Comment.hidden_at,
            Song.owner_id.label("song_owner_id"),
        )
        .join(Song, Song.id == Comment.song_id)
        .where(Comment.id == comment_id)
    )
    return (await session.execute(stmt)).one_or_none()


async def playlist(session: AsyncSession, playlist_id: uuid.UUID) -> Playlist | None:
    return await session.get(Playlist, playlist_id)


async def set_playlist_hidden(
    session: AsyncSession, playlist_id: uuid.UUID, when: datetime | None, reason: str | None
) -> bool:
    """Hide the playlist for ``reason`` (``when`` set) or show it again (None); True only
    if this call changed it."""
    is_hidden = Playlist.hidden_at.is_not(None)
    stmt = (
        update(Playlist)
        .where(Playlist.id == playlist_id, ~is_hidden if when is not None else is_hidden)
        .values(hidden_at=when, hidden_reason=reason)
        .returning(Playlist.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


# -- what a user may report


def _not_banned(user_id: Any) -> ColumnElement[bool]:
    return select(User.id).where(User.id == user_id, User.banned_at.is_(None)).exists()


def _song_shown(song_id: Any) -> ColumnElement[bool]:
    """A song anyone may see: not taken down, its owner not banned."""
    return (
        select(Song.id)
        .where(Song.id == song_id, Song.taken_down_at.is_(None), _not_banned(Song.owner_id))
        .exists()
    )


async def reportable_owner(
    session: AsyncSession, target_type: TargetType, target_id: uuid.UUID, viewer_id: uuid.UUID
) -> uuid.UUID | None:
    """Whose the target is, if it exists and ``viewer_id`` may see it; None otherwise
    (missing and hidden look the same). A comment's threads (held ancestors) are the
    comments service's to judge; this checks the comment itself and its song."""
    stmt: Select[uuid.UUID]
    if target_type == TargetType.SONG:
        stmt = select(Song.owner_id).where(
            Song.id == target_id, Song.taken_down_at.is_(None), _not_banned(Song.owner_id)
        )
    elif target_type == TargetType.COMMENT:
        stmt = select(Comment.user_id).where(
            Comment.id == target_id,
            Comment.hidden_at.is_(None),
            _not_banned(Comment.user_id),
            _song_shown(Comment.song_id),
        )
    elif target_type == TargetType.USER:
        stmt = select(User.id).where(User.id == target_id, User.banned_at.is_(None))
    else:
        stmt = select(Playlist.owner_id).where(
            Playlist.id == target_id,
            or_(Playlist.is_public == true(), Playlist.owner_id == viewer_id),
            Playlist.hidden_at.is_(None),
            _not_banned(Playlist.owner_id),
        )
    return (await session.execute(stmt)).scalar_one_or_none()


async def target_owner(
    session: AsyncSession, target_type: str, target_id: uuid.UUID
) -> uuid.UUID | None:
    """Whose the target is now, whatever its state; None if it is gone."""
    column: Any = {
        TargetType.SONG: Song.owner_id,
        TargetType.COMMENT: Comment.user_id,
        TargetType.USER: User.id,
        TargetType.PLAYLIST: Playlist.owner_id,
    }[TargetType(target_type)]
    table = column.class_
    stmt = select(column).where(table.id == target_id)
    found: uuid.UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


# -- reports


async def open_report_exists(
    session: AsyncSession, reporter_id: uuid.UUID, target_type: str, target_id: uuid.UUID
) -> bool:
    stmt = select(Report.id).where(
        Report.reporter_id == reporter_id,
        Report.target_type == target_type,
        Report.target_id == target_id,
        Report.status == ReportStatus.OPEN,
    )
    return (await session.execute(stmt)).first() is not None


async def add_report(session: AsyncSession, report: Report) -> Report:
    session.add(report)
    await session.flush()
    return report


async def report(session: AsyncSession, report_id: uuid.UUID) -> Report | None:
    return await session.get(Report, report_id)


async def resolve_open(
    session: AsyncSession,
    target_type: str,
    target_id: uuid.UUID,
    *,
    action: str,
    by: uuid.UUID | None,
    note: str,
    now: datetime,
) -> list[uuid.UUID]:
    """Resolve every open report of the target; the ids of those this call resolved (a
    report another moderator resolved first is not among them)."""
    stmt = (
        update(Report)
        .where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.status == ReportStatus.OPEN,
        )
        .values(
            status=ReportStatus.RESOLVED,
            action=action,
            resolved_by=by,
            resolved_at=now,
            resolution_note=note,
            updated_at=now,
        )
        .returning(Report.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


def _paged(
    stmt: Select[Any],
    column: Any,
    *,
    limit: int,
    offset: int,
    after: uuid.UUID | None,
    newest: bool,
) -> Select[Any]:
    """Rows ordered by ``column`` (a time-ordered id), newest or oldest first; ``after``
    (the last id a page showed) is a keyset cursor, ``offset`` serves page numbers."""
    stmt = stmt.order_by(column.desc() if newest else column.asc()).limit(limit)
    if after is not None:
        return stmt.where(column < after if newest else column > after)
    return stmt.offset(offset) if offset else stmt


async def count(session: AsyncSession, model: Any, *conditions: ColumnElement[bool]) -> int:
    stmt = select(func.count()).select_from(model).where(*conditions)
    return int((await session.execute(stmt)).scalar_one())


def reports_of(reporter_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Report.reporter_id == reporter_id]


def reports_with_status(status: str) -> list[ColumnElement[bool]]:
    return [Report.status == status]


async def reports(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    after: uuid.UUID | None,
    newest: bool,
) -> Sequence[Report]:
    stmt = _paged(
        select(Report).where(*conditions),
        Report.id,
        limit=limit,
        offset=offset,
        after=after,
        newest=newest,
    )
    return (await session.scalars(stmt)).all()


async def queue(
    session: AsyncSession,
    status: str,
    *,
    limit: int,
    offset: int,
    after: uuid.UUID | None,
    newest: bool,
) -> Sequence[Row[Any]]:
    """Reports with the given status, each with how many other reports of its target are
    open and how many reports of its target's owner were upheld (resolved, not
    dismissed)."""
    others = aliased(Report)
    other_open = (
        select(func.count())
        .select_from(others)
        .where(
            others.target_type == Report.target_type,
            others.target_id == Report.target_id,
            others.status == ReportStatus.OPEN,
            others.id != Report.id,
        )
        .correlate(Report)
        .scalar_subquery()
    )
    history = aliased(Report)
    upheld = (
        select(func.count())
        .select_from(history)
        .where(
            history.target_owner_id == Report.target_owner_id,
            history.status == ReportStatus.RESOLVED,
            history.action != ReportAction.DISMISS,
        )
        .correlate(Report)
        .scalar_subquery()
    )
    stmt = select(Report, other_open.label("other_open"), upheld.label("owner_upheld")).where(
        Report.status == status
    )
    stmt = _paged(stmt, Report.id, limit=limit, offset=offset, after=after, newest=newest)
    return (await session.execute(stmt)).all()


async def users(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, User]:
    if not ids:
        return {}
    found = await session.scalars(select(User).where(User.id.in_(ids)))
    return {row.id: row for row in found}


async def songs(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    stmt = select(
        Song.id, Song.title, Song.artist, Song.taken_down_at.is_not(None).label("hidden")
    ).where(Song.id.in_(ids))
    return {row.id: row for row in await session.execute(stmt)}


async def comments(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    stmt = select(
        Comment.id, Comment.content, Comment.song_id, Comment.hidden_at.is_not(None).label("hidden")
    ).where(Comment.id.in_(ids))
    return {row.id: row for row in await session.execute(stmt)}


async def playlists(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    stmt = select(
        Playlist.id,
        Playlist.name,
        Playlist.description,
        Playlist.hidden_at.is_not(None).label("hidden"),
    ).where(Playlist.id.in_(ids))
    return {row.id: row for row in await session.execute(stmt)}


# -- the audit log: rows are added, never changed


def add_audit(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)


def audit_filter(
    actor_id: uuid.UUID | None, target_type: str | None, target_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if actor_id is not None:
        conditions.append(AuditEntry.actor_id == actor_id)
    if target_type is not None:
        conditions.append(AuditEntry.target_type == target_type)
    if target_id is not None:
        conditions.append(AuditEntry.target_id == target_id)
    return conditions


async def audit_entries(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    after: uuid.UUID | None,
) -> Sequence[AuditEntry]:
    stmt = _paged(
        select(AuditEntry).where(*conditions),
        AuditEntry.id,
        limit=limit,
        offset=offset,
        after=after,
        newest=True,
    )
    return (await session.scalars(stmt)).all()
