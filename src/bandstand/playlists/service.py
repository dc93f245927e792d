"""Playlist rules: what a playlist may hold, who sees it, and what a delete removes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.engagement.counters import Counters
from bandstand.errors import BadRequest, Conflict, NotFound
from bandstand.kit.cursors import decode_id, decode_position, encode_id, encode_position
from bandstand.kit.time import utcnow
from bandstand.models import Playlist
from bandstand.playlists import repository as repo
from bandstand.playlists.schemas import MAX_SONGS, PlaylistCreate, PlaylistUpdate
from bandstand.songs.cards import SongCard, read_cards
from bandstand.songs.service import cover_folder, store_cover
from bandstand.storage import Storage
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)

# One playlist's songs come a page at a time; a playlist changed by a request answers with
# its first page.
SONGS_PER_PAGE = 100


@dataclass(frozen=True)
class Listing:
    """Playlists as list rows (``repository.cards``), each with its song ids."""

    cards: Sequence[Row[Any]]
    song_ids: dict[uuid.UUID, list[uuid.UUID]]
    total: int
    next_cursor: str | None = None
    by_cursor: bool = False


@dataclass(frozen=True)
class Detail:
    """One playlist (a card row) and a page of its songs as the one reader gives them
    (``songs.cards.read_cards``)."""

    card: Row[Any]
    songs: Sequence[SongCard]
    page: int
    limit: int
    next_cursor: str | None
    by_cursor: bool


def _field_error(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


async def _add(session: AsyncSession, playlist: Playlist, wanted: Sequence[uuid.UUID]) -> None:
    """Append the songs not in the playlist yet, in the order given; all or nothing. A
    song its owner may not see is as missing as one that does not exist."""
    if not await repo.lock(session, playlist.id, utcnow()):
        raise NotFound("Playlist not found.")
    found = await repo.existing_songs(session, wanted, playlist.owner_id)
    missing = [song_id for song_id in wanted if song_id not in found]
    if missing:
        raise NotFound(
            "Song not found.", errors=[_field_error("songIds", f"No song {i}.") for i in missing]
        )
    present, last = await repo.contents(session, playlist.id)
    new = [song_id for song_id in wanted if song_id not in present]
    if len(present) + len(new) > MAX_SONGS:
        raise Conflict(
            f"A playlist holds at most {MAX_SONGS} songs; this one has {len(present)}.",
            errors=[_field_error("songIds", f"At most {MAX_SONGS - len(present)} more.")],
        )
    await repo.append(session, playlist.id, new, last, utcnow())


async def detail(
    session: AsyncSession,
    counters: Counters,
    playlist_id: uuid.UUID,
    *,
    viewer_id: uuid.UUID | None = None,
    page: int = 1,
    limit: int = SONGS_PER_PAGE,
    cursor: str | None = None,
) -> Detail:
    """The playlist and a page of its songs ``viewer_id`` may see (None: those everyone
    sees) in order, by page number or, when given, by ``cursor`` (then the page number is
    ignored and the cost does not grow with depth). Whether the caller may see the
    playlist is the route's dependency's to decide."""
    found = await repo.cards(session, [playlist_id], viewer_id)
    if not found:
        raise NotFound("Playlist not found.")  # deleted since the route found it
    card = found[0]
    after = decode_position(cursor) if cursor else None
    offset = 0 if after is not None else (page - 1) * limit
    rows: Sequence[Row[Any]] = []
    if after is not None or offset < card.song_count:
        rows = await repo.songs(
            session, playlist_id, viewer_id, limit=limit + 1, offset=offset, after=after
        )
    shown = rows[:limit]
    next_cursor = encode_position(shown[-1].position) if len(rows) > limit else None
    return Detail(
        card=card,
        songs=await read_cards(counters, shown),
        page=page,
        limit=limit,
        next_cursor=next_cursor,
        by_cursor=after is not None,
    )


async def create(
    session: AsyncSession,
    storage: Storage,
    counters: Counters,
    owner_id: uuid.UUID,
    data: PlaylistCreate,
    cover: bytes | None,
    max_cover_bytes: int,
) -> Detail:
    """A new playlist of the caller's, with its cover and first songs if given. Every song
    must exist, or nothing is created."""
    thumbnail_key = None
    if cover is not None:
        thumbnail_key = await store_cover(session, storage, cover, max_cover_bytes)
    playlist = await repo.create(
        session,
        owner_id=owner_id,
        name=data.name,
        description=data.description,
        is_public=data.isPublic,
        thumbnail_key=thumbnail_key,
    )
    if data.song_ids:
        await _add(session, playlist, data.song_ids)
    log.info("playlist_created", playlist_id=str(playlist.id), songs=len(data.song_ids))
    return await detail(session, counters, playlist.id, viewer_id=owner_id)


async def add_songs(
    session: AsyncSession, counters: Counters, playlist: Playlist, song_ids: Sequence[uuid.UUID]
) -> Detail:
    """Append songs at the end in the order given. Songs already in the playlist are
    skipped, not moved; an unknown song refuses the whole request (404), and so does
    going past ``MAX_SONGS`` (409)."""
    await _add(session, playlist, song_ids)
    return await detail(session, counters, playlist.id, viewer_id=playlist.owner_id)


async def remove_song(
    session: AsyncSession, counters: Counters, playlist: Playlist, song_id: uuid.UUID
) -> Detail:
    """Take a song out of the playlist. Idempotent: a song that is not in it (or does not
    exist) leaves it as it was, like an unlike of what is not liked."""
    if await repo.remove_song(session, playlist.id, song_id):
        await repo.change(session, playlist.id, {"updated_at": utcnow()})
    return await detail(session, counters, playlist.id, viewer_id=playlist.owner_id)


async def update(
    session: AsyncSession,
    storage: Storage,
    queue: Queue,
    counters: Counters,
    playlist: Playlist,
    data: PlaylistUpdate,
    cover: bytes | None,
    max_cover_bytes: int,
) -> Detail:
    """Change the name, description, visibility or cover — nothing else can be written.
    A replaced cover's files go once the change commits; if another change replaced it
    first, this one is refused (409) and its new files removed, so none is orphaned."""
    if data.empty and cover is None:
        raise BadRequest(
            "Give at least one of playlist_name, description, isPublic or thumbnail.",
            errors=[_field_error("body", "Nothing to change.")],
        )
    values: dict[str, Any] = {"updated_at": utcnow()}
    if data.name is not None:
        values["name"] = data.name
    if data.description is not None:
        values["description"] = data.description
    if data.isPublic is not None:
        values["is_public"] = data.isPublic
    swap = None
    if cover is not None:
        swap = (playlist.thumbnail_key, await store_cover(session, storage, cover, max_cover_bytes))
    if not await repo.change(session, playlist.id, values, cover=swap):
        raise Conflict("The playlist changed meanwhile; try again.")
    if swap is not None and swap[0] is not None:
        queue.enqueue_after_commit(session, "songs.delete_files", [cover_folder(swap[0])])
    return await detail(session, counters, playlist.id, viewer_id=playlist.owner_id)


async def remove(session: AsyncSession, queue: Queue, playlist: Playlist) -> None:
    """Delete the playlist in this transaction (its song list goes with it); its cover's
    files only after it commits, so a failed delete never leaves a row without its
    files."""
    # The key the row holds as it goes, not as it was read: a cover replaced meanwhile
    # is deleted too.
    keys = await repo.delete_playlist(session, playlist.id)
    if keys is None:
        raise NotFound("Playlist not found.")
    if keys:
        queue.enqueue_after_commit(session, "songs.delete_files", [cover_folder(keys[0])])
    log.info("playlist_deleted", playlist_id=str(playlist.id))


async def newest_page(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID | None,
    owner_id: uuid.UUID | None = None,
    page: int,
    limit: int,
    cursor: str | None = None,
) -> Listing:
    """Playlists ``viewer_id`` may see (None: public ones only), of ``owner_id`` if given,
    newest first, by page number or by ``cursor`` (then the page number is ignored)."""
    before = decode_id(cursor) if cursor else None
    offset = 0 if before else (page - 1) * limit
    total = await repo.count(session, viewer_id=viewer_id, owner_id=owner_id)
    if offset >= total:
        # Past the end: nothing to fetch, and no absurd OFFSET for the database to refuse.
        return Listing(cards=[], song_ids={}, total=total, by_cursor=before is not None)
    # One more than asked for says whether there is a next page.
    rows = await repo.newest(
        session,
        viewer_id=viewer_id,
        owner_id=owner_id,
        limit=limit + 1,
        offset=offset,
        before=before,
    )
    cards = rows[:limit]
    next_cursor = encode_id(cards[-1].id) if len(rows) > limit else None
    return Listing(
        cards=cards,
        song_ids=await repo.song_ids(session, [card.id for card in cards], viewer_id),
        total=total,
        next_cursor=next_cursor,
        by_cursor=before is not None,
    )


async def listed(session: AsyncSession, ids: Sequence[uuid.UUID], total: int) -> Listing:
    """These playlists as a list, in the order given (a search's ranking), with the songs
    everyone sees. Whoever chose the ids decided who may see the playlists."""
    cards = await repo.cards(session, ids, None)
    song_ids = await repo.song_ids(session, [card.id for card in cards], None)
    return Listing(cards=cards, song_ids=song_ids, total=total)
