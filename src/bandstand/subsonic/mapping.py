"""How Bandstand's things appear to music apps, and the ids they go by there.

Subsonic's model is artist → album → song. Bandstand's is:

* artist = the account that uploaded the songs (its name is the account's full name, its
  picture the avatar);
* album = a release (album, EP or single), or, for a song on no release, a "single" album
  of that one song;
* song = a song, as the one reader gives it (``songs.cards.read_cards``: its play count is
  the REST API's ``views``, with what is still pending), read by ``repository.song_rows``.

Ids: opaque strings to the apps, each kind in a form of its own, so no two kinds collide
and the kind is read off the id (``parse_id``)::

    <uuid>        a song: its own id, as the REST API writes it
    al-<uuid>     an album that is a release (the release's id)
    sg-<uuid>     the single album of a song on no release (the song's id)
    ar-<uuid>     an artist (the account's id)
    pl-<uuid>     a playlist (the playlist's id)
    1             the one music folder, "Bandstand"

Cover art ids name the thing pictured, then ``_`` and a short tag of the stored picture,
which changes when the picture does, so an app that caches covers by id fetches the new
one: ``<uuid>_<tag>`` a song's cover, ``al-<uuid>_<tag>`` a release's (its own cover, or its
first song's), ``sg-<uuid>_<tag>`` a single's (its song's), ``ar-<uuid>_<tag>`` an artist's
(the avatar), ``pl-<uuid>_<tag>`` a playlist's. ``parse_cover_art`` takes them with or
without the tag (apps also ask for a cover by the plain album or song id).

Every dict here is built in the order the schema's sequences want its child elements
(tests/subsonic/subsonic-rest-api.xsd): attributes first, then ``genres``, ``artists`` ...
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bandstand.kit.time import as_utc
from bandstand.media.audio import FORMATS
from bandstand.songs.cards import Owner, SongCard

FOLDER_ID = 1
FOLDER_NAME = "Bandstand"
# Leading words an artist index sorts without ("The Beatles" under B).
IGNORED_ARTICLES = ("The", "El", "La", "Los", "Las", "Le", "Les")
_RELEASE_TYPES = {"album": "Album", "ep": "EP", "single": "Single"}


class Kind(StrEnum):
    SONG = "song"
    RELEASE = "release"
    SINGLE = "single"
    ARTIST = "artist"
    PLAYLIST = "playlist"


_PREFIXES = {"al-": Kind.RELEASE, "sg-": Kind.SINGLE, "ar-": Kind.ARTIST, "pl-": Kind.PLAYLIST}


@dataclass(frozen=True, slots=True)
class Ref:
    """What an id names: its kind, and the uuid of the thing (a single's is its song's)."""

    kind: Kind
    id: uuid.UUID


# --- ids ------------------------------------------------------------------------------


def song_id(song: uuid.UUID) -> str:
    return str(song)


def release_id(release: uuid.UUID) -> str:
    return f"al-{release}"


def single_id(song: uuid.UUID) -> str:
    return f"sg-{song}"


def artist_id(user: uuid.UUID) -> str:
    return f"ar-{user}"


def playlist_id(playlist: uuid.UUID) -> str:
    return f"pl-{playlist}"


def parse_id(text: str | None) -> Ref | None:
    """The thing an id names, or None for anything that is not one of ours."""
    if not text or len(text) > 64:
        return None
    kind = Kind.SONG
    for prefix, prefixed in _PREFIXES.items():
        if text.startswith(prefix):
            kind, text = prefixed, text[len(prefix) :]
            break
    try:
        return Ref(kind, uuid.UUID(text))
    except ValueError:
        return None


def _tag(key: str) -> str:
    return hashlib.blake2s(key.encode(), digest_size=4).hexdigest()


def cover_art_id(thing: str, key: str | None) -> str | None:
    """The cover art id of the picture stored at ``key`` of the thing with id ``thing``."""
    return f"{thing}_{_tag(key)}" if key else None


def parse_cover_art(text: str | None) -> Ref | None:
    """What a cover art id pictures (its tag, if any, is not needed to find it)."""
    if not text:
        return None
    return parse_id(text.split("_", 1)[0])


# --- albums ---------------------------------------------------------------------------


def artist_name(owner: Owner) -> str:
    return owner.fullname or owner.username


def album_id_of(song: Any) -> str:
    """The album a song row is on: its release, or its own single."""
    return release_id(song.release_id) if song.release_id else single_id(song.id)


@dataclass
class Album:
    """An album as the apps see it, made from its songs' cards (``albums_of``), so its
    counts are theirs: songs the caller may not see are not in it, and an album none of
    whose songs may be seen does not exist."""

    id: str
    release_id: uuid.UUID | None
    name: str
    kind: str
    year: int | None
    created: datetime
    owner: Owner
    # The stored cover: the release's own, or its first song's.
    cover_key: str
    songs: list[SongCard] = field(default_factory=list)

    @property
    def cover_art(self) -> str | None:
        return cover_art_id(self.id, self.cover_key)

    @property
    def duration(self) -> int:
        return sum(_seconds(card.song.duration) for card in self.songs)

    @property
    def play_count(self) -> int:
        return sum(card.views for card in self.songs)

    @property
    def genres(self) -> list[str]:
        """Its songs' genres, each once, in track order."""
        return list(dict.fromkeys(c.song.genre for c in self.songs if c.song.genre))

    @property
    def genre(self) -> str | None:
        """The genre most of its songs have (the first of them on a tie)."""
        counted = Counter(c.song.genre for c in self.songs if c.song.genre)
        return max(counted, key=lambda g: (counted[g], -self.genres.index(g))) if counted else None


def _album_of(card: SongCard) -> Album:
    song = card.song
    if song.release_id is None:
        return Album(
            id=single_id(song.id),
            release_id=None,
            name=song.title,
            kind="single",
            year=as_utc(song.created_at).year,
            created=song.created_at,
            owner=card.owner,
            cover_key=song.thumbnail_key,
        )
    return Album(
        id=release_id(song.release_id),
        release_id=song.release_id,
        name=song.release_title,
        kind=song.release_kind,
        year=song.release_year or as_utc(song.release_created_at).year,
        created=song.release_created_at,
        owner=card.owner,
        cover_key=song.release_thumbnail_key or song.thumbnail_key,
    )


def albums_of(cards: Iterable[SongCard]) -> list[Album]:
    """The albums of the cards (rows of ``repository.song_rows``, read by the one reader),
    in the order each first appears, each with its songs in the order given."""
    albums: dict[str, Album] = {}
    for card in cards:
        key = album_id_of(card.song)
        album = albums.get(key)
        if album is None:
            album = albums[key] = _album_of(card)
        album.songs.append(card)
    return list(albums.values())


# --- what the apps are answered -------------------------------------------------------


def _seconds(duration: float) -> int:
    return round(duration)


def _segment(name: str) -> str:
    """A name as one segment of a path."""
    return name.replace("/", "_").replace("\\", "_")


def _peak(true_peak_dbtp: float | None) -> float | None:
    """A true peak in dBTP as ReplayGain's linear peak (1.0 is full scale)."""
    return None if true_peak_dbtp is None else round(10 ** (true_peak_dbtp / 20), 6)


def _named(owner: Owner) -> dict[str, Any]:
    """An artist as OpenSubsonic's song and album lists name one: its id and name only."""
    return {"id": artist_id(owner.id), "name": artist_name(owner)}


def replay_gain(song: Any) -> dict[str, Any]:
    """OpenSubsonic's ``replayGain``: ``trackGain`` is the gain Bandstand measured for the
    song (towards −14 LUFS, held back so its true peak stays under −1 dBTP:
    ``media/loudness.py``), ``trackPeak`` its true peak, linear. Empty (but present, as the
    extension asks) until the song is measured."""
    return {
        "trackGain": None if song.gain_db is None else round(song.gain_db, 2),
        "trackPeak": _peak(song.true_peak_dbtp),
    }


def child(card: SongCard) -> dict[str, Any]:
    """A song as Subsonic's ``Child``: a row of ``repository.song_rows`` read by the one
    reader (its ``playCount`` is the REST API's ``views``; ``starred`` is when the caller
    liked it; ``userRating`` the caller's rating)."""
    song = card.song
    owner = card.owner
    fmt = FORMATS.get(song.audio_format)
    album = album_id_of(song)
    album_name = song.release_title if song.release_id else song.title
    artist = artist_name(owner)
    suffix = fmt.extension if fmt else song.audio_format
    on_release = song.release_id is not None
    # A release's year, else the year it (or, for a single, the song) was put up.
    made = song.release_created_at if on_release else song.created_at
    year = (song.release_year if on_release else None) or as_utc(made).year
    return {
        "id": song_id(song.id),
        "parent": album,
        "isDir": False,
        "title": song.title,
        "album": album_name,
        "artist": artist,
        "track": song.track if on_release else 1,
        "year": year,
        "genre": song.genre or None,
        "coverArt": cover_art_id(song_id(song.id), song.thumbnail_key),
        "size": song.audio_size,
        "contentType": fmt.content_type if fmt else None,
        "suffix": suffix,
        "duration": _seconds(song.duration),
        "bitRate": round(song.bitrate / 1000) if song.bitrate else None,
        "samplingRate": song.sample_rate,
        "channelCount": song.channels,
        "path": f"{_segment(artist)}/{_segment(album_name)}/{_segment(song.title)}.{suffix}",
        "isVideo": False,
        "userRating": song.user_rating or None,
        "playCount": card.views,
        "created": song.created_at,
        "starred": song.starred_at,
        "albumId": album,
        "artistId": artist_id(owner.id),
        "type": "music",
        "mediaType": "song",
        "displayArtist": song.artist or artist,
        "displayAlbumArtist": artist,
        "genres": [{"name": song.genre}] if song.genre else [],
        "artists": [_named(owner)],
        "albumArtists": [_named(owner)],
        "replayGain": replay_gain(song),
    }


def children(cards: Sequence[SongCard]) -> list[dict[str, Any]]:
    return [child(card) for card in cards]


def album(found: Album) -> dict[str, Any]:
    """An album as Subsonic's ``AlbumID3`` (with OpenSubsonic's additions)."""
    return {
        "id": found.id,
        "name": found.name,
        "artist": artist_name(found.owner),
        "artistId": artist_id(found.owner.id),
        "coverArt": found.cover_art,
        "songCount": len(found.songs),
        "duration": found.duration,
        "playCount": found.play_count,
        "created": found.created,
        "year": found.year,
        "genre": found.genre,
        "displayArtist": artist_name(found.owner),
        "isCompilation": False,
        "genres": [{"name": name} for name in found.genres],
        "artists": [_named(found.owner)],
        "releaseTypes": [_RELEASE_TYPES.get(found.kind, "Album")],
    }


def album_with_songs(found: Album) -> dict[str, Any]:
    """``AlbumWithSongsID3``: the album, then its songs in track order."""
    return {**album(found), "song": children(found.songs)}


def album_as_child(found: Album) -> dict[str, Any]:
    """An album as a folder ``Child`` (``getMusicDirectory`` of an artist, the older
    ``getAlbumList``)."""
    return {
        "id": found.id,
        "parent": artist_id(found.owner.id),
        "isDir": True,
        "title": found.name,
        "album": found.name,
        "artist": artist_name(found.owner),
        "year": found.year,
        "genre": found.genre,
        "coverArt": found.cover_art,
        "duration": found.duration,
        "playCount": found.play_count,
        "created": found.created,
        "albumId": found.id,
        "artistId": artist_id(found.owner.id),
        "mediaType": "album",
    }


# --- artists --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Artist:
    """An account as an artist: the albums the caller may see of theirs."""

    owner: Owner
    album_count: int
    # The avatar's URL (a public file), for ``artistImageUrl``.
    image_url: str | None


def artist(found: Artist) -> dict[str, Any]:
    """An artist as Subsonic's ``ArtistID3``."""
    own_id = artist_id(found.owner.id)
    return {
        "id": own_id,
        "name": artist_name(found.owner),
        "coverArt": cover_art_id(own_id, found.owner.avatar_key),
        "artistImageUrl": found.image_url,
        "albumCount": found.album_count,
    }


def artist_as_child(found: Artist) -> dict[str, Any]:
    """An artist as a folder ``Child`` of the music folder (``getMusicDirectory``)."""
    own_id = artist_id(found.owner.id)
    return {
        "id": own_id,
        "parent": str(FOLDER_ID),
        "isDir": True,
        "title": artist_name(found.owner),
        "artist": artist_name(found.owner),
        "coverArt": cover_art_id(own_id, found.owner.avatar_key),
        "artistId": own_id,
        "mediaType": "artist",
    }


def sort_name(name: str) -> str:
    """The name an index files an artist under: without a leading article, folded."""
    words = name.split(maxsplit=1)
    if len(words) == 2 and words[0].lower() in {a.lower() for a in IGNORED_ARTICLES}:
        name = words[1]
    return name.casefold()


def _letter(name: str) -> str:
    first = unicodedata.normalize("NFKD", sort_name(name)[:1] or "#")[:1].upper()
    return first if "A" <= first <= "Z" else "#"


def index(artists: Iterable[Artist]) -> list[dict[str, Any]]:
    """Artists by first letter (``#`` for the rest), each letter's in name order, as
    ``getArtists`` and ``getIndexes`` list them."""
    ordered = sorted(artists, key=lambda a: (sort_name(artist_name(a.owner)), str(a.owner.id)))
    letters: dict[str, list[dict[str, Any]]] = {}
    for found in ordered:
        letters.setdefault(_letter(artist_name(found.owner)), []).append(artist(found))
    return [{"name": letter, "artist": letters[letter]} for letter in sorted(letters)]


def ignored_articles() -> str:
    return " ".join(IGNORED_ARTICLES)
