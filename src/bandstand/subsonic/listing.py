"""The queries behind ``/rest``'s lists and search (``lists.py``, ``searching.py``).

Each query here decides only *what* is on a page, and in which order: albums as ``Ref``s
(a release, or a single), songs as ids, artists as accounts. What is then shown of them is
read the one way ``/rest`` reads songs (``repository.song_rows`` through ``reading.py``),
so a list never shows a song, a count or an album the rest of the API would not. Every
choice is made under the same visibility rule (``songs.repository.listed``): a song taken
down, or a banned artist's, is in no list, and an album none of whose songs may be heard
is in none either.

Albums are releases with a song the caller may hear, and those songs on no release
(each its own single). ``album_rows`` is both as one table, for the lists ordered by what
an album is (newest, by name, by artist, by year, at random); the lists ordered by what
its songs gathered (plays, ratings, likes) group the songs by album instead
(``albums_by``).

Ids are time-ordered (UUIDv7), so "newest" is the ids' order, read backwards along the
primary keys of releases and songs, and the order a whole library is listed in when an
app syncs it (``search3`` with an empty query) is the ids' too: stable while songs are
added, each page one index range.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    distinct,
    extract,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bandstand.errors import ServiceUnavailable
from bandstand.models import Play, Release, Song, SongLike, SongRating, SongStats, User
from bandstand.search import kinds, postgres, sqlite
from bandstand.search.kinds import THRESHOLD, Hits, Kind
from bandstand.songs.cards import OWNER, Owner
from bandstand.songs.repository import Viewer, listed
from bandstand.subsonic.mapping import Kind as IdKind
from bandstand.subsonic.mapping import Ref

# The account an album is filed under, for ``alphabeticalByArtist``; a name of its own,
# apart from ``OWNER`` (the song's owner, whom the visibility rule reads).
_ARTIST = aliased(User, name="album_artist")


# --- albums ---------------------------------------------------------------------------


def _year(dialect: str, moment: Any) -> ColumnElement[int]:
    """The UTC year of a stored moment (SQLite keeps UTC as naive text)."""
    if dialect == "postgresql":
        return cast(ColumnElement[int], extract("year", func.timezone("UTC", moment)))
    return extract("year", moment)


def _has_song(viewer_id: Viewer, *songs_where: ColumnElement[bool]) -> Any:
    """Whether the release in the enclosing statement has a song ``viewer_id`` may hear
    (and that meets ``songs_where``): one probe of ``ix_songs_release_id_track``."""
    return (
        select(Song.id)
        .where(Song.release_id == Release.id, listed(viewer_id), *songs_where)
        .exists()
    )


# id, release_id, name, owner_id, year
_AlbumRows = Select[uuid.UUID, uuid.UUID | None, str, uuid.UUID, int]


def _album_leaves(
    dialect: str, viewer_id: Viewer, *songs_where: ColumnElement[bool]
) -> tuple[_AlbumRows, _AlbumRows]:
    """The releases, and the singles, ``viewer_id`` may hear (with a song meeting
    ``songs_where``), as rows of ``album_rows``."""
    releases: _AlbumRows = select(
        Release.id.label("id"),
        Release.id.label("release_id"),
        Release.title.label("name"),
        Release.owner_id.label("owner_id"),
        func.coalesce(Release.year, _year(dialect, Release.created_at)).label("year"),
    ).where(_has_song(viewer_id, *songs_where))
    singles: _AlbumRows = (
        select(
            Song.id,
            Song.release_id,  # None: the condition says so
            Song.title,
            Song.owner_id,
            _year(dialect, Song.created_at),
        )
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(Song.release_id.is_(None), listed(viewer_id), *songs_where)
    )
    return releases, singles


def album_rows(dialect: str, viewer_id: uuid.UUID, *songs_where: ColumnElement[bool]) -> Subquery:
    """Every album ``viewer_id`` may hear (with a song meeting ``songs_where``), one row
    each: ``id`` (the release's, or the single's song's), ``release_id`` (None for a
    single), ``name``, ``owner_id`` and ``year`` (as ``mapping`` shows them: a release's
    own year, else the year it was made)."""
    return union_all(*_album_leaves(dialect, viewer_id, *songs_where)).subquery("albums")


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement and the values of its parameters, to execute together."""

    stmt: Select[Any]
    params: dict[str, Any]


def albums_by_id(
    dialect: str,
    viewer_id: uuid.UUID | None,
    *,
    limit: int,
    offset: int = 0,
    after: uuid.UUID | None = None,
    newest_first: bool = False,
) -> Statement:
    """A page of albums in id order (the newest first, or the oldest), from ``offset``
    or past the album ``after``, as ``refs`` reads them. Each kind is read along its own
    primary key only as far as the page reaches (``offset + limit`` rows, whose
    releases each probe ``ix_songs_release_id_track`` once), and the two are merged:
    the cost is the page's, not the catalogue's."""
    values = {"viewer": viewer_id, "reach": offset + limit, "limit": limit, "offset": offset}
    if after is not None:
        values["after"] = after
    return Statement(_albums_by_id(dialect, newest_first, after is not None), values)


@functools.lru_cache(maxsize=8)
def _albums_by_id(dialect: str, newest_first: bool, past: bool) -> Select[Any]:
    """``albums_by_id``'s statement, made once: the newest albums are the busiest list
    of all, and making its statement cost more than running it."""
    viewer = bindparam("viewer", type_=Song.__table__.c.owner_id.type)
    leaves = []
    for leaf in _album_leaves(dialect, viewer):
        ident = leaf.selected_columns.id
        if past:
            after = bindparam("after", type_=ident.type)
            leaf = leaf.where(ident < after if newest_first else ident > after)
        reach = bindparam("reach", type_=Integer())
        leaf = leaf.order_by(ident.desc() if newest_first else ident).limit(reach)
        # Each inside a select of its own: SQLite takes no LIMIT on a UNION's members.
        leaves.append(select(leaf.subquery()))
    albums = union_all(*leaves).subquery("albums")
    order = albums.c.id.desc() if newest_first else albums.c.id
    page = page_of_albums(albums, order)
    return page.limit(bindparam("limit", type_=Integer())).offset(
        bindparam("offset", type_=Integer())
    )


def page_of_albums(albums: Subquery, *order: Any) -> Select[Any]:
    """The albums of ``album_rows`` as ``refs`` reads them, in ``order``; add the page."""
    return select(albums.c.release_id, albums.c.id).order_by(*order)


def by_artist(albums: Subquery) -> Select[Any]:
    """Albums by their artist's name (as ``mapping.artist_name``), then their own."""
    name = func.coalesce(func.nullif(_ARTIST.fullname, ""), _ARTIST.username)
    return page_of_albums(albums, func.lower(name), func.lower(albums.c.name), albums.c.id).join(
        _ARTIST, _ARTIST.id == albums.c.owner_id
    )


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the songs of an album gathered, for a list ordered by it (``albums_by``)."""

    # What a song is joined to, and on what (None: the songs alone).
    joined: Any
    on: ColumnElement[bool] | None
    # The measure, best first, and what breaks its ties before the album's id.
    measure: ColumnElement[Any]
    then: tuple[ColumnElement[Any], ...] = ()
    where: tuple[ColumnElement[bool], ...] = ()


def most_played() -> Gathered:
    """``frequent``: the albums whose songs were played most (their counted plays, the
    REST API's ``views``, as last flushed: plays still pending in the counter store are
    shown, not yet ranked), only those played at all."""
    return Gathered(
        SongStats,
        SongStats.song_id == Song.id,
        func.sum(SongStats.views),
        where=(SongStats.views > 0,),
    )


def played_by(user_id: uuid.UUID) -> Gathered:
    """``recent``: the albums ``user_id`` last played a song of, latest first (every play
    they reported, from ``plays``)."""
    return Gathered(
        Play, and_(Play.song_id == Song.id, Play.user_id == user_id), func.max(Play.played_at)
    )


def liked_by(user_id: uuid.UUID) -> Gathered:
    """``starred``: the albums with a song ``user_id`` likes, latest like first."""
    return Gathered(
        SongLike,
        and_(SongLike.song_id == Song.id, SongLike.user_id == user_id),
        func.max(SongLike.created_at),
    )


def best_rated() -> Gathered:
    """``highest``: the albums whose songs listeners rated best (``song_ratings``, as
    ``setRating`` keeps them): the average of every listener's ratings of its songs, the
    more ratings first on a tie (Subsonic ranks by the average). Only albums rated at all."""
    return Gathered(
        SongRating,
        SongRating.song_id == Song.id,
        func.avg(SongRating.rating),
        then=(func.count().desc(),),
    )


def albums_by(viewer_id: uuid.UUID, gathered: Gathered) -> Select[Any]:
    """Albums ordered by what their songs ``viewer_id`` may hear gathered, best first:
    the songs grouped by album (the release, or the single's song), as ``release`` and
    ``single`` (``refs``)."""
    single = case((Song.release_id.is_(None), Song.id))
    stmt = select(Song.release_id, single).select_from(Song).join(OWNER, OWNER.id == Song.owner_id)
    if gathered.on is not None:
        stmt = stmt.join(gathered.joined, gathered.on)
    return (
        stmt.where(listed(viewer_id), *gathered.where)
        .group_by(Song.release_id, single)
        .order_by(gathered.measure.desc(), *gathered.then, Song.release_id, single)
    )


async def refs(session: AsyncSession, stmt: Select[Any] | Statement) -> list[Ref]:
    """The albums a page of ``page_of_albums``, ``by_artist``, ``albums_by`` or
    ``albums_by_id`` holds: rows of (the release's id, or None; the single's song's id,
    or anything)."""
    found = await (
        session.execute(stmt.stmt, stmt.params)
        if isinstance(stmt, Statement)
        else session.execute(stmt)
    )
    return [
        Ref(IdKind.RELEASE, release) if release is not None else Ref(IdKind.SINGLE, single)
        for release, single in found.all()
    ]


def songs_of_albums(stmt: Select[Any], albums: Sequence[Ref]) -> Select[Any]:
    """``stmt`` (``repository.song_rows``) narrowed to the songs of ``albums``."""
    releases = [ref.id for ref in albums if ref.kind is IdKind.RELEASE]
    singles = [ref.id for ref in albums if ref.kind is IdKind.SINGLE]
    wanted: list[ColumnElement[bool]] = []
    if releases:
        wanted.append(Song.release_id.in_(releases))
    if singles:
        wanted.append(and_(Song.id.in_(singles), Song.release_id.is_(None)))
    return stmt.where(or_(*wanted))


# --- songs ----------------------------------------------------------------------------


def song_year(dialect: str) -> ColumnElement[int]:
    """A song's year as ``mapping.child`` shows it: its release's year, else the year its
    release (or, on none, the song) was made. A primary-key lookup inside the row."""

    def of_release(column: Any) -> Any:
        return select(column).where(Release.id == Song.release_id).scalar_subquery()

    made = func.coalesce(of_release(Release.created_at), Song.created_at)
    return func.coalesce(of_release(Release.year), _year(dialect, made))


def song_ids(viewer_id: uuid.UUID, *where: ColumnElement[bool]) -> Select[Any]:
    """The ids of the songs ``viewer_id`` may hear (meeting ``where``); add the order and
    the page, and read the songs with ``repository.song_rows`` joined to it."""
    return (
        select(Song.id)
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(listed(viewer_id), *where)
    )


# --- artists --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtistCount:
    owner: Owner
    album_count: int


# An artist's albums: its releases with a song, and its songs on none.
_ALBUM_COUNT = func.count(distinct(Song.release_id)) + func.coalesce(
    func.sum(case((Song.release_id.is_(None), 1), else_=0)), 0
)


def artist_ids(viewer_id: uuid.UUID) -> Select[Any]:
    """The accounts with a song ``viewer_id`` may hear, by id (a stable order); add the
    page. One probe of an index of songs by owner per account."""
    heard = select(Song.id).where(Song.owner_id == User.id, listed(viewer_id)).exists()
    return select(User.id).where(heard).order_by(User.id)


async def artists(
    session: AsyncSession, viewer_id: uuid.UUID, owner_ids: Sequence[uuid.UUID]
) -> list[ArtistCount]:
    """The accounts of ``owner_ids`` that have a song ``viewer_id`` may hear, in the order
    given, each with how many albums of theirs the viewer may hear."""
    if not owner_ids:
        return []
    stmt = (
        select(OWNER.id, OWNER.username, OWNER.fullname, OWNER.avatar_key, _ALBUM_COUNT)
        .select_from(Song)
        .join(OWNER, OWNER.id == Song.owner_id)
        .where(Song.owner_id.in_(owner_ids), listed(viewer_id))
        .group_by(OWNER.id, OWNER.username, OWNER.fullname, OWNER.avatar_key)
    )
    found = {
        row[0]: ArtistCount(Owner(row[0], row[1], row[2], row[3]), int(row[4]))
        for row in (await session.execute(stmt)).all()
    }
    return [found[ident] for ident in owner_ids if ident in found]


# --- search ---------------------------------------------------------------------------

# Search (``bandstand.search``) finds songs, people and playlists. Music apps also look
# for artists (people with a song to hear) and albums (releases, by title): the same
# matching over those rows. Whatever search finds is only what everyone may see
# (``listed(None)``), as on the REST API's search.
ARTISTS = Kind(
    User,
    (User.username, User.fullname),
    where=(
        User.banned_at.is_(None),
        select(Song.id).where(Song.owner_id == User.id, listed(None)).exists(),
    ),
)
# ``Kind`` names the models search had so far; a release is matched the same way.
RELEASES = Kind(cast(Any, Release), (cast(Any, Release.title),), where=(_has_song(None),))
# PostgreSQL's "query_canceled": a statement ran past search's statement timeout.
_CANCELED = "57014"


@contextmanager
def _busy_when_timed_out() -> Iterator[None]:
    """As ``search.repository``: a search cut short by its statement timeout is a database
    too busy to answer in time (try again), not a fault."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _CANCELED:
            raise ServiceUnavailable("Search is busy. Try again shortly.") from exc
        raise


async def find_artists(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    """Artists whose username or full name matches ``query``, best first (``Hits.items``
    are ``User``s), as search finds people."""
    with _busy_when_timed_out():
        if session.get_bind().dialect.name == "postgresql":
            return await postgres.ranked(session, ARTISTS, query, limit, offset)
        return await sqlite.ranked(session, ARTISTS, query, limit, offset)


async def find_releases(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    """Releases whose title matches ``query``, best first (``Hits.items`` are ids), as
    search finds playlists by name: the same similarity and threshold, one or two
    characters as a prefix. Releases have no search index of their own yet, so every
    candidate is scored (a release table is small beside the songs')."""
    if kinds.is_prefix(query):
        condition = kinds.prefix_of(RELEASES, query)
        return await kinds.scored_page(session, RELEASES, [condition], None, limit, offset)
    if session.get_bind().dialect.name == "postgresql":
        with _busy_when_timed_out():
            return await postgres.scored(session, RELEASES, query, limit, offset)
    score = func.bandstand_similarity(query, Release.title)
    return await kinds.scored_page(session, RELEASES, [score >= THRESHOLD], score, limit, offset)
