"""Playlists: ``getPlaylists``, ``getPlaylist``, ``createPlaylist``, ``updatePlaylist`` and
``deletePlaylist``, over Bandstand's own playlists.

Who sees a playlist is the REST API's rule (``playlists.repository.readable_by``, which
its ``visible_to`` reads by): everyone sees a public one unless a moderator hid it or its
owner is banned; its owner always sees it. What the caller may not see is error 70,
whether it exists or not. Changes go through the playlists service
(``playlists.service``), so they keep its rules (each song once, at most ``MAX_SONGS``,
only songs the owner may see, a cover's files removed with it), and only the owner may
make them (error 50 to anyone else who sees the playlist).

Where Subsonic and Bandstand differ: a playlist made from an app is private until its
owner makes it public (Subsonic's default; the REST API's is public), holds each song
once (a song added twice stays where it was), and ``getPlaylists`` lists the caller's
own playlists, then the newest ``OTHERS_SHOWN`` public ones of others (a public
platform has more than an app's playlist screen can hold).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bandstand.budgets import Family
from bandstand.models import Playlist
from bandstand.playlists import service
from bandstand.playlists.schemas import MAX_SONGS, PlaylistCreate, PlaylistUpdate
from bandstand.subsonic import annotating, mapping, reading
from bandstand.subsonic import repository as repo
from bandstand.subsonic.errors import NotAuthorized, NotFound, SubsonicError
from bandstand.subsonic.mapping import Kind
from bandstand.subsonic.params import BadParameter, Params
from bandstand.subsonic.registry import Call, method
from bandstand.subsonic.render import Payload

# The caller's own playlists listed at most (newest first), and others' public ones.
OWN_SHOWN = 1000
OTHERS_SHOWN = 100
Model = TypeVar("Model", bound=BaseModel)
# The service's fields, by the parameter that sets them.
_PARAMETERS = {"name": "name", "description": "comment", "isPublic": "public", "songIds": "songId"}


def _playlist(row: Any, viewer_id: uuid.UUID) -> dict[str, Any]:
    """A playlist (a row of ``annotating.playlists``) as Subsonic's ``Playlist``."""
    ident = mapping.playlist_id(row.id)
    return {
        "id": ident,
        "name": row.name,
        "comment": row.description or None,
        "owner": row.owner_username,
        "public": row.is_public,
        "songCount": row.song_count,
        "duration": round(row.seconds or 0),
        "created": row.created_at,
        "changed": row.updated_at,
        "coverArt": mapping.cover_art_id(ident, row.cover_key),
        "readonly": row.owner_id != viewer_id,
    }


async def _with_songs(call: Call, playlist_id: uuid.UUID) -> Payload:
    """``getPlaylist``'s answer: the playlist and every song of it the caller may see."""
    me = call.me.user_id
    row = await annotating.playlist(call.session, me, playlist_id)
    if row is None:
        raise NotFound("Playlist not found.")
    cards = await reading.songs(call, annotating.playlist_songs(me, playlist_id))
    return {"playlist": {**_playlist(row, me), "entry": mapping.children(cards)}}


def _playlist_ref(call: Call, name: str) -> uuid.UUID:
    """The playlist the parameter ``name`` names (error 10 without it, 70 if it names
    none)."""
    ref = mapping.parse_id(call.params.required(name))
    if ref is None or ref.kind is not Kind.PLAYLIST:
        raise NotFound("Playlist not found.")
    return ref.id


async def _owned(call: Call, playlist_id: uuid.UUID) -> Playlist:
    """The playlist, if the caller may see it (else 70) and owns it (else 50): the REST
    API's ``visible_to`` then ``must_own``."""
    found = await annotating.playlist_to_change(call.session, call.me.user_id, playlist_id)
    if found is None:
        raise NotFound("Playlist not found.")
    if found.owner_id != call.me.user_id:
        raise NotAuthorized("Only the playlist's owner can change it.")
    return found


def _song_ids(call: Call, name: str) -> list[uuid.UUID]:
    """The songs the repeatable parameter ``name`` names, each once, in order (error 70
    for an id that names no song)."""
    given = [value for value in call.params.all(name) if value != ""]
    if len(given) > MAX_SONGS:
        raise BadParameter(name, f"at most {MAX_SONGS} songs")
    ids = []
    for text in given:
        ref = mapping.parse_id(text)
        if ref is None or ref.kind is not Kind.SONG:
            raise NotFound("Song not found.")
        ids.append(ref.id)
    return list(dict.fromkeys(ids))


def _indexes(call: Call, name: str) -> list[int]:
    """Every value of the repeatable parameter ``name``, each a whole number from 0."""
    found = []
    for value in call.params.all(name):
        if value != "":
            found.append(Params([(name, value)]).integer(name, minimum=0, maximum=MAX_SONGS) or 0)
    return found


def _valid(model: type[Model], **fields: Any) -> Model:
    """The service's input, or error 0 naming the parameter that is wrong."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        name = _PARAMETERS.get(field, field)
        reason = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
        raise SubsonicError(f"Invalid value for parameter '{name}': {reason}.") from exc


@method("getPlaylists")
async def get_playlists(call: Call) -> Payload:
    """The caller's playlists, then others' public ones, each newest first. An admin may
    ask for another user's (``username``): those the admin may see, as on the REST API
    (a private playlist stays its owner's alone)."""
    me = call.me
    wanted = call.params.text("username", max_length=254)
    session = call.session
    if wanted and wanted.strip().lower() != me.username.lower():
        if not me.is_admin:
            raise NotAuthorized("Only an admin may list another user's playlists.")
        user = await repo.user_named(session, wanted)
        if user is None:
            raise NotFound("User not found.")
        rows = await annotating.playlists(session, me.user_id, owner_id=user.id, limit=OWN_SHOWN)
    else:
        own = await annotating.playlists(session, me.user_id, owner_id=me.user_id, limit=OWN_SHOWN)
        others = await annotating.playlists(
            session, me.user_id, not_owner_id=me.user_id, limit=OTHERS_SHOWN
        )
        rows = [*own, *others]
    return {"playlists": {"playlist": [_playlist(row, me.user_id) for row in rows]}}


@method("getPlaylist")
async def get_playlist(call: Call) -> Payload:
    """A playlist the caller may see, with its songs in order."""
    return await _with_songs(call, _playlist_ref(call, "id"))


async def _replace_songs(call: Call, playlist: Playlist, wanted: list[uuid.UUID]) -> None:
    """Make the songs the owner sees in the playlist ``wanted``, in that order: those
    already in place stay, the rest go and come back at the end in the order given."""
    current = await annotating.playlist_song_ids(call.session, playlist.owner_id, playlist.id)
    kept = 0
    while kept < min(len(current), len(wanted)) and current[kept] == wanted[kept]:
        kept += 1
    for song_id in current[kept:]:
        await service.remove_song(call.session, call.counters, playlist, song_id)
    if wanted[kept:]:
        await service.add_songs(call.session, call.counters, playlist, wanted[kept:])


@method("createPlaylist", writes=True, budget=Family.PLAYLISTS)
async def create_playlist(call: Call) -> Payload:
    """A new private playlist (``name``, and ``songId`` for its songs); or, with
    ``playlistId``, the owner's playlist given exactly the songs ``songId`` lists (and
    ``name``, if given). Answers the playlist."""
    song_ids = _song_ids(call, "songId")
    name = call.params.get("name") or None
    if call.params.get("playlistId"):
        playlist = await _owned(call, _playlist_ref(call, "playlistId"))
        renamed = _valid(PlaylistUpdate, name=name) if name is not None else None
        await _replace_songs(call, playlist, song_ids)
        if renamed is not None:
            await _update(call, playlist, renamed)
        return await _with_songs(call, playlist.id)
    name = call.params.required("name")
    data = _valid(PlaylistCreate, name=name, isPublic=False, songIds=song_ids or None)
    settings = call.settings
    made = await service.create(
        call.session,
        call.parts.storage,
        call.counters,
        call.me.user_id,
        data,
        None,
        settings.image_max_bytes,
    )
    return await _with_songs(call, made.card.id)


async def _update(call: Call, playlist: Playlist, data: PlaylistUpdate) -> None:
    await service.update(
        call.session,
        call.parts.storage,
        call.parts.queue,
        call.counters,
        playlist,
        data,
        None,
        call.settings.image_max_bytes,
    )


@method("updatePlaylist", writes=True, budget=Family.PLAYLISTS)
async def update_playlist(call: Call) -> Payload:
    """The owner changes a playlist: ``name``, ``comment``, ``public``, songs to add at
    the end (``songIdToAdd``) and songs to remove by their place in it, counted from 0
    (``songIndexToRemove``, as ``getPlaylist`` lists them). Removals come first; all is
    checked before anything changes."""
    playlist_id = _playlist_ref(call, "playlistId")
    params = call.params
    name = params.get("name") or None
    comment = params.get("comment")
    public = params.boolean("public", False) if params.get("public") else None
    to_add = _song_ids(call, "songIdToAdd")
    to_remove = _indexes(call, "songIndexToRemove")
    changes = None
    if name is not None or comment is not None or public is not None:
        changes = _valid(PlaylistUpdate, name=name, description=comment, isPublic=public)
    playlist = await _owned(call, playlist_id)
    if to_remove:
        current = await annotating.playlist_song_ids(call.session, playlist.owner_id, playlist.id)
        if any(index >= len(current) for index in to_remove):
            last = f"from 0 to {len(current) - 1}" if current else "none: it is empty"
            raise BadParameter("songIndexToRemove", f"a place in the playlist ({last})")
        for song_id in dict.fromkeys(current[index] for index in to_remove):
            await service.remove_song(call.session, call.counters, playlist, song_id)
    if to_add:
        await service.add_songs(call.session, call.counters, playlist, to_add)
    if changes is not None:
        await _update(call, playlist, changes)
    return {}


@method("deletePlaylist", writes=True, budget=Family.PLAYLISTS)
async def delete_playlist(call: Call) -> Payload:
    """The owner deletes a playlist (its cover's files go once that commits)."""
    playlist = await _owned(call, _playlist_ref(call, "id"))
    await service.remove(call.session, call.parts.queue, playlist)
    return {}
