"""How a song's comments are listed: pages of top-level comments, newest first, each with
a preview of its thread nested, and pages of one thread's replies, oldest first, as the
reader may see them (see ``service`` for who may see what)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.comments import repository as repo
from bandstand.comments.liked import LikedLookup
from bandstand.comments.recent import Recent, Tally
from bandstand.comments.repository import Viewer
from bandstand.comments.service import CommentRef
from bandstand.engagement.counters import COMMENT, Counters, Totals
from bandstand.errors import NotFound
from bandstand.kit.cursors import decode_id, encode_id

# A listing nests this many replies per thread, the oldest: they are what the thread is
# about and stay put as replies come in (so a page, and what a process keeps of it, is the
# same for long), and the rest of the thread pages on from them, oldest first. A few keep
# a listing small whatever its threads hold; ``replyCount`` still counts every reply.
PREVIEW_REPLIES = 3
# Reads a listing as a listener who wrote nothing and owns nothing: no user has this id.
EVERYONE = Viewer(user_id=uuid.UUID(int=0), owns_song=False)


@dataclass(frozen=True)
class SongTally(Tally):
    """A song's tally, whether everyone may see the song (one taken down, or a banned
    owner's, has comments for its owner only: ``songs.repository.listed``), and whether
    its comments are turned off (kept with the tally: turning them off or on forgets it)."""

    listed: bool = True
    comments_off: bool = False


@dataclass
class Node:
    """A comment card (``repository.CARD_COLUMNS``) and the replies nested under it."""

    card: Row[Any]
    replies: list[Node] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Listing:
    """What a page of comments shows, as one reader sees it (or every listener: then it
    is kept a moment and shared, compared by identity)."""

    threads: list[Node]
    next_cursor: str | None
    # Every comment on it, replies included.
    ids: list[uuid.UUID]
    # Pending counter deltas by comment id (``Counters.pending``).
    pending: dict[uuid.UUID, Totals]


@dataclass(frozen=True)
class Page:
    listing: Listing
    total: int
    by_cursor: bool
    # The song's comments are turned off: no new comment or reply is taken.
    comments_off: bool
    # The caller's likes among the comments, when the listing was made for every
    # listener (whose cards then say nothing of the caller); None: the cards say it.
    liked: frozenset[uuid.UUID] | None = None


def _threads(top: Sequence[Row[Any]], replies: Sequence[Row[Any]]) -> list[Node]:
    """Nest replies under their parents, oldest first. A reply whose parent the reader
    may not see (held) is dropped with everything below it."""
    threads = [Node(card) for card in top]
    nodes = {node.card.id: node for node in threads}
    ordered = sorted(replies, key=lambda card: card.id)
    nodes.update((card.id, Node(card)) for card in ordered)
    for card in ordered:
        parent = nodes.get(card.parent_id)
        if parent is not None:
            parent.replies.append(nodes[card.id])
    return threads


def _ids(nodes: Sequence[Node]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node.card.id)
        stack.extend(node.replies)
    return found


async def _tally(sessions: async_sessionmaker[AsyncSession], song_id: uuid.UUID) -> SongTally:
    async with sessions() as session:
        song = await repo.song_seen(session, song_id)
        if song is None:
            raise NotFound("Song not found.")
        rows = await repo.tally(session, song_id)
    public, held_top, holders = 0, dict[uuid.UUID, int](), set[uuid.UUID]()
    for row in rows:
        if row.held_by is None:
            public += int(row.n) if row.top else 0
        else:
            holders.add(row.held_by)
            if row.top:
                held_top[row.held_by] = int(row.n)
    owner_id, listed, comments_off = song
    return SongTally(
        owner_id=owner_id,
        public=public,
        held_top=held_top,
        holders=frozenset(holders),
        listed=listed,
        comments_off=comments_off,
    )


async def _seen_tally(
    sessions: async_sessionmaker[AsyncSession],
    recent: Recent,
    song_id: uuid.UUID,
    viewer_id: uuid.UUID,
) -> SongTally:
    """The song's tally (kept a moment), if ``viewer_id`` may see the song; 404 if not,
    as every route that reads the song answers."""
    tally = await recent.tally(song_id, lambda: _tally(sessions, song_id))
    if not tally.listed and viewer_id != tally.owner_id:
        raise NotFound("Song not found.")
    return tally


async def _listing(
    sessions: async_sessionmaker[AsyncSession],
    counters: Counters,
    song_id: uuid.UUID,
    viewer: Viewer,
    *,
    limit: int,
    before: uuid.UUID | None,
    offset: int,
) -> Listing:
    async with sessions() as session:
        # One more than asked for says whether there is a next page.
        rows = await repo.top_level(
            session, song_id, viewer, limit=limit + 1, before=before, offset=offset
        )
        top = rows[:limit]
        # A thread whose top has no reply the reader sees has nothing nested to show.
        roots = [card.id for card in top if card.reply_count]
        replies = await repo.replies(session, roots, viewer, cap=PREVIEW_REPLIES)
    threads = _threads(top, replies)
    ids = _ids(threads)
    return Listing(
        threads=threads,
        next_cursor=encode_id(top[-1].id) if len(rows) > limit else None,
        ids=ids,
        pending=await counters.pending(COMMENT, ids) if ids else {},
    )


async def page(
    sessions: async_sessionmaker[AsyncSession],
    counters: Counters,
    liked_comments: LikedLookup,
    recent: Recent,
    song_id: uuid.UUID,
    viewer_id: uuid.UUID,
    *,
    number: int,
    limit: int,
    cursor: str | None,
) -> Page:
    """A page of a song's top-level comments, newest first, each with the oldest
    ``PREVIEW_REPLIES`` replies of its thread nested, by page number or, when given, by
    ``cursor`` (then the page number is ignored and the cost does not grow with depth).
    404 if the song does not exist or the reader may not see it.

    A listing costs a fixed number of round trips whatever it holds: the top-level cards
    (authors, likes and reply counts joined in), the replies of the threads that have
    any, and the pending like counts in one call to the counter store. Most readers see
    the same listing, so it is made once for all of them and kept a moment, and only the
    reader's own likes on it are looked up (together with other readers', ``liked.py``);
    the song's owner and anyone with a held comment on the song get one of their own.
    ``totalDocs`` comes from the song's tally, kept likewise (``recent.py``). What is kept
    is answered without a database session: one (autocommit) is opened only to make what
    is not.
    """
    before = decode_id(cursor) if cursor else None
    offset = 0 if before else (number - 1) * limit
    tally = await _seen_tally(sessions, recent, song_id, viewer_id)
    total = tally.seen_by(viewer_id)
    by_cursor = before is not None
    off = tally.comments_off
    if offset and offset >= total:
        # Past the end: nothing to fetch, and no deep OFFSET to walk.
        nothing = Listing(threads=[], next_cursor=None, ids=[], pending={})
        return Page(listing=nothing, total=total, by_cursor=False, comments_off=off)
    if tally.sees_what_everyone_sees(viewer_id):
        listing = await recent.page(
            song_id,
            (before, offset, limit),
            lambda: _listing(
                sessions, counters, song_id, EVERYONE, limit=limit, before=before, offset=offset
            ),
        )
        liked = await liked_comments(viewer_id, listing.ids)
        return Page(
            listing=listing, total=total, by_cursor=by_cursor, comments_off=off, liked=liked
        )
    viewer = Viewer(user_id=viewer_id, owns_song=tally.owner_id == viewer_id)
    listing = await _listing(
        sessions, counters, song_id, viewer, limit=limit, before=before, offset=offset
    )
    return Page(listing=listing, total=total, by_cursor=by_cursor, comments_off=off)


async def _thread(
    sessions: async_sessionmaker[AsyncSession],
    counters: Counters,
    root_id: uuid.UUID,
    viewer: Viewer,
    *,
    limit: int,
    after: uuid.UUID | None,
    hiding: bool,
) -> tuple[Listing, int]:
    async with sessions() as session:
        rows, total = await repo.thread(
            session, root_id, viewer, limit=limit + 1, after=after, hiding=hiding
        )
    replies = [Node(card) for card in rows[:limit]]
    ids = [node.card.id for node in replies]
    listing = Listing(
        threads=replies,
        next_cursor=encode_id(ids[-1]) if len(rows) > limit else None,
        ids=ids,
        pending=await counters.pending(COMMENT, ids) if ids else {},
    )
    return listing, total


async def thread_page(
    sessions: async_sessionmaker[AsyncSession],
    counters: Counters,
    liked_comments: LikedLookup,
    recent: Recent,
    root: CommentRef,
    viewer_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """A page of the replies in ``root``'s thread (a top-level comment ``viewer_id`` may
    see), at every depth, oldest first and flat: each names its parent, so a client can
    nest them. The first page starts at the thread's oldest reply, so it repeats the
    listing's preview; ``cursor`` goes on from any page's ``nextCursor``.

    Kept and shared like the listing's pages: what most readers see is made once a moment
    for all of them, and only the reader's own likes are looked up.
    """
    after = decode_id(cursor) if cursor else None
    tally = await _seen_tally(sessions, recent, root.song_id, viewer_id)
    by_cursor, off = after is not None, tally.comments_off
    # Held comments hide what is below them from all but the song's owner. Looked for
    # whatever the tally says: it may be from before the latest held comment. The page
    # shared by everyone always hides it, whoever asked for it first.
    if tally.sees_what_everyone_sees(viewer_id):
        listing, total = await recent.page(
            root.song_id,
            ("thread", root.id, after, limit),
            lambda: _thread(
                sessions, counters, root.id, EVERYONE, limit=limit, after=after, hiding=True
            ),
        )
        liked = await liked_comments(viewer_id, listing.ids)
        return Page(
            listing=listing, total=total, by_cursor=by_cursor, comments_off=off, liked=liked
        )
    viewer = Viewer(user_id=viewer_id, owns_song=tally.owner_id == viewer_id)
    hiding = viewer_id != root.song_owner_id
    listing, total = await _thread(
        sessions, counters, root.id, viewer, limit=limit, after=after, hiding=hiding
    )
    return Page(listing=listing, total=total, by_cursor=by_cursor, comments_off=off)
