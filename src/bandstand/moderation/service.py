"""Moderation rules: who may report what, how a report is resolved, what a ban, a takedown
or a hidden comment or playlist does, and the audit log every moderator's action writes.

Each action changes its target and appends its audit entry in the caller's transaction:
the log holds an action if and only if it happened. Acting on a reported target directly
(a takedown, a ban) resolves its open reports with that action, so the queue never asks
about what is already dealt with.

The catalogue's size (home's ``totalDocs``) counts every song that is neither taken down
nor its owner's while banned. A ban holds the user's row before it reads them; a takedown
writes the song first and then reads the owner's ban with their row share-locked. So the
two take turns and each song leaves the count once — on SQLite too, where a transaction
holds the write lock only from its first write, and reads before it see other commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.comments import service as comments
from bandstand.comments.recent import Recent
from bandstand.comments.service import CommentRef
from bandstand.db import after_commit
from bandstand.engagement.counters import Counters
from bandstand.errors import BadRequest, Conflict, Forbidden, NotFound
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.cursors import decode_id, encode_id
from bandstand.kit.time import as_utc, utcnow
from bandstand.models import (
    AuditEntry,
    Playlist,
    Report,
    ReportAction,
    ReportStatus,
    Role,
    Song,
    TargetType,
    User,
)
from bandstand.moderation import repository as repo
from bandstand.moderation.schemas import BanCreate, ReportCreate
from bandstand.playlists import service as playlists
from bandstand.songs import repository as songs_repo
from bandstand.songs import service as songs
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)

STAFF = frozenset({Role.MODERATOR, Role.ADMIN})
# Expired bans lifted per transaction by the periodic job.
LIFT_BATCH = 100
# Keeps the proxy's marks on a song's files as the database says (``tasks.py``).
WITHHOLD_JOB = "moderation.withhold_media"


@dataclass(frozen=True)
class Actor:
    """Who acts: a moderator or admin, or the instance itself (``id`` None)."""

    id: uuid.UUID | None
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


SYSTEM = Actor(id=None, name="system", role=Role.ADMIN)


T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """A page of rows, by page number or by cursor (``kit.pagination.keyset_page_of``)."""

    rows: Sequence[T]
    total: int
    next_cursor: str | None
    by_cursor: bool


@dataclass(frozen=True)
class QueueEntry:
    """A report in the queue with what moderators are shown beside it."""

    report: Report
    other_open: int
    owner_upheld: int
    reporter: User | None
    target_owner: User | None
    target: Any  # a row of the target's content (see repository), or None if it is gone


@dataclass(frozen=True)
class Resolution:
    target_type: str
    target_id: uuid.UUID
    action: str
    reports: int


@dataclass(frozen=True)
class Effects:
    """The parts an action on content reaches beyond the database: the job queue (files
    of removed content), the songs catalogue's kept answers, the comment counters and the
    kept comment answers."""

    queue: Queue
    catalogue: RecentAnswers
    counters: Counters
    comment_answers: Recent | None


def _field_error(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    reason: str = "",
) -> None:
    repo.add_audit(
        session,
        AuditEntry(
            actor_id=actor.id,
            actor_name=actor.name[:30],
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            created_at=utcnow(),
        ),
    )


async def _close_reports(
    session: AsyncSession,
    actor: Actor,
    target_type: str,
    target_id: uuid.UUID,
    action: str,
    note: str,
) -> list[uuid.UUID]:
    return await repo.resolve_open(
        session, target_type, target_id, action=action, by=actor.id, note=note, now=utcnow()
    )


def _page_window(page: int, limit: int, cursor: str | None) -> tuple[uuid.UUID | None, int]:
    after = decode_id(cursor) if cursor else None
    return after, 0 if after is not None else (page - 1) * limit


def _listing(rows: Sequence[T], limit: int, total: int, key: Any, by_cursor: bool) -> Listing[T]:
    shown = rows[:limit]
    next_cursor = encode_id(key(shown[-1])) if len(rows) > limit else None
    return Listing(rows=shown, total=total, next_cursor=next_cursor, by_cursor=by_cursor)


# -- roles


async def set_role(session: AsyncSession, actor: Actor, user_id: uuid.UUID, role: Role) -> User:
    """Give the user ``role``. The last admin cannot step down: an instance always keeps
    one. Checked with every admin's row locked, and with the actor's own standing as it
    is now, not as it was when the request was authenticated."""
    admins = await repo.locked_admins(session)
    if actor.id is not None and actor.id not in admins:
        raise Forbidden("Only admins can change roles.")
    user = await repo.locked_user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    if user.role == role:
        return user
    if user.role == Role.ADMIN and user.id in admins and len(admins) == 1:
        raise Conflict(
            "This is the last admin: make someone else admin first.",
            errors=[_field_error("role", "The instance needs an admin.")],
        )
    before = user.role
    user.role = role
    user.updated_at = utcnow()
    await session.flush()
    _audit(session, actor, "role", TargetType.USER, user.id, f"{before} -> {role}")
    log.info("role_changed", user_id=str(user.id), role=str(role), by=str(actor.id))
    return user


# -- reports


async def file_report(
    session: AsyncSession,
    reporter_id: uuid.UUID,
    data: ReportCreate,
) -> Report:
    """File a report of something the reporter can see and does not own. One open report
    per reporter and target. The reporter's budget (``limit_reports_per_user``, spent by
    ``budgets.py`` before the route runs) covers refused reports too, so probing for ids
    is throttled with the rest."""
    target_type, target_id = data.targetType, data.targetId
    if target_type == TargetType.COMMENT:
        # Held comments (and replies under held ones) are the comments service's to judge.
        await comments.visible_comment(session, target_id, reporter_id)
    owner = await repo.reportable_owner(session, target_type, target_id, reporter_id)
    if owner is None:
        raise NotFound(f"No such {target_type}.")
    if owner == reporter_id:
        raise BadRequest(
            "You cannot report your own content.",
            errors=[_field_error("targetId", "This is yours.")],
        )
    if await repo.open_report_exists(session, reporter_id, target_type, target_id):
        raise Conflict("You have already reported this; a moderator will look at it.")
    try:
        report = await repo.add_report(
            session,
            Report(
                reporter_id=reporter_id,
                target_type=target_type,
                target_id=target_id,
                target_owner_id=owner,
                reason=data.reason,
                note=data.note,
            ),
        )
    except IntegrityError as exc:  # the same report, sent twice at once
        raise Conflict("You have already reported this; a moderator will look at it.") from exc
    log.info("report_filed", report_id=str(report.id), target_type=str(target_type))
    return report


async def my_reports(
    session: AsyncSession, reporter_id: uuid.UUID, *, page: int, limit: int, cursor: str | None
) -> Listing[Report]:
    """The reporter's reports, newest first."""
    after, offset = _page_window(page, limit, cursor)
    conditions = repo.reports_of(reporter_id)
    total = await repo.count(session, Report, *conditions)
    rows = await repo.reports(
        session, conditions, limit=limit + 1, offset=offset, after=after, newest=True
    )
    return _listing(rows, limit, total, lambda r: r.id, after is not None)


async def queue_page(
    session: AsyncSession, status: str, *, page: int, limit: int, cursor: str | None
) -> Listing[QueueEntry]:
    """Open reports oldest first (the queue is worked in order), resolved ones newest
    first; each with its target as it is now, its reporter, and its target owner."""
    after, offset = _page_window(page, limit, cursor)
    newest = status == ReportStatus.RESOLVED
    total = await repo.count(session, Report, *repo.reports_with_status(status))
    rows = await repo.queue(
        session, status, limit=limit + 1, offset=offset, after=after, newest=newest
    )
    shown = rows[:limit]
    reports = [row.Report for row in shown]
    people = await repo.users(
        session,
        {r.reporter_id for r in reports if r.reporter_id}
        | {r.target_owner_id for r in reports if r.target_owner_id},
    )
    targets: dict[str, dict[uuid.UUID, Any]] = {}
    for kind, read in (
        (TargetType.SONG, repo.songs),
        (TargetType.COMMENT, repo.comments),
        (TargetType.PLAYLIST, repo.playlists),
    ):
        ids = {r.target_id for r in reports if r.target_type == kind}
        targets[kind] = await read(session, ids)
    users = await repo.users(
        session, {r.target_id for r in reports if r.target_type == TargetType.USER}
    )
    targets[TargetType.USER] = dict(users)
    entries = [
        QueueEntry(
            report=row.Report,
            other_open=int(row.other_open),
            owner_upheld=int(row.owner_upheld),
            reporter=people.get(row.Report.reporter_id) if row.Report.reporter_id else None,
            target_owner=(
                people.get(row.Report.target_owner_id) if row.Report.target_owner_id else None
            ),
            target=targets[row.Report.target_type].get(row.Report.target_id),
        )
        for row in shown
    ]
    next_cursor = encode_id(reports[-1].id) if len(rows) > limit else None
    return Listing(rows=entries, total=total, next_cursor=next_cursor, by_cursor=after is not None)


async def resolve(
    session: AsyncSession,
    effects: Effects,
    actor: Actor,
    report_id: uuid.UUID,
    action: ReportAction,
    note: str,
) -> Resolution:
    """Resolve every open report of this report's target with ``action``, and apply it:
    ``hide`` takes a song down, holds a comment, hides a playlist, bans a user; ``remove``
    deletes the content; ``ban`` bans the target's owner; ``dismiss`` changes nothing but
    the reports. Content that is gone meanwhile needs no hiding or removing: its reports
    are resolved all the same."""
    report = await repo.report(session, report_id)
    if report is None:
        raise NotFound("Report not found.")
    if report.status != ReportStatus.OPEN:
        raise Conflict("This report is resolved already.")
    target_type, target_id = TargetType(report.target_type), report.target_id
    owner_id = await repo.target_owner(session, target_type, target_id)
    await _may_act_on(session, actor, owner_id or report.target_owner_id)
    if action == ReportAction.REMOVE and target_type == TargetType.USER:
        raise BadRequest(
            "A user cannot be removed: ban them instead.",
            errors=[_field_error("action", "Use ban (or hide) for a user.")],
        )
    closed = await _close_reports(session, actor, target_type, target_id, action, note)
    if report.id not in closed:
        raise Conflict("This report is resolved already.")
    why = note or f"Reported: {report.reason}."
    if action == ReportAction.BAN or (
        action == ReportAction.HIDE and target_type == TargetType.USER
    ):
        owner_id = await repo.target_owner(session, target_type, target_id)
        owner_id = owner_id or report.target_owner_id
        if owner_id is not None:
            await _ban_if_not_banned(session, effects, actor, owner_id, why)
    elif action == ReportAction.HIDE:
        await _hide_target(session, effects, actor, target_type, target_id, why)
    elif action == ReportAction.REMOVE:
        await _remove_target(session, effects, actor, target_type, target_id, why)
    _audit(
        session, actor, "resolve", target_type, target_id, f"{action}: {note}" if note else action
    )
    log.info("reports_resolved", target_id=str(target_id), action=str(action), reports=len(closed))
    return Resolution(target_type, target_id, action, len(closed))


async def _hide_target(
    session: AsyncSession,
    effects: Effects,
    actor: Actor,
    target_type: TargetType,
    target_id: uuid.UUID,
    why: str,
) -> None:
    if target_type == TargetType.SONG:
        song = await repo.song(session, target_id)
        if song is not None and song.taken_down_at is None:
            await _take_down(session, effects, actor, song, why)
    elif target_type == TargetType.COMMENT:
        ref = await _comment_ref(session, target_id)
        if ref is not None:
            await _hold(session, effects, actor, ref, why)
    elif target_type == TargetType.PLAYLIST:
        await _hide_playlist(session, actor, target_id, why)


async def _remove_target(
    session: AsyncSession,
    effects: Effects,
    actor: Actor,
    target_type: TargetType,
    target_id: uuid.UUID,
    why: str,
) -> None:
    if target_type == TargetType.SONG:
        song = await repo.song(session, target_id)
        if song is not None:
            await _remove_song(session, effects, actor, song, why)
    elif target_type == TargetType.COMMENT:
        ref = await _comment_ref(session, target_id)
        if ref is not None:
            await _remove_comment(session, effects, actor, ref, why)
    elif target_type == TargetType.PLAYLIST:
        playlist = await repo.playlist(session, target_id)
        if playlist is not None:
            await _remove_playlist(session, effects.queue, actor, playlist, why)


async def _may_act_on(session: AsyncSession, actor: Actor, owner_id: uuid.UUID | None) -> None:
    """A moderator acts on other users' content: not on their own (another moderator
    judges it), and not on a moderator's or an admin's (an admin does)."""
    if owner_id is None or actor.id is None:
        return
    if owner_id == actor.id:
        raise Forbidden("You cannot act on your own content: another moderator must.")
    if not actor.is_admin:
        owner = await repo.user(session, owner_id)
        if owner is not None and owner.role in STAFF:
            raise Forbidden("Only an admin can act on a moderator's or an admin's content.")


async def user_to_judge(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The user, banned or not, as the moderators' pages show their standing; 404 if
    there is none. Read only: an action locks the row itself."""
    user = await repo.user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def song_to_judge(session: AsyncSession, song_id: uuid.UUID) -> Song:
    """The song, taken down or not, as the moderators' pages show it; 404 if there is
    none."""
    song = await repo.song(session, song_id)
    if song is None:
        raise NotFound("Song not found.")
    return song


async def _song_to_judge(session: AsyncSession, actor: Actor, song_id: uuid.UUID) -> Song:
    song = await song_to_judge(session, song_id)
    await _may_act_on(session, actor, song.owner_id)
    return song


async def _playlist_to_judge(
    session: AsyncSession, actor: Actor, playlist_id: uuid.UUID
) -> Playlist:
    playlist = await repo.playlist(session, playlist_id)
    if playlist is None:
        raise NotFound("Playlist not found.")
    await _may_act_on(session, actor, playlist.owner_id)
    return playlist


async def _comment_to_judge(
    session: AsyncSession, actor: Actor, comment_id: uuid.UUID
) -> CommentRef:
    ref = await _existing_comment(session, comment_id)
    await _may_act_on(session, actor, ref.author_id)
    return ref


# -- bans


def _may_ban(actor: Actor, user: User) -> None:
    if user.id == actor.id:
        raise Forbidden("You cannot ban yourself.")
    if user.role in STAFF and not actor.is_admin:
        raise Forbidden("Only an admin can ban a moderator or an admin.")


def _until(until: datetime | None) -> datetime | None:
    if until is None:
        return None
    until = as_utc(until)
    if until <= utcnow():
        raise BadRequest("Invalid input.", errors=[_field_error("until", "Must be in the future.")])
    return until


async def ban(
    session: AsyncSession, effects: Effects, actor: Actor, user_id: uuid.UUID, data: BanCreate
) -> User:
    """Ban the user: every login of theirs ends now, they cannot log in, and their songs,
    comments and playlists are hidden from everyone else (kept, so an unban restores
    them). Banning a banned user changes the reason and the end. A moderator cannot ban
    themself, another moderator or an admin."""
    until = _until(data.until)
    user = await repo.locked_user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    _may_ban(actor, user)
    await _ban(session, effects, actor, user, data.reason, until)
    await _close_reports(session, actor, TargetType.USER, user.id, ReportAction.BAN, data.reason)
    return user


async def _ban_if_not_banned(
    session: AsyncSession, effects: Effects, actor: Actor, user_id: uuid.UUID, reason: str
) -> None:
    user = await repo.locked_user(session, user_id)
    if user is None or user.banned_at is not None:
        return
    _may_ban(actor, user)
    await _ban(session, effects, actor, user, reason, None)


async def _ban(
    session: AsyncSession,
    effects: Effects,
    actor: Actor,
    user: User,
    reason: str,
    until: datetime | None,
) -> None:
    """``user``: locked (``repository.locked_user``)."""
    now = utcnow()
    newly = user.banned_at is None
    if newly:
        user.banned_at = now
    user.ban_reason = reason
    user.banned_until = until
    await session.flush()
    await repo.revoke_logins(session, user.id, now)
    if newly:
        await _move_catalogue(session, effects, user.id, -1)
        _withhold(session, effects.queue, owner_id=user.id)
    _audit(session, actor, "ban", TargetType.USER, user.id, reason)
    log.info("user_banned", user_id=str(user.id), by=str(actor.id), until=str(until))


def _withhold(
    session: AsyncSession,
    queue: Queue,
    *,
    owner_id: uuid.UUID | None = None,
    song_id: uuid.UUID | None = None,
) -> None:
    """Have the proxy's marks follow what this transaction changes of who sees the owner's
    songs, or the song (``media/withheld.py``)."""
    ids = (str(owner_id) if owner_id else None, str(song_id) if song_id else None)
    queue.enqueue_after_commit(session, WITHHOLD_JOB, *ids)


async def _move_catalogue(
    session: AsyncSession, effects: Effects, user_id: uuid.UUID, sign: int
) -> None:
    """The user's songs leave (``sign`` -1) or return to (+1) the catalogue, their
    comments their songs' counts, and every kept answer that showed or left out them
    and their comments is dropped."""
    songs_counted = await repo.catalogued_songs(session, user_id)
    if songs_counted:
        await songs_repo.add_to_catalogue(session, sign * songs_counted)
    after_commit(session, effects.catalogue.clear)
    await comments.author_banned(
        session, effects.counters, effects.comment_answers, user_id, banned=sign < 0
    )


async def unban(
    session: AsyncSession, effects: Effects, actor: Actor, user_id: uuid.UUID, reason: str
) -> User:
    """Lift the user's ban: they can log in again and their content is back."""
    user = await repo.locked_user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    if user.role in STAFF and not actor.is_admin:
        raise Forbidden("Only an admin can lift the ban of a moderator or an admin.")
    if user.banned_at is None:
        raise Conflict("This user is not banned.")
    await _unban(session, effects, actor, user, reason)
    return user


async def _unban(
    session: AsyncSession, effects: Effects, actor: Actor, user: User, reason: str
) -> None:
    user.banned_at = None
    user.ban_reason = None
    user.banned_until = None
    await session.flush()
    await _move_catalogue(session, effects, user.id, +1)
    _withhold(session, effects.queue, owner_id=user.id)
    _audit(session, actor, "unban", TargetType.USER, user.id, reason)
    log.info("user_unbanned", user_id=str(user.id), by=str(actor.id))


async def lift_expired_bans(session: AsyncSession, effects: Effects) -> int:
    """Lift up to ``LIFT_BATCH`` bans whose end has passed, as the instance itself; how
    many. Each user is re-read locked: a ban renewed meanwhile stays."""
    now = utcnow()
    lifted = 0
    for user_id in await repo.expired_bans(session, now, LIFT_BATCH):
        user = await repo.locked_user(session, user_id)
        if user is None or user.banned_at is None or user.banned_until is None:
            continue
        if user.banned_until > now:
            continue
        await _unban(session, effects, SYSTEM, user, "The ban ended.")
        lifted += 1
    return lifted


# -- songs


async def take_down(
    session: AsyncSession, effects: Effects, actor: Actor, song_id: uuid.UUID, reason: str
) -> Song:
    """Take the song down: gone for everyone but its owner, who sees why."""
    song = await _song_to_judge(session, actor, song_id)
    if not await _take_down(session, effects, actor, song, reason):
        raise Conflict("This song is taken down already.")
    await _close_reports(session, actor, TargetType.SONG, song.id, ReportAction.HIDE, reason)
    await session.refresh(song)
    return song


async def _take_down(
    session: AsyncSession, effects: Effects, actor: Actor, song: Song, reason: str
) -> bool:
    if not await repo.set_takedown(session, song.id, utcnow(), reason):
        return False
    # Read after the write: see the module's docstring.
    if not await repo.banned(session, song.owner_id):
        await songs_repo.add_to_catalogue(session, -1)
    after_commit(session, effects.catalogue.clear)
    _withhold(session, effects.queue, song_id=song.id)
    _audit(session, actor, "takedown", TargetType.SONG, song.id, reason)
    log.info("song_taken_down", song_id=str(song.id), by=str(actor.id))
    return True


async def restore(
    session: AsyncSession, effects: Effects, actor: Actor, song_id: uuid.UUID, reason: str
) -> Song:
    """Put a taken-down song back where it was."""
    song = await _song_to_judge(session, actor, song_id)
    if not await repo.set_takedown(session, song.id, None, None):
        raise Conflict("This song is not taken down.")
    if not await repo.banned(session, song.owner_id):
        await songs_repo.add_to_catalogue(session, 1)
    after_commit(session, effects.catalogue.clear)
    _withhold(session, effects.queue, song_id=song.id)
    _audit(session, actor, "restore", TargetType.SONG, song.id, reason)
    log.info("song_restored", song_id=str(song.id), by=str(actor.id))
    await session.refresh(song)
    return song


async def remove_song(
    session: AsyncSession, effects: Effects, actor: Actor, song_id: uuid.UUID, reason: str
) -> None:
    song = await _song_to_judge(session, actor, song_id)
    await _remove_song(session, effects, actor, song, reason)
    await _close_reports(session, actor, TargetType.SONG, song_id, ReportAction.REMOVE, reason)


async def _remove_song(
    session: AsyncSession, effects: Effects, actor: Actor, song: Song, reason: str
) -> None:
    recent = effects.comment_answers
    assert recent is not None, "a route removes songs, with its comment answers"
    await songs.remove(session, effects.queue, effects.catalogue, recent, song)
    _audit(session, actor, "remove", TargetType.SONG, song.id, reason)


# -- comments


async def _comment_ref(session: AsyncSession, comment_id: uuid.UUID) -> CommentRef | None:
    """The comment as the comments service takes it, whoever may see it."""
    row = await repo.comment(session, comment_id)
    if row is None:
        return None
    return CommentRef(
        id=row.id,
        song_id=row.song_id,
        author_id=row.user_id,
        song_owner_id=row.song_owner_id,
        root_id=row.root_id,
        is_held=row.is_held,
        like_count=row.like_count,
        # Only replying walks a thread; a moderator's action never does.
        depth=0,
    )


async def _existing_comment(session: AsyncSession, comment_id: uuid.UUID) -> CommentRef:
    found = await _comment_ref(session, comment_id)
    if found is None:
        raise NotFound("Comment not found.")
    return found


async def _comment_now(session: AsyncSession, comment_id: uuid.UUID) -> Any:
    row = await repo.comment(session, comment_id)
    if row is None:
        raise NotFound("Comment not found.")  # removed meanwhile
    return row


async def hide_comment(
    session: AsyncSession, effects: Effects, actor: Actor, comment_id: uuid.UUID, reason: str
) -> Any:
    """Hold the comment: seen by its author and the song's owner only, uncounted, and
    not to be approved by the song's owner; a moderator's unhide releases it."""
    ref = await _comment_to_judge(session, actor, comment_id)
    if not await _hold(session, effects, actor, ref, reason):
        raise Conflict("This comment is hidden already.")
    await _close_reports(session, actor, TargetType.COMMENT, ref.id, ReportAction.HIDE, reason)
    return await _comment_now(session, ref.id)


async def _hold(
    session: AsyncSession, effects: Effects, actor: Actor, ref: CommentRef, reason: str
) -> bool:
    assert effects.comment_answers is not None, "a route hides comments, with its answers"
    if not await comments.hold(session, effects.counters, effects.comment_answers, ref, reason):
        return False
    _audit(session, actor, "hide", TargetType.COMMENT, ref.id, reason)
    return True


async def unhide_comment(
    session: AsyncSession, effects: Effects, actor: Actor, comment_id: uuid.UUID, reason: str
) -> Any:
    """Release a hidden comment: shown to everyone and counted again."""
    ref = await _comment_to_judge(session, actor, comment_id)
    assert effects.comment_answers is not None, "a route unhides comments, with its answers"
    if not await comments.unhide(session, effects.counters, effects.comment_answers, ref):
        raise Conflict("This comment is not hidden.")
    _audit(session, actor, "unhide", TargetType.COMMENT, ref.id, reason)
    return await _comment_now(session, ref.id)


async def remove_comment(
    session: AsyncSession, effects: Effects, actor: Actor, comment_id: uuid.UUID, reason: str
) -> None:
    ref = await _comment_to_judge(session, actor, comment_id)
    await _remove_comment(session, effects, actor, ref, reason)
    await _close_reports(session, actor, TargetType.COMMENT, ref.id, ReportAction.REMOVE, reason)


async def _remove_comment(
    session: AsyncSession, effects: Effects, actor: Actor, ref: CommentRef, reason: str
) -> None:
    assert effects.comment_answers is not None, "a route removes comments, with its answers"
    await comments.remove(session, effects.counters, effects.comment_answers, ref)
    _audit(session, actor, "remove", TargetType.COMMENT, ref.id, reason)


# -- playlists


async def hide_playlist(
    session: AsyncSession, actor: Actor, playlist_id: uuid.UUID, reason: str
) -> Playlist:
    """Hide the playlist from everyone but its owner."""
    playlist = await _playlist_to_judge(session, actor, playlist_id)
    if not await _hide_playlist(session, actor, playlist.id, reason):
        raise Conflict("This playlist is hidden already.")
    await _close_reports(
        session, actor, TargetType.PLAYLIST, playlist.id, ReportAction.HIDE, reason
    )
    await session.refresh(playlist)
    return playlist


async def _hide_playlist(
    session: AsyncSession, actor: Actor, playlist_id: uuid.UUID, reason: str
) -> bool:
    if not await repo.set_playlist_hidden(session, playlist_id, utcnow(), reason):
        return False
    _audit(session, actor, "hide", TargetType.PLAYLIST, playlist_id, reason)
    log.info("playlist_hidden", playlist_id=str(playlist_id), by=str(actor.id))
    return True


async def unhide_playlist(
    session: AsyncSession, actor: Actor, playlist_id: uuid.UUID, reason: str
) -> Playlist:
    playlist = await _playlist_to_judge(session, actor, playlist_id)
    if not await repo.set_playlist_hidden(session, playlist.id, None, None):
        raise Conflict("This playlist is not hidden.")
    _audit(session, actor, "unhide", TargetType.PLAYLIST, playlist.id, reason)
    log.info("playlist_unhidden", playlist_id=str(playlist.id), by=str(actor.id))
    await session.refresh(playlist)
    return playlist


async def remove_playlist(
    session: AsyncSession, queue: Queue, actor: Actor, playlist_id: uuid.UUID, reason: str
) -> None:
    playlist = await _playlist_to_judge(session, actor, playlist_id)
    await _remove_playlist(session, queue, actor, playlist, reason)
    await _close_reports(
        session, actor, TargetType.PLAYLIST, playlist_id, ReportAction.REMOVE, reason
    )


async def _remove_playlist(
    session: AsyncSession, queue: Queue, actor: Actor, playlist: Playlist, reason: str
) -> None:
    await playlists.remove(session, queue, playlist)
    _audit(session, actor, "remove", TargetType.PLAYLIST, playlist.id, reason)


# -- the audit log


async def audit_page(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    target_type: str | None,
    target_id: uuid.UUID | None,
    page: int,
    limit: int,
    cursor: str | None,
) -> Listing[AuditEntry]:
    """The audit log newest first, of one actor or one target if asked."""
    after, offset = _page_window(page, limit, cursor)
    conditions: list[ColumnElement[bool]] = repo.audit_filter(actor_id, target_type, target_id)
    total = await repo.count(session, AuditEntry, *conditions)
    rows = await repo.audit_entries(
        session, conditions, limit=limit + 1, offset=offset, after=after
    )
    return _listing(rows, limit, total, lambda e: e.id, after is not None)
