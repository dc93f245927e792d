"""Lists: ``getAlbumList`` and ``getAlbumList2`` (every list type), ``getRandomSongs``,
``getSongsByGenre``, ``getStarred`` and ``getStarred2``.

What each album list holds, and in which order (``listing.py`` has the queries):

* ``newest`` — releases and singles, the latest made first;
* ``random`` — in a random order;
* ``alphabeticalByName`` / ``alphabeticalByArtist`` — by the album's name, or by its
  artist's (then the album's), ignoring case;
* ``byYear`` — from ``fromYear`` to ``toYear``, year by year (counting down when
  ``fromYear`` is the later), then by name;
* ``byGenre`` — albums with a song of ``genre``, by name;
* ``frequent`` — the most played (counted plays, the REST API's ``views``) first;
* ``recent`` — those the caller played a song of, the latest first;
* ``starred`` — those with a song the caller likes (a star is a like), the latest like
  first;
* ``highest`` — by listeners' ratings of their songs (``setRating``, kept in
  ``song_ratings``; likes are ``starred``): the average of all of them, the more ratings
  first on a tie; only albums rated at all.

Songs "starred" are the caller's likes, newest like first. Bandstand has no stars for
albums or artists, so ``getStarred`` lists none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Subquery, and_, func
from starlette.responses import Response

from bandstand.models import Song, SongLike
from bandstand.songs.cards import SongCard
from bandstand.subsonic import listing, mapping, reading
from bandstand.subsonic import repository as repo
from bandstand.subsonic.mapping import Kind, Ref
from bandstand.subsonic.params import BadParameter
from bandstand.subsonic.registry import Call, method
from bandstand.subsonic.render import Payload, format_of, rendered

MAX_SIZE = 500
# Far past any real list; keeps an offset a number both databases take.
MAX_OFFSET = 1_000_000_000
MAX_GENRE = 100
# Years as apps send them; anything past is a mistake worth telling.
FIRST_YEAR, LAST_YEAR = 0, 9999


def in_folder(call: Call) -> bool:
    """Whether ``musicFolderId``, if given, is the one folder there is (any other holds
    nothing)."""
    folder = call.params.integer("musicFolderId")
    return folder is None or folder == mapping.FOLDER_ID


def _size(call: Call, name: str) -> int:
    return call.params.integer(name, 10, minimum=0, maximum=MAX_SIZE) or 0


def offset(call: Call, name: str = "offset") -> int:
    return call.params.integer(name, 0, minimum=0, maximum=MAX_OFFSET) or 0


def _year(call: Call, name: str, *, required: bool) -> int | None:
    return call.params.integer(name, minimum=FIRST_YEAR, maximum=LAST_YEAR, required=required)


def _genre(call: Call, *, required: bool) -> str | None:
    return call.params.text("genre", max_length=MAX_GENRE, required=required)


async def albums_in_order(
    call: Call, refs: Sequence[Ref], *, for_everyone: bool = False
) -> list[mapping.Album]:
    """The albums ``refs`` name, in that order, each with the caller's songs of it in
    track order (or, ``for_everyone``, the songs anyone may hear, without the caller's
    likes and ratings): one read of all their songs."""
    if not refs:
        return []
    viewer = None if for_everyone else call.me.user_id
    stmt = listing.songs_of_albums(repo.song_rows(viewer), refs)
    found = {album.id: album for album in await reading.albums(call, repo.in_track_order(stmt))}
    wanted = (
        mapping.release_id(ref.id) if ref.kind is Kind.RELEASE else mapping.single_id(ref.id)
        for ref in refs
    )
    return [found[ident] for ident in wanted if ident in found]


async def songs_in(call: Call, page: Subquery, *order: Any) -> list[SongCard]:
    """The songs of ``page`` (a subquery of their ``id``s, paged), read the one way, in
    ``order``: the page is chosen on the ids alone, and only its songs are read."""
    stmt = repo.song_rows(call.me.user_id).join(page, page.c.id == Song.id).order_by(*order)
    return await reading.songs(call, stmt)


# --- album lists ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """The page of a list asked for: ``size`` albums from ``start``; and the database's
    dialect, which some questions are written for (a year is read apart on each)."""

    size: int
    start: int
    dialect: str

    def of(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.limit(self.size).offset(self.start)


def _by_year(call: Call, page: Page) -> Select[Any]:
    start = _year(call, "fromYear", required=True) or 0
    end = _year(call, "toYear", required=True) or 0
    albums = listing.album_rows(page.dialect, call.me.user_id)
    year = albums.c.year.desc() if start > end else albums.c.year
    low, high = min(start, end), max(start, end)
    ordered = listing.page_of_albums(albums, year, func.lower(albums.c.name), albums.c.id)
    return page.of(ordered.where(albums.c.year.between(low, high)))


def _by_genre(call: Call, page: Page) -> Select[Any]:
    genre = _genre(call, required=True)
    albums = listing.album_rows(page.dialect, call.me.user_id, Song.genre == genre)
    return page.of(listing.page_of_albums(albums, func.lower(albums.c.name), albums.c.id))


def _newest(call: Call, page: Page) -> listing.Statement:
    return listing.albums_by_id(
        page.dialect, call.me.user_id, limit=page.size, offset=page.start, newest_first=True
    )


def _random(call: Call, page: Page) -> Select[Any]:
    albums = listing.album_rows(page.dialect, call.me.user_id)
    return page.of(listing.page_of_albums(albums, func.random()))


def _by_name(call: Call, page: Page) -> Select[Any]:
    albums = listing.album_rows(page.dialect, call.me.user_id)
    return page.of(listing.page_of_albums(albums, func.lower(albums.c.name), albums.c.id))


def _by_artist(call: Call, page: Page) -> Select[Any]:
    return page.of(listing.by_artist(listing.album_rows(page.dialect, call.me.user_id)))


def _gathered(gathered: Callable[[Call], listing.Gathered]) -> Callable[[Call, Page], Select[Any]]:
    def ordered(call: Call, page: Page) -> Select[Any]:
        return page.of(listing.albums_by(call.me.user_id, gathered(call)))

    return ordered


# Each list type, by the name apps send, as the statement of its page of albums.
LIST_TYPES: dict[str, Callable[[Call, Page], Select[Any] | listing.Statement]] = {
    "random": _random,
    "newest": _newest,
    "highest": _gathered(lambda call: listing.best_rated()),
    "frequent": _gathered(lambda call: listing.most_played()),
    "recent": _gathered(lambda call: listing.played_by(call.me.user_id)),
    "alphabeticalByName": _by_name,
    "alphabeticalByArtist": _by_artist,
    "starred": _gathered(lambda call: listing.liked_by(call.me.user_id)),
    "byYear": _by_year,
    "byGenre": _by_genre,
}
_BY_LOWER_NAME = {name.lower(): build for name, build in LIST_TYPES.items()}


async def album_list(
    call: Call, shape: Callable[[list[mapping.Album]], Payload]
) -> Payload | Response:
    """The page of albums ``type``, ``size`` and ``offset`` ask for, as ``shape`` answers
    it."""
    kind = call.params.required("type")
    build = _BY_LOWER_NAME.get(kind.strip().lower())
    if build is None:
        raise BadParameter("type", "one of " + ", ".join(LIST_TYPES))
    page = Page(_size(call, "size"), offset(call), call.session.get_bind().dialect.name)
    stmt = build(call, page)
    if page.size == 0 or not in_folder(call):
        return shape([])
    if build is _newest and not call.me.hides_songs:
        return await _newest_for_all(call, page, shape)
    return shape(await albums_in_order(call, await listing.refs(call.session, stmt)))


async def _newest_for_all(
    call: Call, page: Page, shape: Callable[[list[mapping.Album]], Payload]
) -> Response:
    """The newest albums, the list apps open on (their home screen): the same for every
    caller with no song taken down (who alone would see it in theirs), so answered once
    for them all, written out in the format asked, and kept a moment as the REST API's
    newest songs are (``catalogue_cache_s``)."""
    fmt = format_of(call.params.get("f"))

    async def write() -> bytes:
        return rendered(fmt, "ok", shape(await _newest_for_everyone(call, page)))

    key = ("rest:newest", shape, fmt, page.size, page.start)
    body: bytes = await call.parts.catalogue.fetch(key, write)
    return Response(body, media_type=fmt.media_type)


async def _newest_for_everyone(call: Call, page: Page) -> list[mapping.Album]:
    stmt = listing.albums_by_id(
        page.dialect, None, limit=page.size, offset=page.start, newest_first=True
    )
    return await albums_in_order(call, await listing.refs(call.session, stmt), for_everyone=True)


def _album_list(albums: list[mapping.Album]) -> Payload:
    return {"albumList": {"album": [mapping.album_as_child(album) for album in albums]}}


def _album_list2(albums: list[mapping.Album]) -> Payload:
    return {"albumList2": {"album": [mapping.album(album) for album in albums]}}


@method("getAlbumList")
async def get_album_list(call: Call) -> Payload | Response:
    """Albums as folders (the older, folder-based view)."""
    return await album_list(call, _album_list)


@method("getAlbumList2")
async def get_album_list2(call: Call) -> Payload | Response:
    return await album_list(call, _album_list2)


# --- songs ----------------------------------------------------------------------------


@method("getRandomSongs")
async def get_random_songs(call: Call) -> Payload:
    """Songs at random, of ``genre`` and from ``fromYear`` to ``toYear`` if given (as
    ``mapping.child`` gives a song's year)."""
    size = _size(call, "size")
    genre = _genre(call, required=False)
    start = _year(call, "fromYear", required=False)
    end = _year(call, "toYear", required=False)
    if size == 0 or not in_folder(call):
        return {"randomSongs": {"song": []}}
    where = []
    if genre:
        where.append(Song.genre == genre)
    year = listing.song_year(call.session.get_bind().dialect.name)
    if start is not None and end is not None and start > end:
        start, end = end, start
    if start is not None:
        where.append(year >= start)
    if end is not None:
        where.append(year <= end)
    shuffle = func.random().label("shuffle")
    page = (
        listing.song_ids(call.me.user_id, *where)
        .add_columns(shuffle)
        .order_by(shuffle)
        .limit(size)
        .subquery("page")
    )
    cards = await songs_in(call, page, page.c.shuffle)
    return {"randomSongs": {"song": mapping.children(cards)}}


@method("getSongsByGenre")
async def get_songs_by_genre(call: Call) -> Payload:
    """The songs of ``genre``, the newest first, ``count`` at a time from ``offset``."""
    genre = _genre(call, required=True)
    count = _size(call, "count")
    start = offset(call)
    if count == 0 or not in_folder(call):
        return {"songsByGenre": {"song": []}}
    page = (
        listing.song_ids(call.me.user_id, Song.genre == genre)
        .order_by(Song.id.desc())
        .limit(count)
        .offset(start)
        .subquery("page")
    )
    cards = await songs_in(call, page, Song.id.desc())
    return {"songsByGenre": {"song": mapping.children(cards)}}


async def _liked(call: Call) -> list[SongCard]:
    """The songs the caller likes (a star is a like), the latest like first."""
    if not in_folder(call):
        return []
    me = call.me.user_id
    stmt = (
        repo.song_rows(me)
        .join(SongLike, and_(SongLike.song_id == Song.id, SongLike.user_id == me))
        .order_by(SongLike.created_at.desc(), Song.id.desc())
    )
    return await reading.songs(call, stmt)


@method("getStarred")
async def get_starred(call: Call) -> Payload:
    cards = await _liked(call)
    return {"starred": {"artist": [], "album": [], "song": mapping.children(cards)}}


@method("getStarred2")
async def get_starred2(call: Call) -> Payload:
    cards = await _liked(call)
    return {"starred2": {"artist": [], "album": [], "song": mapping.children(cards)}}
