"""Release rules: what a release may hold (its owner's songs, each on one release at
most, in track order 1..n), who sees it, and what a delete leaves (its songs, as singles).

``create_release`` and ``place_songs`` are what the catalogue importer calls: their
signatures stay as they are."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.db import after_commit
from bandstand.engagement.counters import Counters
from bandstand.errors import BadRequest, Conflict, Forbidden, NotFound
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.cursors import decode_id, encode_id
from bandstand.kit.time import utcnow
from bandstand.models import Release
from bandstand.releases import repository as repo
from bandstand.releases.schemas import (
    MAX_TRACKS,
    ReleaseCreate,
    ReleaseFields,
    ReleaseUpdate,
    ordered_unique,
)
from bandstand.songs.cards import SongCard, read_cards
from bandstand.songs.service import cover_folder, store_cover
from bandstand.storage import Storage
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)
SONG_IDS = "songIds"


@dataclass(frozen=True)
class Detail:
    """One release (a card row) and its songs as the one reader gives them
    (``songs.cards.read_cards``), in track order."""

    card: Row[Any]
    songs: Sequence[SongCard]


@dataclass(frozen=True)
class Listing:
    """Releases as list rows (``repository.newest``)."""

    cards: Sequence[Row[Any]]
    total: int
    next_cursor: str | None = None
    by_cursor: bool = False


def _field_error(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


def _checked(title: str, kind: str, year: int | None) -> ReleaseFields:
    """The fields as the API checks them; a 400 naming each bad one."""
    try:
        return ReleaseFields.model_validate({"title": title, "kind": kind, "year": year})
    except ValidationError as exc:
        errors = [
            _field_error(
                ".".join(str(part) for part in e["loc"]) or "body",
                e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors(include_url=False)
        ]
        raise BadRequest("Invalid input.", errors=errors) from exc


async def create_release(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    title: str,
    kind: str,
    year: int | None,
    thumbnail_key: str | None,
) -> Release:
    """A new, empty release of ``owner_id``'s. ``thumbnail_key`` is a cover already
    stored (``songs.service.store_cover``), or None to show its first song's. Title
    (1..200 characters, one line), kind (album, ep, single) and year (1000..9999 or None)
    are checked as the API checks them: a bad one is a ``BadRequest`` naming it."""
    fields = _checked(title, kind, year)
    release = await repo.create(
        session,
        owner_id=owner_id,
        title=fields.title,
        kind=fields.kind.value,
        year=fields.year,
        thumbnail_key=thumbnail_key,
    )
    log.info("release_created", release_id=str(release.id), owner_id=str(owner_id))
    return release


async def place_songs(session: AsyncSession, release: Release, song_ids: list[uuid.UUID]) -> None:
    """Append songs to the release in the order given, their tracks continuing after
    the last one it has; all or nothing. A song already on this release stays where it is;
    a song the owner may not see is missing (404), one of someone else's is refused (403),
    and so is one on another release (409: a song is on one release at most). Answers
    that show songs change with it: the caller forgets the catalogue's after commit (the
    routes here do; a new song does anyway). Songs are written by one UPDATE, so a
    ``Song`` object already in the session keeps its old ``release_id`` until read
    again."""
    wanted = ordered_unique(list(song_ids))
    if not wanted:
        return
    if not await repo.lock(session, release.id, utcnow()):
        raise NotFound("Release not found.")
    found = await repo.placing(session, wanted, release.owner_id)
    missing = [song_id for song_id in wanted if song_id not in found]
    if missing:
        raise NotFound(
            "Song not found.", errors=[_field_error(SONG_IDS, f"No song {i}.") for i in missing]
        )
    theirs = [i for i in wanted if found[i].owner_id != release.owner_id]
    if theirs:
        raise Forbidden(
            "Only the release's owner's own songs can go on it.",
            errors=[_field_error(SONG_IDS, f"Song {i} is not yours.") for i in theirs],
        )
    elsewhere = [i for i in wanted if found[i].release_id not in (None, release.id)]
    if elsewhere:
        raise Conflict(
            "A song is on one release at most: take it off its release first.",
            errors=[_field_error(SONG_IDS, f"Song {i} is on another release.") for i in elsewhere],
        )
    new = [i for i in wanted if found[i].release_id is None]
    count, last = await repo.last_track(session, release.id)
    if count + len(new) > MAX_TRACKS:
        raise Conflict(
            f"A release holds at most {MAX_TRACKS} songs; this one has {count}.",
            errors=[_field_error(SONG_IDS, f"At most {MAX_TRACKS - count} more.")],
        )
    placed = await repo.place(session, release.id, release.owner_id, new, last)
    if len(placed) != len(new):
        # Placed on another release since they were read.
        raise Conflict(
            "A song is on one release at most: take it off its release first.",
            errors=[
                _field_error(SONG_IDS, f"Song {i} is on another release.")
                for i in new
                if i not in placed
            ],
        )
    log.info("release_songs_placed", release_id=str(release.id), songs=len(new))


async def detail(
    session: AsyncSession,
    counters: Counters,
    release_id: uuid.UUID,
    *,
    viewer_id: uuid.UUID | None,
) -> Detail:
    """The release and its songs ``viewer_id`` may see (None: those everyone sees), in
    track order. Whether the caller may see the release is the route's dependency's to
    decide."""
    card = await repo.card(session, release_id, viewer_id)
    if card is None:
        raise NotFound("Release not found.")  # deleted since the route found it
    rows = await repo.songs(session, release_id, viewer_id, MAX_TRACKS)
    return Detail(card=card, songs=await read_cards(counters, rows))


def _forget_answers(session: AsyncSession, catalogue: RecentAnswers) -> None:
    # The catalogue's answers show each song's release.
    after_commit(session, catalogue.clear)


async def create(
    session: AsyncSession,
    storage: Storage,
    counters: Counters,
    catalogue: RecentAnswers,
    owner_id: uuid.UUID,
    data: ReleaseCreate,
    cover: bytes | None,
    max_cover_bytes: int,
) -> Detail:
    """A new release of the caller's, with its cover and first songs if given. Every song
    must be theirs and on no other release, or nothing is created."""
    thumbnail_key = None
    if cover is not None:
        thumbnail_key = await store_cover(session, storage, cover, max_cover_bytes)
    release = await create_release(
        session,
        owner_id=owner_id,
        title=data.title,
        kind=data.kind,
        year=data.year,
        thumbnail_key=thumbnail_key,
    )
    if data.song_ids:
        await place_songs(session, release, data.song_ids)
        _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=owner_id)


async def update(
    session: AsyncSession,
    counters: Counters,
    catalogue: RecentAnswers,
    release: Release,
    data: ReleaseUpdate,
) -> Detail:
    """Change the title, kind or year — nothing else can be written."""
    values: dict[str, Any] = {**data.values(), "updated_at": utcnow()}
    if "kind" in values:
        values["kind"] = values["kind"].value
    if not await repo.change(session, release.id, values):
        raise NotFound("Release not found.")
    _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def replace_cover(
    session: AsyncSession,
    storage: Storage,
    queue: Queue,
    counters: Counters,
    release: Release,
    cover: bytes,
    max_cover_bytes: int,
) -> Detail:
    """A new cover; the old one's files go once the change commits. If another change
    replaced it first, this one is refused (409) and its new files removed, so none is
    orphaned."""
    swap = (release.thumbnail_key, await store_cover(session, storage, cover, max_cover_bytes))
    if not await repo.change(session, release.id, {"updated_at": utcnow()}, cover=swap):
        raise Conflict("The release changed meanwhile; try again.")
    if swap[0] is not None:
        queue.enqueue_after_commit(session, "songs.delete_files", [cover_folder(swap[0])])
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def add_songs(
    session: AsyncSession,
    counters: Counters,
    catalogue: RecentAnswers,
    release: Release,
    song_ids: Sequence[uuid.UUID],
) -> Detail:
    """Append the owner's songs after the last track, in the order given
    (``place_songs``)."""
    await place_songs(session, release, list(song_ids))
    _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def remove_song(
    session: AsyncSession,
    counters: Counters,
    catalogue: RecentAnswers,
    release: Release,
    song_id: uuid.UUID,
) -> Detail:
    """Take a song off the release: it is a single again, and the tracks after it move up
    one. A song not on the release is 404."""
    if not await repo.lock(session, release.id, utcnow()):
        raise NotFound("Release not found.")
    if not await repo.take_off(session, release.id, song_id):
        raise NotFound(
            "That song is not on this release.",
            errors=[_field_error("songId", f"Song {song_id} is not on the release.")],
        )
    _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def reorder(
    session: AsyncSession,
    counters: Counters,
    catalogue: RecentAnswers,
    release: Release,
    song_ids: Sequence[uuid.UUID],
) -> Detail:
    """Put the release's songs in a new order, tracks 1 to n. Every song on it must be
    named once (hidden ones too: the owner sees them), and no other."""
    if not await repo.lock(session, release.id, utcnow()):
        raise NotFound("Release not found.")
    present = await repo.tracks(session, release.id)
    given, held = set(song_ids), set(present)
    missing = [i for i in present if i not in given]
    extra = [i for i in song_ids if i not in held]
    if missing or extra:
        raise BadRequest(
            "Give every song of the release once, in the new order.",
            errors=[_field_error(SONG_IDS, f"Song {i} is missing.") for i in missing]
            + [_field_error(SONG_IDS, f"Song {i} is not on the release.") for i in extra],
        )
    await repo.renumber(session, release.id, song_ids)
    _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def move_song(
    session: AsyncSession,
    counters: Counters,
    catalogue: RecentAnswers,
    release: Release,
    song_id: uuid.UUID,
    step: int,
) -> Detail:
    """Move a song ``step`` places later in the track order (earlier when negative),
    stopping at either end: the web app's up and down buttons."""
    if not await repo.lock(session, release.id, utcnow()):
        raise NotFound("Release not found.")
    order = await repo.tracks(session, release.id)
    if song_id not in order:
        raise NotFound(
            "That song is not on this release.",
            errors=[_field_error("songId", f"Song {song_id} is not on the release.")],
        )
    place = min(max(order.index(song_id) + step, 0), len(order) - 1)
    order.remove(song_id)
    order.insert(place, song_id)
    await repo.renumber(session, release.id, order)
    _forget_answers(session, catalogue)
    return await detail(session, counters, release.id, viewer_id=release.owner_id)


async def singles(
    session: AsyncSession, counters: Counters, owner_id: uuid.UUID, limit: int
) -> list[SongCard]:
    """The owner's newest songs on no release, what they may add to one, as the one
    reader gives them."""
    return await read_cards(counters, await repo.singles(session, owner_id, limit))


async def remove(
    session: AsyncSession, queue: Queue, catalogue: RecentAnswers, release: Release
) -> None:
    """Delete the release in this transaction; its songs stay, as singles. Its cover's
    files go only after it commits, so a failed delete never leaves a row without them."""
    keys = await repo.delete_release(session, release.id)
    if keys is None:
        raise NotFound("Release not found.")
    if keys:
        queue.enqueue_after_commit(session, "songs.delete_files", [cover_folder(keys[0])])
    _forget_answers(session, catalogue)
    log.info("release_deleted", release_id=str(release.id))


async def newest_page(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID | None,
    owner_id: uuid.UUID | None = None,
    page: int,
    limit: int,
    cursor: str | None = None,
) -> Listing:
    """Releases ``viewer_id`` may see (None: those everyone sees), of ``owner_id`` if
    given, newest first, by page number or by ``cursor`` (then the page number is
    ignored)."""
    before = decode_id(cursor) if cursor else None
    offset = 0 if before else (page - 1) * limit
    total = await repo.count(session, viewer_id=viewer_id, owner_id=owner_id)
    if offset >= total:
        # Past the end: nothing to fetch, and no absurd OFFSET for the database to refuse.
        return Listing(cards=[], total=total, by_cursor=before is not None)
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
    return Listing(cards=cards, total=total, next_cursor=next_cursor, by_cursor=before is not None)
