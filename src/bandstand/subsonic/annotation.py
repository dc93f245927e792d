"""Stars, ratings and plays: ``star``, ``unstar``, ``setRating``, ``scrobble`` and
``getNowPlaying``.

A star is Bandstand's like and a scrobble is Bandstand's play, written by the same
services the REST API's routes call (``engagement.service``), so the rules are the same
wherever a listener acts: a like is one like however often it is given (and its counter
never drifts), a play counts as a view once per listener and song in the view window, the
owner's own plays are not counted, and every play tops the listener's history. Each
spends the budget of the route it stands for (a rating, which stands for none, the one
every other write spends).

Bandstand keeps likes and ratings for songs only: starring or rating an album or an
artist is refused (error 0) rather than turned into likes of their songs, which an
unstar could not tell apart from likes given one by one.

What a listener is playing now is theirs alone: the contract keeps who listens to what
from everyone else (no answer says who viewed a song), so ``getNowPlaying`` shows the
caller what their own apps said they started.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from bandstand.budgets import Family
from bandstand.engagement import service as engagement
from bandstand.kit.text import has_control_characters
from bandstand.kit.time import as_utc, utcnow
from bandstand.subsonic import annotating, mapping, reading
from bandstand.subsonic.errors import MissingParameter, NotFound, SubsonicError
from bandstand.subsonic.mapping import Kind
from bandstand.subsonic.params import BadParameter
from bandstand.subsonic.registry import Call, method
from bandstand.subsonic.render import Payload

# Songs one call may star, unstar or scrobble: far above what an app sends at once (one,
# or an offline queue), and a bound on what one call of the budget can cost.
MAX_IDS = 100
# How long an app's "now playing" stands without another word from it.
NOW_PLAYING_FOR = timedelta(minutes=10)
# The longest player name kept (``now_playing.client``).
MAX_PLAYER_NAME = 100
_SONGS_ONLY = "Bandstand keeps {what} for songs; {verb} the songs."
_ALBUMS_AND_ARTISTS = (Kind.RELEASE, Kind.SINGLE, Kind.ARTIST)


def _song_ids(call: Call, what: str, verb: str) -> list[uuid.UUID]:
    """The songs the repeatable ``id`` names, in order: error 10 with none, 70 for an id
    that names no song, 0 for an album or an artist (``albumId``, ``artistId``, or such
    an ``id``), which Bandstand keeps nothing of."""
    refused = _SONGS_ONLY.format(what=what, verb=verb)
    if any(call.params.all("albumId")) or any(call.params.all("artistId")):
        raise SubsonicError(refused)
    given = [value for value in call.params.all("id") if value != ""]
    if not given:
        raise MissingParameter("id")
    if len(given) > MAX_IDS:
        raise BadParameter("id", f"at most {MAX_IDS} ids")
    ids = []
    for text in given:
        ref = mapping.parse_id(text)
        if ref is not None and ref.kind in _ALBUMS_AND_ARTISTS:
            raise SubsonicError(refused)
        if ref is None or ref.kind is not Kind.SONG:
            raise NotFound("Song not found.")
        ids.append(ref.id)
    return ids


async def _seen(call: Call, ids: list[uuid.UUID]) -> None:
    """Error 70 unless the caller may see every one of the songs (checked before any is
    changed, so a call is done whole or not at all)."""
    seen = await annotating.seen_songs(call.session, call.me.user_id, ids)
    if any(song_id not in seen for song_id in ids):
        raise NotFound("Song not found.")


# A like is written and committed by the likes batcher (``engagement/likes.py``), as for
# the REST route, which takes no session either: the call's own session only reads.
@method("star", budget=Family.LIKES)
async def star(call: Call) -> Payload:
    """Like songs; a song liked already stays liked once."""
    ids = list(dict.fromkeys(_song_ids(call, "likes", "star")))
    await _seen(call, ids)
    me = call.me.user_id
    await asyncio.gather(*(engagement.like(call.parts.likes, me, song_id) for song_id in ids))
    return {}


@method("unstar", budget=Family.LIKES)
async def unstar(call: Call) -> Payload:
    """Withdraw likes; withdrawing one that is not there changes nothing."""
    ids = list(dict.fromkeys(_song_ids(call, "likes", "unstar")))
    await _seen(call, ids)
    me = call.me.user_id
    await asyncio.gather(*(engagement.unlike(call.parts.likes, me, song_id) for song_id in ids))
    return {}


@method("setRating", writes=True, budget=Family.WRITES)
async def set_rating(call: Call) -> Payload:
    """The caller's rating of a song, 1 to 5 stars; 0 removes it. Private to them (it
    shows as ``userRating`` on the songs they are shown)."""
    raw = call.params.required("id")
    rating = call.params.integer("rating", minimum=0, maximum=5, required=True)
    ref = mapping.parse_id(raw)
    if ref is not None and ref.kind in _ALBUMS_AND_ARTISTS:
        raise SubsonicError(_SONGS_ONLY.format(what="ratings", verb="rate"))
    if ref is None or ref.kind is not Kind.SONG:
        raise NotFound("Song not found.")
    await _seen(call, [ref.id])
    await annotating.rate(call.session, call.me.user_id, ref.id, rating or 0, utcnow())
    return {}


def _player(client: str) -> str:
    """The app's name for itself, as it may be stored and shown."""
    name = client.strip()[:MAX_PLAYER_NAME]
    return "" if has_control_characters(name) else name


@method("scrobble", writes=True, budget=Family.PLAYS)
async def scrobble(call: Call) -> Payload:
    """``submission=true`` (the default): each song was played, exactly as the REST play
    route counts a play (``engagement.service.play``: a view once per listener and song
    in the view window, never the owner's own, a history entry each time). ``time``,
    when the app says it was played, is checked but not believed: a play counts when it
    is told, so no app can move a play into another window. ``submission=false``: the
    app started playing the (last) song, which ``getNowPlaying`` shows."""
    ids = _song_ids(call, "plays", "scrobble")
    submission = call.params.boolean("submission", True)
    call.params.integer("time", minimum=0)
    me = call.me.user_id
    songs = await annotating.songs_to_play(call.session, me, set(ids))
    if any(song_id not in songs for song_id in ids):
        raise NotFound("Song not found.")
    if not submission:
        await annotating.now_playing(call.session, me, ids[-1], _player(call.client), utcnow())
        return {}
    for song_id in ids:
        await engagement.play(call.session, call.counters, call.settings, me, songs[song_id])
    return {}


@method("getNowPlaying")
async def get_now_playing(call: Call) -> Payload:
    """What the caller's apps said they started in the last ten minutes, if the caller
    may still see it."""
    now = utcnow()
    me = call.me
    stmt = annotating.playing(me.user_id, me.user_id, now - NOW_PLAYING_FOR)
    entries = []
    for card in await reading.songs(call, stmt):
        since = as_utc(card.song.playing_since)
        entries.append(
            {
                **mapping.child(card),
                "username": me.username,
                "minutesAgo": max(0, int((now - since).total_seconds() // 60)),
                "playerId": 0,
                "playerName": card.song.player or None,
            }
        )
    return {"nowPlaying": {"entry": entries}}
