"""Comment rules: who sees what, how threads nest, and how counters follow.

Visibility: a held comment (flagged, waiting for approval) is seen only by its author and
the song's owner, and so is everything below it in its thread. To anyone else it does not
exist: not listed, not counted in ``replyCount`` or ``totalDocs``, and 404 to like, reply
to, delete or moderate.

A comment is held when the abuse filter flags it (and ``hold_flagged_comments`` is on),
when the song's owner muted its author, or when a moderator hides it (``hidden_at``: then
only a moderator can release it, not the song's owner). A song's owner can turn its
comments off: no comment or reply is taken until they turn them on again.

Counters: a song's ``commentCount`` counts its comments and replies that are not held; a
comment's ``likeCount`` its rows in ``comment_likes``. Neither is written here: deltas go
to the counter store (``Counters``) once the change is committed, and reads add what is
still pending there. Each change marks its counter before it commits, so a delta lost
after the commit is recounted from the rows by the flush.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.comments import repository as repo
from bandstand.comments import sentiment
from bandstand.comments.recent import Recent
from bandstand.comments.repository import Viewer
from bandstand.comments.schemas import CommentCreate
from bandstand.config import Settings
from bandstand.db import after_commit
from bandstand.engagement.counters import COMMENT, COMMENTS, LIKES, SONG, Counters, Delta
from bandstand.errors import BadRequest, Forbidden, NotFound
from bandstand.kit.ids import new_id
from bandstand.kit.time import utcnow
from bandstand.models import Comment, Song, User
from bandstand.moderation.flags import flag_comment

log = structlog.get_logger(__name__)

# A thread nests at most this deep: the bound keeps every walk up a thread (each look-up
# of a comment checks its ancestors for held ones) short.
MAX_DEPTH = 100


@dataclass(frozen=True)
class CommentRef:
    """A comment the caller may see, with what the rules about it need."""

    id: uuid.UUID
    song_id: uuid.UUID
    author_id: uuid.UUID
    song_owner_id: uuid.UUID
    root_id: uuid.UUID | None
    is_held: bool
    like_count: int
    # Replies between it and the top of its thread (0: a top-level comment).
    depth: int


@dataclass(frozen=True)
class Shown:
    """One comment card, without its replies, and its likes not yet flushed."""

    card: Row[Any]
    pending_likes: int


@dataclass(frozen=True)
class Muted:
    """A listener muted on an artist's songs (``muted_at`` None: not, or no longer)."""

    user: User
    muted_at: datetime | None


@dataclass(frozen=True)
class Likes:
    comment_id: uuid.UUID
    like_count: int
    liked: bool


def _field_error(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


async def visible_comment(
    session: AsyncSession, comment_id: uuid.UUID, viewer_id: uuid.UUID
) -> CommentRef:
    """The comment, if it exists and ``viewer_id`` may see it (it and every ancestor not
    held, or held but theirs, or on their song); 404 otherwise."""
    row = await repo.access(session, comment_id, viewer_id, MAX_DEPTH)
    if row is None or (row.hidden and row.song_owner_id != viewer_id):
        raise NotFound("Comment not found.")
    return CommentRef(
        id=row.id,
        song_id=row.song_id,
        author_id=row.user_id,
        song_owner_id=row.song_owner_id,
        root_id=row.root_id,
        is_held=row.is_held,
        like_count=row.like_count,
        depth=row.depth,
    )


def _today_delta(song_id: uuid.UUID, amount: int) -> Delta:
    return Delta(SONG, song_id, COMMENTS, amount, day=utcnow().date())


async def create(
    session: AsyncSession,
    settings: Settings,
    counters: Counters,
    recent: Recent,
    song: Song,
    author_id: uuid.UUID,
    data: CommentCreate,
    parent: CommentRef | None = None,
) -> Comment:
    """Add a comment, or a reply to ``parent`` (a comment the author can see, on the same
    song); refused while the song's comments are off. It is scored, and if abusive
    flagged and queued for the moderators; it is held for the song owner's approval if
    flagged while ``hold_flagged_comments`` is on, or if the song's owner muted its
    author. Only a comment not held moves the song's ``commentCount``."""
    if song.comments_off:
        raise Forbidden("Comments are turned off for this song.")
    if data.timestamp is not None and data.timestamp > song.duration:
        raise BadRequest(
            "Invalid input.",
            errors=[_field_error("timestamp", f"At most the song's duration, {song.duration} s.")],
        )
    if parent is not None:
        if parent.song_id != song.id:
            raise BadRequest(
                "Invalid input.",
                errors=[_field_error("parentId", "That comment belongs to another song.")],
            )
        if parent.depth + 1 > MAX_DEPTH:
            raise BadRequest(
                "Invalid input.",
                errors=[
                    _field_error(
                        "parentId", f"Replies nest at most {MAX_DEPTH} deep; reply higher up."
                    )
                ],
            )
    assessment = await sentiment.assess(
        data.content,
        flag_below=settings.comment_flag_below,
        word_list_path=settings.comment_word_list,
    )
    muted = author_id != song.owner_id and await repo.is_muted(session, song.owner_id, author_id)
    held = muted or (assessment.flagged and settings.hold_flagged_comments)
    comment = Comment(
        id=new_id(),
        song_id=song.id,
        user_id=author_id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        content=data.content,
        timestamp_s=data.timestamp,
        sentiment_score=assessment.score,
        is_flagged=assessment.flagged,
        is_held=held,
        like_count=0,
    )
    if not held:
        # Before the commit: a delta lost after it is then recounted (engagement/counters/flush.py).
        await counters.mark(SONG, [song.id])
    session.add(comment)
    await session.flush()
    if assessment.why is not None:
        # In this transaction: queued if and only if the comment is there.
        flag_comment(session, comment, assessment.why)
    if not held:
        after_commit(session, lambda: counters.add([_today_delta(song.id, 1)]))
    after_commit(session, lambda: recent.forget(song.id))
    log.info(
        "comment_added",
        comment_id=str(comment.id),
        song_id=str(song.id),
        flagged=assessment.flagged,
        muted=muted,
        held=held,
    )
    return comment


async def _likes(counters: Counters, comment: CommentRef, liked: bool) -> Likes:
    pending = await counters.pending_or_none(COMMENT, [comment.id])
    count = comment.like_count + pending.get(comment.id, {}).get(LIKES, 0)
    return Likes(comment_id=comment.id, like_count=count, liked=liked)


async def like(
    session: AsyncSession,
    counters: Counters,
    recent: Recent,
    comment: CommentRef,
    user_id: uuid.UUID,
) -> Likes:
    """Like once, however often asked. ``session`` runs each statement on its own
    (autocommit): the row is in the database before the delta is recorded, and only the
    request that really added the row moves the count."""
    await counters.mark(COMMENT, [comment.id])
    try:
        added = await repo.like(session, comment.id, user_id, utcnow())
    except IntegrityError as exc:
        # The comment was deleted between the look-up and the insert.
        raise NotFound("Comment not found.") from exc
    if added:
        await counters.add_committed([Delta(COMMENT, comment.id, LIKES, 1)])
        await recent.forget(comment.song_id)
    else:
        await _settle(counters, comment.id)
    return await _likes(counters, comment, liked=True)


async def unlike(
    session: AsyncSession,
    counters: Counters,
    recent: Recent,
    comment: CommentRef,
    user_id: uuid.UUID,
) -> Likes:
    """Unlike; a no-op if not liked. As ``like``: only a removed row moves the count."""
    await counters.mark(COMMENT, [comment.id])
    if await repo.unlike(session, comment.id, user_id):
        await counters.add_committed([Delta(COMMENT, comment.id, LIKES, -1)])
        await recent.forget(comment.song_id)
    else:
        await _settle(counters, comment.id)
    return await _likes(counters, comment, liked=False)


async def _settle(counters: Counters, comment_id: uuid.UUID) -> None:
    """A like or unlike that changed nothing owes no delta: its mark goes (a failure is
    only a recount later)."""
    try:
        await counters.settle(COMMENT, [comment_id])
    except Exception:
        log.warning("counter_mark_unsettled", exc_info=True)


async def remove(
    session: AsyncSession, counters: Counters, recent: Recent, comment: CommentRef
) -> int:
    """Delete the comment with its whole reply tree and their likes; how many comments
    went. ``commentCount`` drops by those of them that were not held: counted with the
    song's comments locked, and only by the transaction that really deleted the tree, so
    a reply or approval racing the delete is not missed and two deletes never subtract
    twice."""
    await counters.mark(SONG, [comment.song_id])
    await repo.lock_song(session, comment.song_id)
    held = await repo.tree_held(session, comment.id)
    if not held or not await repo.delete_comment(session, comment.id):
        raise NotFound("Comment not found.")
    shown = held.count(False)
    if shown:
        after_commit(session, lambda: counters.add([_today_delta(comment.song_id, -shown)]))
    else:
        # Nothing shown went: no delta, and the mark goes without one.
        after_commit(session, lambda: counters.settle(SONG, [comment.song_id]))
    after_commit(session, lambda: recent.forget(comment.song_id))
    log.info("comment_deleted", comment_id=str(comment.id), comments=len(held))
    return len(held)


async def approve(
    session: AsyncSession, counters: Counters, recent: Recent, comment: CommentRef
) -> Shown:
    """Show a held comment to everyone (a no-op if it is not held); the comment as its
    song's owner sees it. A comment a moderator hid is theirs to bring back: 403."""
    # Locked as a removal locks it: a tree counted for removal stays as counted, and a
    # moderator's hold or unhide waits for the approval (or it for them).
    await repo.lock_song(session, comment.song_id)
    state = await repo.held_state(session, comment.id)
    if state is None:
        raise NotFound("Comment not found.")
    if state.hidden_at is not None:
        raise Forbidden("A moderator hid this comment; only a moderator can bring it back.")
    await counters.mark(SONG, [comment.song_id])
    if await repo.release(session, comment.id, utcnow()):
        after_commit(session, lambda: counters.add([_today_delta(comment.song_id, 1)]))
        after_commit(session, lambda: recent.forget(comment.song_id))
        log.info("comment_approved", comment_id=str(comment.id))
    else:
        after_commit(session, lambda: counters.settle(SONG, [comment.song_id]))
    card = await repo.card(session, comment.id, Viewer(comment.song_owner_id, owns_song=True))
    if card is None:
        raise NotFound("Comment not found.")
    pending = await counters.pending(COMMENT, [comment.id])
    return Shown(card=card, pending_likes=pending.get(comment.id, {}).get(LIKES, 0))


async def held(session: AsyncSession, song: Song, limit: int) -> Sequence[Row[Any]]:
    """The song's held comments and replies (flagged, by a muted listener, or hidden by a
    moderator), newest first, as cards its owner sees: what waits for their approval,
    however old, where a listing shows only the newest threads."""
    return await repo.held(session, song.id, Viewer(song.owner_id, owns_song=True), limit=limit)


async def author_banned(
    session: AsyncSession,
    counters: Counters,
    recent: Recent | None,
    user_id: uuid.UUID,
    *,
    banned: bool,
) -> None:
    """The user's ban takes their comments out of their songs' counts; its end puts them
    back (``repository.counted``). Kept answers that showed or left them out are dropped
    (those of this process: ``recent``, if it keeps any)."""
    counts = await repo.counted_by_song(session, user_id)
    if counts:
        await counters.mark(SONG, list(counts))
        sign = -1 if banned else 1
        deltas = [_today_delta(song_id, sign * n) for song_id, n in counts.items()]
        after_commit(session, functools.partial(counters.add, deltas))
    if recent is not None:
        for song_id in await repo.commented_songs(session, user_id):
            after_commit(session, functools.partial(recent.forget, song_id))


async def hold(
    session: AsyncSession, counters: Counters, recent: Recent, comment: CommentRef, reason: str
) -> bool:
    """A moderator hides the comment for ``reason``: it is held, as a flagged one is (seen
    only by its author and the song's owner, who are told why, not counted), and
    ``hidden_at`` keeps the song's owner from approving it. False if it was hidden
    already."""
    await repo.lock_song(session, comment.song_id)
    state = await repo.held_state(session, comment.id)
    if state is None:
        raise NotFound("Comment not found.")
    if state.hidden_at is not None:
        return False
    await counters.mark(SONG, [comment.song_id])
    await repo.set_hidden(session, comment.id, reason=reason, now=utcnow())
    if state.is_held:
        # Held already (flagged, or its author muted): it was not counted.
        after_commit(session, lambda: counters.settle(SONG, [comment.song_id]))
    else:
        after_commit(session, lambda: counters.add([_today_delta(comment.song_id, -1)]))
    after_commit(session, lambda: recent.forget(comment.song_id))
    log.info("comment_hidden", comment_id=str(comment.id))
    return True


async def unhide(
    session: AsyncSession, counters: Counters, recent: Recent, comment: CommentRef
) -> bool:
    """A moderator brings a hidden comment back: no longer hidden nor held, so shown to
    everyone and counted (their review stands for the song owner's approval). False if
    it was not hidden."""
    await repo.lock_song(session, comment.song_id)
    state = await repo.held_state(session, comment.id)
    if state is None:
        raise NotFound("Comment not found.")
    if state.hidden_at is None:
        return False
    await counters.mark(SONG, [comment.song_id])
    await repo.set_hidden(session, comment.id, reason=None, now=utcnow())
    if state.is_held:
        after_commit(session, lambda: counters.add([_today_delta(comment.song_id, 1)]))
    else:
        after_commit(session, lambda: counters.settle(SONG, [comment.song_id]))
    after_commit(session, lambda: recent.forget(comment.song_id))
    log.info("comment_unhidden", comment_id=str(comment.id))
    return True


async def set_comments_off(session: AsyncSession, recent: Recent, song: Song, off: bool) -> None:
    """Turn the song's comments off (no new comment or reply is taken; those there stay)
    or on again."""
    if song.comments_off != off:
        song.comments_off = off
        await session.flush()
        after_commit(session, lambda: recent.forget(song.id))
    log.info("comments_switched", song_id=str(song.id), off=off)


async def _user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repo.user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def mute(session: AsyncSession, owner_id: uuid.UUID, user_id: uuid.UUID) -> Muted:
    """Mute a listener on the owner's songs: their comments and replies on any of them,
    from now on, are held for the owner's approval. Muting twice is muting once."""
    if user_id == owner_id:
        raise BadRequest(
            "Invalid input.", errors=[_field_error("userId", "You cannot mute yourself.")]
        )
    user = await _user(session, user_id)
    muted_at = await repo.mute(session, owner_id, user_id, utcnow())
    log.info("listener_muted", owner_id=str(owner_id), user_id=str(user_id))
    return Muted(user=user, muted_at=muted_at)


async def unmute(session: AsyncSession, owner_id: uuid.UUID, user_id: uuid.UUID) -> Muted:
    """Unmute a listener (a no-op if not muted): their new comments are taken as anyone's.
    What was held while they were muted stays held until approved."""
    user = await _user(session, user_id)
    await repo.unmute(session, owner_id, user_id)
    log.info("listener_unmuted", owner_id=str(owner_id), user_id=str(user_id))
    return Muted(user=user, muted_at=None)


async def mutes(
    session: AsyncSession, owner_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[Muted], int]:
    """The listeners the owner muted, most recently muted first, and how many in all."""
    rows, total = await repo.mutes(session, owner_id, offset=offset, limit=limit)
    return [Muted(user=user, muted_at=at) for user, at in rows], total


async def sentiment_breakdown(session: AsyncSession, song_id: uuid.UUID) -> dict[str, int]:
    """How a song's comments and replies not held read (those ``commentCount`` counts):
    ``Total``, ``Positive`` (score ≥ 0.05), ``Negative`` (≤ -0.05) and ``Neutral``."""
    total, positive, negative = await repo.sentiment_counts(session, song_id)
    return {
        "Total": total,
        "Positive": positive,
        "Negative": negative,
        "Neutral": total - positive - negative,
    }
