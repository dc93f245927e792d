"""Media through the real client: ``stream`` with Range and the rendition ``maxBitRate``
and ``format`` choose, ``download`` as an attachment, ``getCoverArt`` at the nearest
stored size, all sent as the REST API sends files (by the proxy when offloading), none
of a banned artist's or a taken-down song's; and the lyrics methods, empty. Songs here
are rows with files stored under their keys (what processing writes is proven once, end
to end, at the bottom)."""

from __future__ import annotations

import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bandstand.media.images import COVER_SIZES
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import SONGS, uploaded
from tests.subsonic.support import (
    NS,
    REST,
    Listener,
    a_release,
    a_song,
    connected,
    db_id,
    error_of,
    json,
    listener,
    set_column,
    xml,
    xml_error,
)

ORIGINAL = bytes(range(256)) * 800  # 204,800 bytes
AAC = bytes(reversed(range(256))) * 100  # 25,600 bytes


@dataclass
class Stored:
    id: str
    audio_key: str
    progressive_key: str | None
    cover_folder: str


async def _cover(harness: Harness, folder: str) -> None:
    """A cover's files, one per size, each telling its size."""
    storage = harness.app.state.runtime.storage
    for size in COVER_SIZES:
        await storage.put(f"{folder}/{size}.webp", f"cover {folder} {size}".encode(), "image/webp")


async def stored_song(
    harness: Harness,
    owner: str,
    title: str = "Tune",
    *,
    processed: bool = True,
    fmt: str = "mp3",
    bitrate: int = 320_000,
    release: str | None = None,
) -> Stored:
    """A song row with its original (and, ``processed``, its AAC rendition) and its
    cover stored."""
    song_id = await a_song(harness, owner, title, fmt=fmt, bitrate=bitrate, release=release)
    [(audio_key, cover_key)] = await harness.sql(
        "SELECT audio_key, thumbnail_key FROM songs WHERE id = :id", id=db_id(harness, song_id)
    )
    storage = harness.app.state.runtime.storage
    await storage.put(audio_key, ORIGINAL, "audio/mpeg")
    progressive = None
    if processed:
        progressive = f"{audio_key.rsplit('/', 1)[0]}/aac160.m4a"
        await storage.put(progressive, AAC, "audio/mp4")
        await harness.sql(
            "UPDATE songs SET progressive_key = :key WHERE id = :id",
            key=progressive,
            id=db_id(harness, song_id),
        )
    folder = cover_key.rsplit("/", 1)[0]
    await _cover(harness, folder)
    return Stored(song_id, audio_key, progressive, folder)


@dataclass
class Scene:
    harness: Harness
    ava: Listener  # an artist
    fan: Listener
    song: Stored  # Ava's, processed
    fresh: Stored  # Ava's, still processing
    taken: Stored  # Ava's, taken down
    bea: Listener  # banned
    banned: Stored  # Bea's


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    bea = await listener(harness, "bea", "Bea Banned")
    song = await stored_song(harness, ava.id, "Tune")
    fresh = await stored_song(harness, ava.id, "Fresh", processed=False)
    taken = await stored_song(harness, ava.id, "Taken")
    await set_column(harness, "songs", "taken_down_at", taken.id, True)
    banned = await stored_song(harness, bea.id, "Banned")
    await set_column(harness, "users", "banned_at", bea.id, True)
    return Scene(harness, ava, fan, song, fresh, taken, bea, banned)


def _q(who: Listener, **params: Any) -> dict[str, Any]:
    return {**params, **who.auth}


async def test_stream_sends_the_original_with_range(scene: Scene, site: str) -> None:
    fan = scene.fan
    # Players fetch a stream by its URL (GET); behind the proxy a POST is sent as GET too.
    async with connected(site, fan.username, fan.secret, use_get=True) as app:
        whole = await app.stream(scene.song.id)
        assert whole.status == 200 and whole.headers["Content-Type"] == "audio/mpeg"
        assert whole.headers["Accept-Ranges"] == "bytes"
        assert await whole.read() == ORIGINAL
        part = await app.stream(scene.song.id, byte_range="bytes=1000-1999")
        assert part.status == 206
        assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(ORIGINAL)}"
        assert await part.read() == ORIGINAL[1000:2000]
        tail = await app.stream(scene.song.id, byte_range="bytes=-100")
        assert tail.status == 206 and await tail.read() == ORIGINAL[-100:]
    client = scene.harness.client()
    beyond = await client.get(
        f"{REST}/stream.view",
        params=_q(fan, id=scene.song.id),
        headers={"Range": f"bytes={len(ORIGINAL)}-"},
    )
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(ORIGINAL)}"


async def test_max_bit_rate_and_format_choose_the_file(scene: Scene) -> None:
    """The original is 320 kbit/s MP3; the rendition AAC at 160 kbit/s."""
    client = scene.harness.client()
    fan = scene.fan
    for params, expected in (
        ({}, ORIGINAL),
        ({"maxBitRate": 0}, ORIGINAL),
        ({"maxBitRate": 320}, ORIGINAL),
        ({"maxBitRate": 256}, AAC),
        ({"maxBitRate": 160}, AAC),
        # Nothing at 128 in one file (HLS holds 64): the smallest there is.
        ({"maxBitRate": 128}, AAC),
        ({"maxBitRate": 64}, AAC),
        ({"format": "raw", "maxBitRate": 64}, ORIGINAL),
        ({"format": "aac"}, AAC),
        ({"format": "M4A"}, AAC),
        ({"format": "mp3"}, ORIGINAL),
        ({"format": "mp3", "maxBitRate": 128}, AAC),
        # Nothing is transcoded on request: a format there is no file of is ignored.
        ({"format": "opus"}, ORIGINAL),
    ):
        response = await client.get(f"{REST}/stream", params=_q(fan, id=scene.song.id, **params))
        assert response.status_code == 200, (params, response.text[:300])
        assert response.content == expected, params
        kind = "audio/mpeg" if expected is ORIGINAL else "audio/mp4"
        assert response.headers["content-type"] == kind, params
    # A song still processing has only its original.
    response = await client.get(f"{REST}/stream", params=_q(fan, id=scene.fresh.id, maxBitRate=64))
    assert response.content == ORIGINAL


async def test_the_rendition_by_range_too(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret, use_get=True) as app:
        part = await app.stream(scene.song.id, max_bit_rate=192, byte_range="bytes=0-99")
        assert part.status == 206 and part.headers["Content-Type"] == "audio/mp4"
        assert part.headers["Content-Range"] == f"bytes 0-99/{len(AAC)}"
        assert await part.read() == AAC[:100]


async def test_a_stream_counts_no_play(scene: Scene) -> None:
    client = scene.harness.client()
    fan = scene.fan
    await client.get(f"{REST}/stream", params=_q(fan, id=scene.song.id))
    rest = await fan.who.client.get(f"{SONGS}/{scene.song.id}", headers=fan.who.auth)
    assert rest.json()["data"]["views"] == 0


async def test_download_is_the_original_as_an_attachment(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        got = await app.download(scene.song.id)
        assert got.status == 200 and got.headers["Content-Type"] == "audio/mpeg"
        disposition = got.headers["Content-Disposition"]
        assert await got.read() == ORIGINAL
        # Even when an app would like less: a download is the file as uploaded.
        processed = await app.download(scene.song.id)
        assert await processed.read() == ORIGINAL
    assert disposition.startswith('attachment; filename="Ava Lux - Tune.mp3"')
    assert "filename*=UTF-8''Ava%20Lux%20-%20Tune.mp3" in disposition


async def test_a_download_name_that_is_not_plain(harness: Harness) -> None:
    ava = await listener(harness, "ava", 'Åva "Lux"')
    fan = await listener(harness, "fan", "Fan Club")
    song = await stored_song(harness, ava.id, "Über/Night\r\nX-Evil: 1")
    client = harness.client()
    got = await client.get(f"{REST}/download", params=_q(fan, id=song.id))
    assert got.status_code == 200
    disposition = got.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "x-evil" not in got.headers
    plain, _, exact = disposition.partition("; filename*=UTF-8''")
    assert plain == 'attachment; filename="_va _Lux_ - _ber_Night__X-Evil_ 1.mp3"'
    assert urllib.parse.unquote(exact) == 'Åva "Lux" - Über_Night\r\nX-Evil: 1.mp3'


async def test_cover_art_at_the_nearest_size(scene: Scene, site: str) -> None:
    fan = scene.fan
    folder = scene.song.cover_folder
    async with connected(site, fan.username, fan.secret) as app:
        song = await app.get_song(scene.song.id)
        assert song.cover_art is not None
        sizes = {}
        for size in (None, 1, 64, 65, 300, 301, 640, 3000):
            got = await app.get_cover_art(song.cover_art, size=size)
            assert got.status == 200 and got.headers["Content-Type"] == "image/webp"
            sizes[size] = (await got.read()).decode()
        # Asked by the song's plain id, as some apps do.
        plain = await (await app.get_cover_art(scene.song.id)).read()
    assert sizes == {
        None: f"cover {folder} 640",
        1: f"cover {folder} 64",
        64: f"cover {folder} 64",
        65: f"cover {folder} 300",
        300: f"cover {folder} 300",
        301: f"cover {folder} 640",
        640: f"cover {folder} 640",
        3000: f"cover {folder} 640",
    }
    assert plain.decode() == f"cover {folder} 640"


async def test_every_kind_of_cover_art(harness: Harness, site: str) -> None:
    """A release's own cover, a release without one (its first song's), a single's, an
    artist's avatar, a playlist's (its first song's)."""
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    storage = harness.app.state.runtime.storage
    await _cover(harness, "covers/" + "a" * 32)
    own = await a_release(harness, ava.id, "Own cover", cover=f"covers/{'a' * 32}/640.webp")
    bare = await a_release(harness, ava.id, "No cover")
    on_own = await stored_song(harness, ava.id, "On own", release=own)
    on_bare = await stored_song(harness, ava.id, "On bare", release=bare)
    single = await stored_song(harness, ava.id, "Single")
    client = harness.client()
    made = await json(client, "createPlaylist", name="Mix", songId=[single.id], **fan.auth)
    playlist = made["playlist"]
    async with connected(site, fan.username, fan.secret) as app:
        album = await app.get_album(f"al-{own}")
        other = await app.get_album(f"al-{bare}")
        lone = await app.get_album(f"sg-{single.id}")
        artist = await app.get_artist(f"ar-{ava.id}")
        got = {}
        for name, cover in (
            ("own", album.cover_art),
            ("bare", other.cover_art),
            ("single", lone.cover_art),
            ("playlist", playlist["coverArt"]),
            ("artist", artist.cover_art),
        ):
            assert cover is not None, name
            got[name] = await (await app.get_cover_art(cover, size=300)).read()
    assert got["own"].decode() == f"cover covers/{'a' * 32} 300"
    assert got["bare"].decode() == f"cover {on_bare.cover_folder} 300"
    assert got["single"].decode() == f"cover {single.cover_folder} 300"
    assert got["playlist"].decode() == f"cover {single.cover_folder} 300"
    [(avatar_key,)] = await harness.sql(
        "SELECT avatar_key FROM users WHERE id = :id", id=db_id(harness, ava.id)
    )
    # An avatar is stored in one size.
    assert got["artist"] == await storage.get(avatar_key)
    assert on_own.id


async def test_hidden_songs_are_neither_streamed_nor_pictured(scene: Scene) -> None:
    """A banned artist's songs and avatar, a taken-down song's audio and cover: error 70
    to everyone but the owner of the song taken down."""
    client = scene.harness.client()
    fan = scene.fan
    for method, ident in (
        ("stream", scene.banned.id),
        ("download", scene.banned.id),
        ("getCoverArt", scene.banned.id),
        ("getCoverArt", f"sg-{scene.banned.id}"),
        ("getCoverArt", f"ar-{scene.bea.id}"),
        ("getLyricsBySongId", scene.banned.id),
        ("stream", scene.taken.id),
        ("download", scene.taken.id),
        ("getCoverArt", scene.taken.id),
        ("getCoverArt", f"sg-{scene.taken.id}"),
        ("stream", str(uuid.uuid4())),
        ("getCoverArt", f"pl-{uuid.uuid4()}"),
    ):
        response = await client.get(f"{REST}/{method}", params=_q(fan, id=ident, f="json"))
        assert response.status_code == 200
        code, _ = error_of(response.json()["subsonic-response"])
        assert code == 70, (method, ident)
        assert xml_error(await xml(client, method, **_q(fan, id=ident)))[0] == 70
    ava = scene.ava
    owned = await client.get(f"{REST}/stream", params=_q(ava, id=scene.taken.id))
    assert owned.status_code == 200 and owned.content == ORIGINAL
    cover = await client.get(f"{REST}/getCoverArt", params=_q(ava, id=scene.taken.id))
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/webp"


async def test_a_withheld_cover_does_not_leak_by_another_name(scene: Scene) -> None:
    """A release shown by a song anyone may hear, but pictured by the cover of a song
    taken down: the cover is withheld, as the proxy and ``/media`` withhold it."""
    harness = scene.harness
    taken_cover = f"{scene.taken.cover_folder}/640.webp"
    release = await a_release(harness, scene.ava.id, "Borrowed", cover=taken_cover)
    await stored_song(harness, scene.ava.id, "On it", release=release)
    client = harness.client()
    fan = scene.fan
    album = await json(client, "getAlbum", id=f"al-{release}", **fan.auth)
    assert album["status"] == "ok"
    answer = await json(client, "getCoverArt", id=album["album"]["coverArt"], **fan.auth)
    assert error_of(answer)[0] == 70
    # The proxy-less /media route says the same.
    media = await client.get(f"/media/{taken_cover}")
    assert media.status_code == 404


async def test_offloading_hands_the_files_to_the_proxy(make_harness: Any) -> None:
    """In production no byte of a song or a cover passes through Python: the proxy is
    told which file to send (X-Accel-Redirect), the rendition chosen included."""
    harness: Harness = await make_harness(media_offload=True)
    ava = await listener(harness, "ava", "Ava Lux")
    fan = await listener(harness, "fan", "Fan Club")
    song = await stored_song(harness, ava.id, "Tune")
    prefix = harness.settings.accel_redirect_prefix.rstrip("/")
    client = harness.client()
    for method, params, key, kind in (
        ("stream", {}, song.audio_key, "audio/mpeg"),
        ("stream", {"maxBitRate": 160}, song.progressive_key, "audio/mp4"),
        ("download", {}, song.audio_key, "audio/mpeg"),
        ("getCoverArt", {"size": 64}, f"{song.cover_folder}/64.webp", "image/webp"),
    ):
        response = await client.get(
            f"{REST}/{method}",
            params=_q(fan, id=song.id, **params),
            headers={"Range": "bytes=0-99"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-accel-redirect"] == f"{prefix}/{key}", method
        assert response.headers["content-type"] == kind and response.content == b""
    download = await client.get(f"{REST}/download", params=_q(fan, id=song.id))
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_lyrics_are_empty(scene: Scene, site: str) -> None:
    fan = scene.fan
    async with connected(site, fan.username, fan.secret) as app:
        lyrics = await app.get_lyrics(artist="Ava Lux", title="Tune")
        structured = await app.get_lyrics_by_song_id(scene.song.id)
        extensions = {e.name: e.versions for e in await app.get_open_subsonic_extensions()}
    assert lyrics.value == "" and structured == []
    assert extensions["songLyrics"] == [1]
    client = scene.harness.client()
    for method, params in (
        ("getLyrics", {}),
        ("getLyrics", {"artist": "<Ava & co>", "title": "Tune"}),
        ("getLyricsBySongId", {"id": scene.song.id}),
    ):
        root = await xml(client, method, **_q(fan, **params))
        assert root.get("status") == "ok", (method, params)
    found = (await xml(client, "getLyrics", **_q(fan))).find(f"{NS}lyrics")
    assert found is not None and (found.text or "") == ""


async def test_bad_parameters(scene: Scene) -> None:
    client = scene.harness.client()
    fan = scene.fan
    song = scene.song.id
    for method, params, expected in (
        ("stream", {}, 10),
        ("stream", {"id": "nope"}, 70),
        ("stream", {"id": f"al-{uuid.uuid4()}"}, 70),
        ("stream", {"id": song, "maxBitRate": "fast"}, 0),
        ("stream", {"id": song, "maxBitRate": -1}, 0),
        ("stream", {"id": song, "format": "x" * 100}, 0),
        ("download", {}, 10),
        ("download", {"id": "x" * 5000}, 70),
        ("getCoverArt", {}, 10),
        ("getCoverArt", {"id": "nope"}, 70),
        ("getCoverArt", {"id": "../../etc/passwd"}, 70),
        ("getCoverArt", {"id": song, "size": "big"}, 0),
        ("getCoverArt", {"id": song, "size": 0}, 0),
        ("getLyricsBySongId", {}, 10),
        ("getLyricsBySongId", {"id": "nope"}, 70),
        ("getLyrics", {"title": "a\x00b"}, 0),
    ):
        code, message = error_of(await json(client, method, **_q(fan, **params)))
        assert code == expected, (method, params, message)
        assert xml_error(await xml(client, method, **_q(fan, **params)))[0] == expected
    malformed = await client.get(
        f"{REST}/stream", params=_q(fan, id=song, f="json"), headers={"Range": "bytes=oops"}
    )
    assert error_of(malformed.json()["subsonic-response"])[0] == 0


async def test_a_processed_upload_end_to_end(harness: Harness, site: str) -> None:
    """A real upload, processed by FFmpeg: ``format=raw`` is the file as uploaded, a
    lower ``maxBitRate`` the AAC rendition processing stored."""
    ava = await listener(harness, "ava", "Ava Lux")
    audio = tone("wav", 2.0)  # 1,411 kbit/s
    made = await uploaded(ava.who, audio, fmt="wav", title="Tone")
    await harness.settle()
    rest = await ava.who.client.get(f"{SONGS}/{made['_id']}", headers=ava.who.auth)
    aac = next(r for r in rest.json()["data"]["renditions"] if r["kind"] == "aac")
    rendition = (await ava.who.client.get(aac["url"])).content
    async with connected(site, ava.username, ava.secret) as app:
        raw = await app.stream(made["_id"], tformat="raw")
        assert raw.headers["Content-Type"] == "audio/wav" and await raw.read() == audio
        small = await app.stream(made["_id"], max_bit_rate=192)
        assert small.headers["Content-Type"] == "audio/mp4"
        assert await small.read() == rendition and len(rendition) > 0
    assert isinstance(rendition, bytes) and httpx.URL(aac["url"]).path.endswith("/aac160.m4a")
