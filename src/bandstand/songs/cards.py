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
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import aliased

from bandstand.engagement.counters import COMMENTS, LIKES, SONG, VIEWS, Counters
from bandstand.models import Song, SongStats, User
from bandstand.models.song import stat

# A song's owner, under a name of its own: a statement over songs may read ``users`` for
# someone else too (a playlist's owner, a comment's author), and whether the owner is
# banned decides whether the song is seen (``songs.repository.listed``).
OWNER = aliased(User, name="song_owner")

# A song as lists show it: its own columns and its owner's public summary, flat, read by
# Core without building ORM objects (the catalogue is the busiest read). The statement
# joins ``OWNER``.
CARD_COLUMNS = (
    *Song.__table__.c,
    stat(SongStats.views).label("views"),
    stat(SongStats.like_count).label("like_count"),
    stat(SongStats.comment_count).label("comment_count"),
    OWNER.username.label("owner_username"),
    OWNER.fullname.label("owner_fullname"),
    OWNER.avatar_key.label("owner_avatar_key"),
)


@dataclass(frozen=True, slots=True)
class Owner:
    """A song owner's public summary (never an email)."""

    id: uuid.UUID
    username: str
    fullname: str
    avatar_key: str | None


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


def _owner(song: Any) -> Owner:
    if isinstance(song, Song):
        user = song.owner
        return Owner(user.id, user.username, user.fullname, user.avatar_key)
    return Owner(song.owner_id, song.owner_username, song.owner_fullname, song.owner_avatar_key)


async def read_cards(counters: Counters, songs: Sequence[Any]) -> list[SongCard]:
    """Songs as answers show them, in the order given, each with its pending counter
    deltas added (one call to the counter store for all of them). ``songs`` are ORM
    ``Song``s with their owner loaded, or rows of ``CARD_COLUMNS``."""
    pending = await counters.pending(SONG, [song.id for song in songs]) if songs else {}
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
            )
        )
    return cards


async def read_card(counters: Counters, song: Song) -> SongCard:
    """One song as answers show it (``read_cards`` of one)."""
    (card,) = await read_cards(counters, [song])
    return card
