"""Search: ``search2`` (folders) and ``search3`` (ID3), artists, albums and songs, each
paged on its own (``artistCount``/``artistOffset``, ``albumCount``/``albumOffset``,
``songCount``/``songOffset``).

A query is matched the way Bandstand's search matches (``bandstand.search``, what
``GET /api/v1/songs/search`` answers): songs by title, genre and artist and by their
uploader's names, artists (accounts with a song to hear) by username and full name,
albums (releases) by title; best first, through the best 1,000 of each, one or two
characters as a prefix. A song on no release is found as a song (its single is not an
album to search for).

An empty query (nothing, or the two quotes ``""`` some apps send) lists everything,
paged, in a stable order (by id: time-ordered, so what is added later comes after): how
apps copy a whole library. A page of songs or albums that follows the one before it is
read past where that one ended (``Resumes``): one index range, whatever the offset.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bandstand.db import transaction
from bandstand.models import Song
from bandstand.search import repository as search
from bandstand.search.service import MAX_QUERY
from bandstand.songs.cards import SongCard
from bandstand.subsonic import listing, mapping, reading
from bandstand.subsonic import repository as repo
from bandstand.subsonic.lists import albums_in_order, in_folder, offset, songs_in
from bandstand.subsonic.mapping import Kind, Ref
from bandstand.subsonic.registry import Call, method
from bandstand.subsonic.render import Payload

DEFAULT_COUNT = 20
# A page of a whole library's sync: apps ask for a few hundred at a time.
MAX_COUNT = 5000
# What some apps send for "no query": the two quotes of an empty string.
_EMPTY = {"", '""', "''"}


@dataclass(frozen=True, slots=True)
class Paging:
    count: int
    offset: int

    @property
    def wanted(self) -> bool:
        return self.count > 0


@dataclass
class Found:
    artists: list[mapping.Artist] = field(default_factory=list)
    albums: list[mapping.Album] = field(default_factory=list)
    songs: list[SongCard] = field(default_factory=list)


def _paging(call: Call, kind: str) -> Paging:
    count = call.params.integer(f"{kind}Count", DEFAULT_COUNT, minimum=0, maximum=MAX_COUNT)
    return Paging(count or 0, offset(call, f"{kind}Offset"))


def _query(call: Call) -> str:
    """The query, without the spaces around it; "" lists everything."""
    query = (call.params.text("query", max_length=MAX_QUERY) or "").strip()
    return "" if query in _EMPTY else query


async def _artists(call: Call, owner_ids: list[uuid.UUID]) -> list[mapping.Artist]:
    found = await listing.artists(call.session, call.me.user_id, owner_ids)
    return [reading.artist(call, artist.owner, artist.album_count) for artist in found]


class Resumes:
    """Where recent listings of the whole library stood: after serving the page of a
    kind that ended at position ``n`` for a caller, the last id on it, so that the next
    page (asked for as ``offset=n``) is read as "past that id", one index range, rather
    than by counting ``n`` rows again. Apps sync page after page, so a whole sync reads
    each song once, not the catalogue once per page (200 pages of 500 over 100,000 songs
    counted 10 million rows).

    A page read past an id is the page an offset would give while nothing before it
    changes; when something does (a song removed before it), it is the page that follows
    what the app already has, which is what a sync wants. Kept in this process for
    ``ttl_s``: an app's sync comes over one connection, so to one process; a page asked
    of another process, or once forgotten, is read by its offset, as the first is."""

    def __init__(self, size: int = 4096, ttl_s: float = 600.0) -> None:
        self._size = size
        self._ttl_s = ttl_s
        self._entries: OrderedDict[tuple[uuid.UUID, str, int], tuple[float, uuid.UUID]] = (
            OrderedDict()
        )

    def after(self, viewer_id: uuid.UUID, kind: str, offset: int) -> uuid.UUID | None:
        """The last id before position ``offset``, if a page ended there lately."""
        if offset == 0:
            return None
        entry = self._entries.get((viewer_id, kind, offset))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def reached(self, viewer_id: uuid.UUID, kind: str, offset: int, last: uuid.UUID) -> None:
        """A page ended at position ``offset`` with the id ``last``."""
        key = (viewer_id, kind, offset)
        self._entries[key] = (time.monotonic() + self._ttl_s, last)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


RESUMES = Resumes()


async def _everything(call: Call, artists: Paging, albums: Paging, songs: Paging) -> Found:
    """The whole library, a page of each kind, by id."""
    me = call.me.user_id
    found = Found()
    if artists.wanted:
        owners = listing.artist_ids(me).limit(artists.count).offset(artists.offset)
        found.artists = await _artists(call, list((await call.session.scalars(owners)).all()))
    if albums.wanted:
        after = RESUMES.after(me, "album", albums.offset)
        page = listing.albums_by_id(
            call.session.get_bind().dialect.name,
            me,
            limit=albums.count,
            offset=0 if after else albums.offset,
            after=after,
        )
        refs = await listing.refs(call.session, page)
        found.albums = await albums_in_order(call, refs)
        if refs:
            RESUMES.reached(me, "album", albums.offset + len(refs), refs[-1].id)
    if songs.wanted:
        after = RESUMES.after(me, "song", songs.offset)
        ids = listing.song_ids(me).order_by(Song.id).limit(songs.count)
        ids = ids.where(Song.id > after) if after else ids.offset(songs.offset)
        found.songs = await songs_in(call, ids.subquery("page"), Song.id)
        if found.songs:
            last = found.songs[-1].song.id
            RESUMES.reached(me, "song", songs.offset + len(found.songs), last)
    return found


async def _matching(
    call: Call, query: str, artists: Paging, albums: Paging, songs: Paging
) -> Found:
    """What search finds for ``query``, a page of each kind, best first."""
    # Search tunes its statements for the transaction it runs in (PostgreSQL's trigram
    # threshold, a statement timeout), which a session reading statement by statement
    # does not hold: it gets one of its own, for the ids; the rest is read as everywhere.
    song_ids: list[uuid.UUID] = []
    owner_ids: list[uuid.UUID] = []
    release_ids: list[uuid.UUID] = []
    async with transaction(call.parts.sessionmaker) as session:
        if songs.wanted:
            hits = await search.songs(session, query, songs.count, songs.offset)
            song_ids = [song.id for song in hits.items]
        if artists.wanted:
            hits = await listing.find_artists(session, query, artists.count, artists.offset)
            owner_ids = [user.id for user in hits.items]
        if albums.wanted:
            hits = await listing.find_releases(session, query, albums.count, albums.offset)
            release_ids = list(hits.items)
    found = Found()
    found.artists = await _artists(call, owner_ids)
    found.albums = await albums_in_order(call, [Ref(Kind.RELEASE, i) for i in release_ids])
    if song_ids:
        cards = await reading.songs(
            call, repo.song_rows(call.me.user_id).where(Song.id.in_(song_ids))
        )
        by_id = {card.song.id: card for card in cards}
        found.songs = [by_id[ident] for ident in song_ids if ident in by_id]
    return found


async def _search(call: Call) -> Found:
    query = _query(call)
    artists, albums, songs = _paging(call, "artist"), _paging(call, "album"), _paging(call, "song")
    if not in_folder(call):
        return Found()
    if query == "":
        return await _everything(call, artists, albums, songs)
    return await _matching(call, query, artists, albums, songs)


def _answer(found: Found, album: Any) -> dict[str, Any]:
    return {
        "artist": [mapping.artist(artist) for artist in found.artists],
        "album": [album(each) for each in found.albums],
        "song": mapping.children(found.songs),
    }


@method("search2")
async def search2(call: Call) -> Payload:
    """Artists, albums (as folders) and songs."""
    return {"searchResult2": _answer(await _search(call), mapping.album_as_child)}


@method("search3")
async def search3(call: Call) -> Payload:
    """Artists, albums and songs, ID3 style."""
    return {"searchResult3": _answer(await _search(call), mapping.album)}
