"""Browsing: ``getIndexes`` and ``getMusicDirectory`` (the folder view older apps use),
``getArtists``, ``getArtist``, ``getAlbum``, ``getSong`` (the ID3 view) and ``getGenres``.

Everything is read as the caller may see it (``reading.py``): an artist is an account
with a song the caller may hear, an album a release with such a song (or such a song on
no release), and what is not there is error 70, whether it never existed or is hidden.
"""

from __future__ import annotations

from datetime import datetime

from bandstand.kit.time import as_utc
from bandstand.subsonic import mapping, reading
from bandstand.subsonic import repository as repo
from bandstand.subsonic.errors import NotFound
from bandstand.subsonic.mapping import Kind, Ref
from bandstand.subsonic.registry import Call, method
from bandstand.subsonic.render import Payload


def _ref(call: Call, *kinds: Kind) -> Ref:
    """The ``id`` parameter, if it names one of ``kinds``; else error 70."""
    ref = mapping.parse_id(call.params.required("id"))
    if ref is None or ref.kind not in kinds:
        raise NotFound
    return ref


def _in_folder(call: Call) -> bool:
    """Whether ``musicFolderId``, if given, is the one folder there is."""
    folder = call.params.integer("musicFolderId")
    return folder is None or folder == mapping.FOLDER_ID


def _millis(moment: datetime | None) -> int:
    return int(as_utc(moment).timestamp() * 1000) if moment is not None else 0


@method("getIndexes")
async def get_indexes(call: Call) -> Payload:
    """Artists by letter, as folders. ``lastModified`` is when the newest of their songs
    changed: with ``ifModifiedSince`` at or after it, the artists are left out."""
    since = call.params.integer("ifModifiedSince", minimum=0)
    artists, changed = await reading.artists(call) if _in_folder(call) else ([], None)
    modified = _millis(changed)
    indexes = {"lastModified": modified, "ignoredArticles": mapping.ignored_articles()}
    if since is None or modified > since:
        indexes["index"] = mapping.index(artists)
    return {"indexes": indexes}


@method("getArtists")
async def get_artists(call: Call) -> Payload:
    artists, _ = await reading.artists(call) if _in_folder(call) else ([], None)
    return {
        "artists": {
            "ignoredArticles": mapping.ignored_articles(),
            "index": mapping.index(artists),
        }
    }


async def _artist_albums(call: Call, ref: Ref) -> list[mapping.Album]:
    albums = await reading.albums(call, repo.artist_songs(call.me.user_id, ref.id))
    if not albums:
        raise NotFound("Artist not found.")
    return albums


async def _album(call: Call, ref: Ref) -> mapping.Album:
    albums = await reading.albums(call, repo.album_songs(call.me.user_id, ref))
    if not albums:
        raise NotFound("Album not found.")
    return albums[0]


@method("getArtist")
async def get_artist(call: Call) -> Payload:
    """An artist and their albums, newest first."""
    albums = await _artist_albums(call, _ref(call, Kind.ARTIST))
    found = mapping.artist(reading.artist(call, albums[0].owner, len(albums)))
    return {"artist": {**found, "album": [mapping.album(album) for album in albums]}}


@method("getAlbum")
async def get_album(call: Call) -> Payload:
    """An album (a release, or a single) and its songs in track order."""
    album = await _album(call, _ref(call, Kind.RELEASE, Kind.SINGLE))
    return {"album": mapping.album_with_songs(album)}


@method("getSong")
async def get_song(call: Call) -> Payload:
    ref = _ref(call, Kind.SONG)
    cards = await reading.songs(call, repo.one_song(call.me.user_id, ref.id))
    if not cards:
        raise NotFound("Song not found.")
    return {"song": mapping.child(cards[0])}


@method("getMusicDirectory")
async def get_music_directory(call: Call) -> Payload:
    """A folder: the music folder holds the artists, an artist their albums, an album its
    songs."""
    raw = call.params.required("id")
    if raw == str(mapping.FOLDER_ID):
        artists, _ = await reading.artists(call)
        return {
            "directory": {
                "id": raw,
                "name": mapping.FOLDER_NAME,
                "child": [mapping.artist_as_child(artist) for artist in artists],
            }
        }
    ref = _ref(call, Kind.ARTIST, Kind.RELEASE, Kind.SINGLE)
    if ref.kind is Kind.ARTIST:
        albums = await _artist_albums(call, ref)
        owner = albums[0].owner
        return {
            "directory": {
                "id": mapping.artist_id(owner.id),
                "parent": str(mapping.FOLDER_ID),
                "name": mapping.artist_name(owner),
                "playCount": sum(album.play_count for album in albums),
                "child": [mapping.album_as_child(album) for album in albums],
            }
        }
    album = await _album(call, ref)
    return {
        "directory": {
            "id": album.id,
            "parent": mapping.artist_id(album.owner.id),
            "name": album.name,
            "playCount": album.play_count,
            "child": mapping.children(album.songs),
        }
    }


@method("getGenres")
async def get_genres(call: Call) -> Payload:
    """Each genre of the songs the caller may hear, with its song and album counts."""
    found = await repo.genres(call.session, call.me.user_id)
    return {
        "genres": {
            "genre": [
                {"songCount": g.song_count, "albumCount": g.album_count, "value": g.name}
                for g in found
            ]
        }
    }
