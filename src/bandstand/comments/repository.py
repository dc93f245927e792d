"""Every comments query.

The statements of the busy routes (listing, liking) are built once, on first use, with
bound parameters: building one with aliases and correlated subqueries costs SQLAlchemy
milliseconds, more than PostgreSQL takes to answer it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    Boolean,
    ColumnElement,
    Integer,
    Row,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.comments.sentiment import NEGATIVE, POSITIVE
from bandstand.models import Comment, CommentLike, Mute, Song, User
from bandstand.songs.repository import listed

# A comment as answers show it: its own columns and its author's public summary, flat,
# read by Core without building ORM objects (a page holds up to thousands).
CARD_COLUMNS = (
    *Comment.__table__.c,
    User.username.label("author_username"),
    User.fullname.label("author_fullname"),
    User.avatar_key.label("author_avatar_key"),
)


@dataclass(frozen=True)
class Viewer:
    """Who reads: a song's owner sees every comment on it, anyone else the ones not held
    and their own; nobody sees a banned author's but the author."""

    user_id: uuid.UUID
    owns_song: bool

    def params(self) -> dict[str, Any]:
        return {"viewer": self.user_id, "owns_song": self.owns_song}


def _banned_author(comment: Any, but: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """The comment's author is banned (and is not ``but``)."""
    # An alias of its own each time: the statement may join ``users`` for the authors'
    # names, and a subquery over plain ``users`` would be correlated to that.
    author = aliased(User)
    where = [author.id == comment.user_id, author.banned_at.is_not(None)]
    if but is not None:
        where.append(author.id != but)
    return exists().where(*where)


def _visible(comment: Any) -> ColumnElement[bool]:
    """The one rule for who sees a comment, the ``viewer`` parameter (``owns_song``: the
    viewer owns the song): its author, always; anyone else, unless its author is banned,
    if it is not held or they own the song. (Written so that the author's ban is a NOT
    EXISTS beside the rest, which PostgreSQL reads as a join, not a subquery per row.)"""
    viewer = bindparam("viewer", type_=Uuid)
    return and_(
        not_(_banned_author(comment, but=viewer)),
        or_(
            bindparam("owns_song", type_=Boolean),
            comment.is_held == false(),
            comment.user_id == viewer,
        ),
    )


def counted(comment: Any = Comment) -> ColumnElement[bool]:
    """What ``commentCount`` counts, wherever it is counted: comments and replies every
    listener sees (not held, and not by a banned author)."""
    return and_(comment.is_held == false(), not_(_banned_author(comment)))


def _reply_count() -> ColumnElement[int]:
    """``replyCount``: every reply beneath the comment, at every depth, that the viewer
    may see and reach: what is below a comment they may not see goes uncounted with it,
    as the thread's page hides it, so a top-level comment's count is its thread's
    ``totalDocs``. A reply's is walked down ``parent_id`` (indexed) from it; a top-level
    comment's, the busiest, is counted as its thread's seen replies (``root_id``,
    indexed) less those cut off below one the viewer does not see, walked down from
    each such comment (``_in_thread`` hides them alike). Most threads hide nothing, so
    that walk starts from nothing, where walking a whole long thread tempts the planner
    into hashing every comment of every song (over 100 ms a page)."""
    return case(
        (Comment.root_id.is_(None), _thread_seen() - _count(_walk(_cut_off()))),
        else_=_count(_walk(_children())),
    )


def _children() -> Select[Any]:
    child = aliased(Comment)
    return select(child.id).where(child.parent_id == Comment.id, _visible(child))


def _cut_off() -> Select[Any]:
    """The seen replies, in the comment's thread, of a comment the viewer does not see."""
    hidden, child = aliased(Comment), aliased(Comment)
    return (
        select(child.id)
        .join(hidden, child.parent_id == hidden.id)
        .where(hidden.root_id == Comment.id, not_(_visible(hidden)), _visible(child))
    )


def _walk(start: Select[Any]) -> CTE:
    """``start`` and the seen replies beneath it, at every depth."""
    # Nested: the WITH goes inside the subquery, where it can see the outer row.
    below = start.correlate(Comment).cte("below", recursive=True, nesting=True)
    deeper = aliased(Comment)
    return below.union_all(
        select(deeper.id).where(deeper.parent_id == below.c.id, _visible(deeper))
    )


def _count(rows: CTE) -> ColumnElement[int]:
    return select(func.count()).select_from(rows).scalar_subquery()


def _thread_seen() -> ColumnElement[int]:
    reply = aliased(Comment)
    return (
        select(func.count())
        .where(reply.root_id == Comment.id, _visible(reply))
        .correlate(Comment)
        .scalar_subquery()
    )


def _cards() -> Select[Any]:
    """Cards with whether the viewer liked each and how many replies they see beneath it:
    both looked up per row inside the one query."""
    replies = _reply_count()
    return (
        select(
            *CARD_COLUMNS,
            CommentLike.user_id.is_not(None).label("liked"),
            replies.label("reply_count"),
        )
        .join(User, User.id == Comment.user_id)
        .outerjoin(
            CommentLike,
            and_(
                CommentLike.comment_id == Comment.id,
                CommentLike.user_id == bindparam("viewer", type_=Uuid),
            ),
        )
    )


@cache
def _top_level(by: str) -> Select[Any]:
    """A song's top-level cards, newest first; ``by``: "top", "cursor" or "offset"."""
    song = bindparam("song", type_=Uuid)
    stmt = (
        _cards()
        .where(Comment.song_id == song, Comment.root_id.is_(None), _visible(Comment))
        # root_id is NULL on every row, so ordering by it changes nothing, except that
        # only (song_id, root_id, id) can then give the order: without it PostgreSQL may
        # walk the primary key backwards through other songs' comments on a big song.
        .order_by(Comment.root_id.desc(), Comment.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if by == "cursor":
        return stmt.where(Comment.id < bindparam("before", type_=Uuid))
    if by == "offset":
        # Skip on a narrow index walk, then read one page of cards from there: an OFFSET
        # on the cards themselves would join and count replies for every skipped row.
        other = aliased(Comment)
        nth = (
            select(other.id)
            .where(other.song_id == song, other.root_id.is_(None), _visible(other))
            .order_by(other.root_id.desc(), other.id.desc())
            .offset(bindparam("offset", type_=Integer))
            .limit(1)
            .scalar_subquery()
        )
        return stmt.where(Comment.id <= nth)
    return stmt


@cache
def _replies(dialect: str) -> Select[Any]:
    """Cards of the oldest ``cap`` replies the viewer sees in each thread of ``roots``."""
    thread = aliased(Comment)
    if dialect == "postgresql":
        # One bounded index range per thread (root_id, id), however long the thread.
        roots = (
            func.unnest(bindparam("roots", type_=postgresql.ARRAY(Uuid())))
            .table_valued("id")
            .render_derived(name="roots")
        )
        capped = (
            select(thread.id)
            .where(thread.root_id == roots.c.id, _visible(thread))
            .order_by(thread.id)
            .limit(bindparam("cap", type_=Integer))
            .lateral("capped")
        )
        ids = select(capped.c.id).select_from(roots).join(capped, true())
    else:
        # SQLite has no LATERAL: number each thread's replies instead.
        ranked = (
            select(
                thread.id,
                func.row_number().over(partition_by=thread.root_id, order_by=thread.id).label("n"),
            )
            .where(thread.root_id.in_(bindparam("roots", expanding=True)), _visible(thread))
            .subquery()
        )
        ids = select(ranked.c.id).where(ranked.c.n <= bindparam("cap", type_=Integer))
    return _cards().where(Comment.id.in_(ids))


def _in_thread(hiding: bool) -> list[ColumnElement[bool]]:
    """Replies of the ``root`` thread the viewer may see. ``hiding``: everything below a
    comment the viewer may not see goes too, as hidden as it (the song's owner, who sees
    every held comment, need look only for banned authors')."""
    where = [Comment.root_id == bindparam("root", type_=Uuid), _visible(Comment)]
    unseen = aliased(Comment)
    viewer = bindparam("viewer", type_=Uuid)
    hidden_here = _banned_author(unseen, but=viewer)
    if hiding:
        hidden_here = or_(and_(unseen.is_held == true(), unseen.user_id != viewer), hidden_here)
    hidden = (
        select(unseen.id)
        .where(unseen.root_id == bindparam("root", type_=Uuid), hidden_here)
        .cte("hidden", recursive=True)
    )
    below = aliased(Comment)
    hidden = hidden.union(select(below.id).where(below.parent_id == hidden.c.id))
    where.append(Comment.id.not_in(select(hidden.c.id)))
    return where


@cache
def _thread(after: bool, hiding: bool) -> Select[Any]:
    """Cards of a thread's replies, oldest first, from just after ``after`` if given."""
    stmt = _cards().where(*_in_thread(hiding))
    if after:
        stmt = stmt.where(Comment.id > bindparam("after", type_=Uuid))
    return stmt.order_by(Comment.id).limit(bindparam("limit", type_=Integer))


@cache
def _thread_size(hiding: bool) -> Select[Any]:
    return select(func.count()).select_from(Comment).where(*_in_thread(hiding))


@cache
def _card() -> Select[Any]:
    return _cards().where(Comment.id == bindparam("comment", type_=Uuid))


@cache
def _access() -> Select[Any]:
    """The comment with its song's owner, how deep it nests, and how many comments of its
    chain (itself and its ancestors, walked up at most ``max_depth`` steps) are held and
    not the viewer's own; nothing if the viewer may not see its song
    (``songs.repository.listed``) or a banned author's comment, not theirs, is in its
    chain (hidden from everyone, the song's owner included)."""
    chain = (
        select(
            Comment.id,
            Comment.parent_id,
            Comment.is_held,
            Comment.user_id,
            literal(0, Integer).label("depth"),
        )
        .where(Comment.id == bindparam("comment", type_=Uuid))
        .cte("chain", recursive=True)
    )
    up = aliased(Comment)
    chain = chain.union_all(
        select(up.id, up.parent_id, up.is_held, up.user_id, chain.c.depth + 1).where(
            up.id == chain.c.parent_id, chain.c.depth < bindparam("max_depth", type_=Integer)
        )
    )
    hidden = (
        select(func.count())
        .select_from(chain)
        .where(chain.c.is_held == true(), chain.c.user_id != bindparam("viewer", type_=Uuid))
        .scalar_subquery()
    )
    depth = select(func.max(chain.c.depth)).scalar_subquery()
    viewer = bindparam("viewer", type_=Uuid)
    banned = select(chain.c.id).where(_banned_author(chain.c, but=viewer)).exists()
    return (
        select(
            Comment.id,
            Comment.song_id,
            Comment.user_id,
            Comment.parent_id,
            Comment.root_id,
            Comment.is_held,
            Comment.like_count,
            Song.owner_id.label("song_owner_id"),
            hidden.label("hidden"),
            depth.label("depth"),
        )
        .join(Song, Song.id == Comment.song_id)
        .where(Comment.id == bindparam("comment", type_=Uuid), listed(viewer), not_(banned))
    )


@cache
def _like(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING, in the dialect's own words."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(CommentLike)
        .values(
            comment_id=bindparam("comment", type_=Uuid),
            user_id=bindparam("user", type_=Uuid),
            created_at=bindparam("now"),
        )
        .on_conflict_do_nothing()
        .returning(CommentLike.comment_id)
    )


@cache
def _unlike() -> Any:
    return (
        delete(CommentLike)
        .where(
            CommentLike.comment_id == bindparam("comment", type_=Uuid),
            CommentLike.user_id == bindparam("user", type_=Uuid),
        )
        .returning(CommentLike.comment_id)
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def song_seen(
    session: AsyncSession, song_id: uuid.UUID
) -> tuple[uuid.UUID, bool, bool] | None:
    """The song's owner, whether everyone may see the song (else only its owner:
    ``songs.repository.listed``) and whether its comments are turned off; None if there
    is no such song."""
    seen = exists().where(Song.id == song_id, listed(None))
    stmt = select(Song.owner_id, seen, Song.comments_off).where(Song.id == song_id)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], bool(row[1]), bool(row[2]))


async def access(
    session: AsyncSession, comment_id: uuid.UUID, viewer_id: uuid.UUID, max_depth: int
) -> Row[Any] | None:
    params = {"comment": comment_id, "viewer": viewer_id, "max_depth": max_depth}
    row: Row[Any] | None = (await session.execute(_access(), params)).one_or_none()
    return row


async def top_level(
    session: AsyncSession,
    song_id: uuid.UUID,
    viewer: Viewer,
    *,
    limit: int,
    before: uuid.UUID | None = None,
    offset: int = 0,
) -> Sequence[Row[Any]]:
    """Top-level cards of a song that ``viewer`` may see, newest first. Ids are
    time-ordered, so ``before`` is a keyset cursor whose cost does not grow with depth;
    ``offset`` serves page numbers."""
    params: dict[str, Any] = {"song": song_id, "limit": limit, **viewer.params()}
    if before is not None:
        stmt, params["before"] = _top_level("cursor"), before
    elif offset:
        stmt, params["offset"] = _top_level("offset"), offset
    else:
        stmt = _top_level("top")
    rows: Sequence[Row[Any]] = (await session.execute(stmt, params)).all()
    return rows


async def replies(
    session: AsyncSession, roots: Sequence[uuid.UUID], viewer: Viewer, *, cap: int
) -> Sequence[Row[Any]]:
    """Cards of the oldest ``cap`` replies ``viewer`` may see in each of these threads,
    in no particular order."""
    if not roots:
        return []
    params = {"roots": list(roots), "cap": cap, **viewer.params()}
    rows: Sequence[Row[Any]] = (await session.execute(_replies(_dialect(session)), params)).all()
    return rows


async def thread(
    session: AsyncSession,
    root_id: uuid.UUID,
    viewer: Viewer,
    *,
    limit: int,
    after: uuid.UUID | None,
    hiding: bool,
) -> tuple[Sequence[Row[Any]], int]:
    """Cards of the replies ``viewer`` may see in the thread of ``root_id``, oldest first,
    from just after ``after`` (a keyset cursor: ids are time-ordered), and how many there
    are in all. ``hiding``: look for held comments hiding what is below them (for all
    but the song's owner); banned authors' comments hide what is below them from
    everyone."""
    counted = {"root": root_id, **viewer.params()}
    params: dict[str, Any] = {**counted, "limit": limit}
    if after is not None:
        params["after"] = after
    rows: Sequence[Row[Any]] = (
        await session.execute(_thread(after is not None, hiding), params)
    ).all()
    size = (await session.execute(_thread_size(hiding), counted)).scalar_one()
    return rows, int(size)


async def card(session: AsyncSession, comment_id: uuid.UUID, viewer: Viewer) -> Row[Any] | None:
    params = {"comment": comment_id, **viewer.params()}
    row: Row[Any] | None = (await session.execute(_card(), params)).one_or_none()
    return row


@cache
def _held() -> Select[Any]:
    """A song's held cards, newest first, as its owner (``viewer``) sees them."""
    return (
        _cards()
        .where(
            Comment.song_id == bindparam("song", type_=Uuid),
            Comment.is_held == true(),
            _visible(Comment),
        )
        .order_by(Comment.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


async def held(
    session: AsyncSession, song_id: uuid.UUID, viewer: Viewer, *, limit: int
) -> Sequence[Row[Any]]:
    """Cards of the song's held comments and replies ``viewer`` may see, newest first."""
    params = {"song": song_id, "limit": limit, **viewer.params()}
    rows: Sequence[Row[Any]] = (await session.execute(_held(), params)).all()
    return rows


async def tally(session: AsyncSession, song_id: uuid.UUID) -> Sequence[Row[Any]]:
    """A song's comments counted by who may see them and whether they are top-level:
    rows of (``held_by``: None for those everyone sees, else the author of held ones,
    ``top``, ``n``). Banned authors' comments are left out, as nobody else sees them
    (nor can their authors, whose logins a ban ends)."""
    held_by = case((Comment.is_held == true(), Comment.user_id), else_=None)
    top = Comment.root_id.is_(None)
    stmt = (
        select(held_by.label("held_by"), top.label("top"), func.count().label("n"))
        .where(Comment.song_id == song_id, not_(_banned_author(Comment)))
        .group_by(held_by, top)
    )
    rows: Sequence[Row[Any]] = (await session.execute(stmt)).all()
    return rows


@cache
def _likes_among(dialect: str) -> Select[uuid.UUID, uuid.UUID]:
    stmt = select(CommentLike.user_id, CommentLike.comment_id)
    if dialect == "postgresql":
        # One statement (one prepared plan) whatever the number of users and ids.
        users = bindparam("users", type_=postgresql.ARRAY(Uuid()))
        ids = bindparam("ids", type_=postgresql.ARRAY(Uuid()))
        return stmt.where(
            CommentLike.comment_id == func.any(ids), CommentLike.user_id == func.any(users)
        )
    return stmt.where(
        CommentLike.comment_id.in_(bindparam("ids", expanding=True)),
        CommentLike.user_id.in_(bindparam("users", expanding=True)),
    )


async def likes_among(
    session: AsyncSession, users: Collection[uuid.UUID], ids: Collection[uuid.UUID]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which of these users like which of these comments, as (user, comment) pairs
    (primary-key look-ups)."""
    if not users or not ids:
        return set()
    params = {"users": list(users), "ids": list(ids)}
    rows = await session.execute(_likes_among(_dialect(session)), params)
    return {(user, comment) for user, comment in rows}


async def like(
    session: AsyncSession, comment_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> bool:
    """Record the like; True only if this call added it (of simultaneous likes by one
    user, exactly one adds it)."""
    params = {"comment": comment_id, "user": user_id, "now": now}
    return (await session.execute(_like(_dialect(session)), params)).first() is not None


async def unlike(session: AsyncSession, comment_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Remove the like; True only if this call removed it."""
    params = {"comment": comment_id, "user": user_id}
    return (await session.execute(_unlike(), params)).first() is not None


async def lock_song(session: AsyncSession, song_id: uuid.UUID) -> None:
    """Keep every other writer off the song's comments until the transaction ends, so a
    tree counted is the tree deleted. On PostgreSQL the song row FOR UPDATE: adding a
    comment checks its song's key (FOR KEY SHARE), which that excludes. On SQLite, whose
    reads take no lock, a write that changes nothing: it makes this transaction the one
    writer now rather than at its first real change."""
    if _dialect(session) == "postgresql":
        await session.execute(select(Song.id).where(Song.id == song_id).with_for_update())
        return
    # updated_at set to itself: named, its onupdate default does not stamp the song.
    touch = update(Song).where(Song.id == song_id).values(updated_at=Song.updated_at)
    await session.execute(touch.execution_options(synchronize_session=False))


async def tree_held(session: AsyncSession, comment_id: uuid.UUID) -> list[bool]:
    """Whether each comment of the tree below (and including) ``comment_id`` is held."""
    tree = (
        select(Comment.id, Comment.is_held)
        .where(Comment.id == comment_id)
        .cte("tree", recursive=True)
    )
    down = aliased(Comment)
    tree = tree.union_all(select(down.id, down.is_held).where(down.parent_id == tree.c.id))
    return [bool(held) for held in (await session.execute(select(tree.c.is_held))).scalars()]


async def delete_comment(session: AsyncSession, comment_id: uuid.UUID) -> bool:
    """Delete the comment; its replies and every like of them go by cascade (``parent_id``,
    ``root_id`` and ``comment_likes`` all cascade). False if it was already gone."""
    stmt = (
        delete(Comment)
        .where(Comment.id == comment_id)
        .returning(Comment.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def release(session: AsyncSession, comment_id: uuid.UUID, now: datetime) -> bool:
    """Un-hold a held comment; True only if this call changed it."""
    stmt = (
        update(Comment)
        .where(Comment.id == comment_id, Comment.is_held == true())
        .values(is_held=False, updated_at=now)
        .returning(Comment.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def held_state(
    session: AsyncSession, comment_id: uuid.UUID
) -> Row[bool, datetime | None] | None:
    """Whether the comment is held, and when a moderator hid it (None: they did not);
    nothing if there is no such comment."""
    stmt = select(Comment.is_held, Comment.hidden_at).where(Comment.id == comment_id)
    return (await session.execute(stmt)).one_or_none()


async def set_hidden(
    session: AsyncSession, comment_id: uuid.UUID, *, reason: str | None, now: datetime
) -> None:
    """A moderator hides the comment for ``reason`` (held, with ``hidden_at``) or, with
    None, brings it back (neither held nor hidden)."""
    hidden = reason is not None
    stmt = (
        update(Comment)
        .where(Comment.id == comment_id)
        .values(
            is_held=hidden, hidden_at=now if hidden else None, hidden_reason=reason, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def sentiment_counts(session: AsyncSession, song_id: uuid.UUID) -> tuple[int, int, int]:
    """A song's comments and replies as ``commentCount`` counts them (``counted``): all
    of them, the positive ones, the negative ones."""
    score = Comment.sentiment_score
    stmt = select(
        func.count().label("total"),
        func.count().filter(score >= POSITIVE).label("positive"),
        func.count().filter(score <= NEGATIVE).label("negative"),
    ).where(Comment.song_id == song_id, counted())
    total, positive, negative = (await session.execute(stmt)).one()
    return int(total), int(positive), int(negative)


async def counted_by_song(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """The user's comments not held, by song: what ``commentCount`` counts of theirs
    unless they are banned."""
    stmt = (
        select(Comment.song_id, func.count())
        .where(Comment.user_id == user_id, Comment.is_held == false())
        .group_by(Comment.song_id)
    )
    return {song_id: int(n) for song_id, n in (await session.execute(stmt)).all()}


async def commented_songs(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The songs the user commented on."""
    stmt = select(Comment.song_id).where(Comment.user_id == user_id).distinct()
    return list((await session.scalars(stmt)).all())


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def is_muted(session: AsyncSession, owner_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the owner muted the listener on their songs."""
    stmt = select(Mute.user_id).where(Mute.owner_id == owner_id, Mute.user_id == user_id)
    return (await session.execute(stmt)).first() is not None


async def mute(
    session: AsyncSession, owner_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> datetime:
    """Record the mute (if it is not there already); when the listener was muted."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    await session.execute(
        insert(Mute)
        .values(owner_id=owner_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing()
    )
    stmt = select(Mute.created_at).where(Mute.owner_id == owner_id, Mute.user_id == user_id)
    muted_at: datetime = (await session.execute(stmt)).scalar_one()
    return muted_at


async def unmute(session: AsyncSession, owner_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(delete(Mute).where(Mute.owner_id == owner_id, Mute.user_id == user_id))


async def mutes(
    session: AsyncSession, owner_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[tuple[User, datetime]], int]:
    """The listeners the owner muted with when, most recently muted first, and how many
    in all."""
    stmt = (
        select(User, Mute.created_at)
        .join(Mute, Mute.user_id == User.id)
        .where(Mute.owner_id == owner_id)
        .order_by(Mute.created_at.desc(), Mute.user_id)
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    count = select(func.count()).select_from(Mute).where(Mute.owner_id == owner_id)
    total = (await session.execute(count)).scalar_one()
    return [(found, at) for found, at in rows], int(total)
