"""The one way ``/rest`` reads songs: rows of ``repository.song_rows`` through the one
reader (``songs.cards.read_cards``), so every number an app is shown is the REST API's,
pending counts included. Albums and artists are made from what it reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select

from bandstand.songs.cards import Owner, SongCard, read_cards
from bandstand.subsonic import mapping
from bandstand.subsonic import repository as repo
from bandstand.subsonic.registry import Call


async def songs(call: Call, stmt: Select[Any]) -> list[SongCard]:
    """The songs ``stmt`` (a ``repository.song_rows`` select) finds, as cards."""
    return await read_cards(call.counters, await repo.rows(call.session, stmt))


async def albums(call: Call, stmt: Select[Any]) -> list[mapping.Album]:
    """The albums of the songs ``stmt`` finds, in the order their songs come."""
    return mapping.albums_of(await songs(call, stmt))


def artist(call: Call, owner: Owner, album_count: int) -> mapping.Artist:
    return mapping.Artist(owner, album_count, call.links.avatar(owner.avatar_key))


async def artists(call: Call) -> tuple[list[mapping.Artist], datetime | None]:
    """Every artist with a song the caller may hear, and when the newest of those songs
    last changed."""
    found = await repo.artists(call.session, call.me.user_id)
    changed = max((row.changed for row in found if row.changed is not None), default=None)
    return [artist(call, row.owner, row.album_count) for row in found], changed
