"""The one reader of songs: every route that answers a song (the catalogue, one song, an
edit, search, liked songs, history, playlists, profiles) turns what it read into
``SongCard``s here, and ``songs.views`` renders only ``SongCard``s, so no route can show a
song without passing through ``read_cards``.

Why one reader: a song's counters live in two places, the row (``song_stats``, written by
the counter flush) and the deltas still pending in the counter store
(``engagement/counters/``). A route that reads only the row shows a like a minute late
while its neighbour shows it at once. Applying the pending deltas here, once, makes every
route give the same three numbers. Who may see a song at all (takedowns, bans) is decided
where the rows are read, by one predicate every song query applies
(``songs.repository.listed``); what a song shows once seen (its status, the reason it
was taken down) is ``songs.views.song_view``'s.

The release a song is on (``SongCard.release``) comes with it the same way: rows of
``CARD_COLUMNS`` carry its kind, year and title (a primary-key lookup inside the one
query); ORM ``Song``s get theirs in one batched query per call.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_object_session
from sqlalchemy.orm import aliased

from bandstand.engagement.counters import COMMENTS, LIKES, SONG, VIEWS, Counters
from bandstand.models import Release, Song, SongStats, User
from bandstand.models.song import stat

# A song's owner, under a name of its own: a statement over songs may read ``users`` for
# someone else too (a playlist's owner, a comment's author), and whether the owner is
# banned decides whether the song is seen (``songs.repository.listed``).
OWNER = aliased(User, name="song_owner")


def _release_facts() -> ColumnElement[str | None]:
    """The song's release as ``<kind>|<year>|<title>`` (None for a single), a subquery of
    the song it sits in: one primary-key lookup, and no join to add to every statement
    that selects cards. Three columns read apart cost the catalogue's page about twice
    as much (PostgreSQL, 100 songs a page, half on releases). Kind and year hold no
    ``|``; ``_release`` splits it."""
    year = func.coalesce(cast(Release.year, String), "")
    packed = Release.kind + "|" + year + "|" + Release.title
    return select(packed).where(Release.id == Song.release_id).scalar_subquery()


# A song as lists show it: its own columns, its owner's public summary and its release's
# kind, year and title, flat, read by Core without building ORM objects (the catalogue is
# the busiest read). The statement joins ``OWNER``.
CARD_COLUMNS = (
    *Song.__table__.c,
    stat(SongStats.views).label("views"),
    stat(SongStats.like_count).label("like_count"),
    stat(SongStats.comment_count).label("comment_count"),
    OWNER.username.label("owner_username"),
    OWNER.fullname.label("owner_fullname"),
    OWNER.avatar_key.label("owner_avatar_key"),
    _release_facts().label("release_facts"),
)


@dataclass(frozen=True, slots=True)
class Owner:
    """A song owner's public summary (never an email)."""

    id: uuid.UUID
    username: str
    fullname: str
    avatar_key: str | None


@dataclass(frozen=True, slots=True)
class OnRelease:
    """The release a song is on, and its track number there."""

    id: uuid.UUID
    title: str
    kind: str
    year: int | None
    track: int


@dataclass(frozen=True, slots=True)
class SongCard:
    """A song as every answer shows it: ``song`` is what was read (an ORM ``Song`` or a
    row of ``CARD_COLUMNS``, with whatever else its query added, such as ``liked_at``);
    the counters are the row's plus what is pending."""

    song: Any
    owner: Owner
    views: int
    like_count: int
    comment_count: int
    release: OnRelease | None = None


def _owner(song: Any) -> Owner:
    if isinstance(song, Song):
        user = song.owner
        return Owner(user.id, user.username, user.fullname, user.avatar_key)
    return Owner(song.owner_id, song.owner_username, song.owner_fullname, song.owner_avatar_key)


ReleaseFacts = tuple[str, str, int | None]


async def _releases_of_objects(songs: Sequence[Any]) -> dict[uuid.UUID, ReleaseFacts]:
    """Title, kind and year of the releases ORM ``Song``s are on, by release id: one
    query per session the songs were read in (in practice one), none for singles. A row
    of ``CARD_COLUMNS`` carries its own."""
    wanted: dict[int, tuple[AsyncSession, set[uuid.UUID]]] = {}
    for song in songs:
        if isinstance(song, Song) and song.release_id is not None:
            session = async_object_session(song)
            if session is None:
                raise RuntimeError("A song on a release is read from a session it is still in.")
            wanted.setdefault(id(session), (session, set()))[1].add(song.release_id)
    found: dict[uuid.UUID, ReleaseFacts] = {}
    for session, ids in wanted.values():
        stmt = select(Release.id, Release.title, Release.kind, Release.year).where(
            Release.id.in_(ids)
        )
        for ident, title, kind, year in await session.execute(stmt):
            found[ident] = (title, kind, year)
    return found


def _release(song: Any, of_objects: dict[uuid.UUID, ReleaseFacts]) -> OnRelease | None:
    if song.release_id is None:
        return None
    if isinstance(song, Song):
        facts = of_objects.get(song.release_id)
        if facts is None:
            return None  # deleted since the song was read: a single now
        title, kind, year = facts
    else:
        if song.release_facts is None:
            return None  # deleted since (the foreign key empties release_id with it)
        kind, shown_year, title = song.release_facts.split("|", 2)
        year = int(shown_year) if shown_year else None
    return OnRelease(song.release_id, title, kind, year, song.track or 0)


async def read_cards(counters: Counters, songs: Sequence[Any]) -> list[SongCard]:
    """Songs as answers show them, in the order given, each with its pending counter
    deltas added (one call to the counter store for all of them) and the release it is
    on. ``songs`` are ORM ``Song``s with their owner loaded, still in their session, or
    rows of ``CARD_COLUMNS``."""
    pending = await counters.pending(SONG, [song.id for song in songs]) if songs else {}
    of_objects = await _releases_of_objects(songs)
    cards = []
    for song in songs:
        extra = pending.get(song.id, {})
        cards.append(
            SongCard(
                song=song,
                owner=_owner(song),
                views=song.views + extra.get(VIEWS, 0),
                like_count=song.like_count + extra.get(LIKES, 0),
                comment_count=song.comment_count + extra.get(COMMENTS, 0),
                release=_release(song, of_objects),
            )
        )
    return cards


async def read_card(counters: Counters, song: Song) -> SongCard:
    """One song as answers show it (``read_cards`` of one)."""
    (card,) = await read_cards(counters, [song])
    return card
