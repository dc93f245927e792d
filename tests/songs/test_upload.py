"""POST /songs/upload: real audio in every format, described by FFmpeg; hostile files refused
with nothing left behind; cover art re-encoded under names the server chose."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from tests.audio import tone
from tests.conftest import Harness
from tests.images import jpeg_with_exif, png_bytes
from tests.songs.support import (
    UPLOAD,
    Artist,
    artist,
    assert_error,
    assert_processed,
    audit,
    error_fields,
    scratch_files,
    song_count,
    song_files,
    stored_folders,
    stream_path,
    upload,
    uploaded,
)

SONG_FIELDS = {
    "_id",
    "release",
    "title",
    "description",
    "genre",
    "artist",
    "duration",
    "codec",
    "sampleRate",
    "channels",
    "bitrate",
    "songFile",
    "thumbnail",
    "thumbnails",
    "hls",
    "renditions",
    "waveform",
    "loudness",
    "truePeak",
    "gain",
    "owner",
    "views",
    "likeCount",
    "commentCount",
    "status",
    "failureReason",
    "createdAt",
    "updatedAt",
    "takedownReason",
}
SIZES = (64, 300, 640)  # a cover's, in pixels a side
# What processing fills in; the rest of a song is the same before and after it.
PROCESSED_FIELDS = {
    "hls",
    "renditions",
    "waveform",
    "loudness",
    "truePeak",
    "gain",
    "status",
    "updatedAt",
}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
# A signed link to a file of a song's folder: expiry and signature, then the key.
SIGNED = r"http://testserver/api/v1/media/\d+/[A-Za-z0-9_-]+/"

# format → (codec FFmpeg names, sample rate, Content-Type the stream answers with)
EXPECTED = {
    "mp3": ("mp3", 44_100, "audio/mpeg"),
    "wav": ("pcm_s16le", 44_100, "audio/wav"),
    "flac": ("flac", 44_100, "audio/flac"),
    "ogg": ("vorbis", 44_100, "audio/ogg"),
    "opus": ("opus", 48_000, "audio/ogg"),
    "m4a": ("aac", 44_100, "audio/mp4"),
    "aac": ("aac", 44_100, "audio/aac"),
}
CASES = [
    ("mp3", 1),
    ("mp3", 2),
    ("wav", 1),
    ("wav", 2),
    ("flac", 1),
    ("flac", 2),
    ("ogg", 2),  # FFmpeg's own Vorbis encoder writes stereo only
    ("opus", 1),
    ("opus", 2),
    ("m4a", 1),
    ("m4a", 2),
    ("aac", 1),
    ("aac", 2),
]


@pytest.mark.parametrize(("fmt", "channels"), CASES)
async def test_every_format_is_accepted_and_described(
    harness: Harness, fmt: str, channels: int
) -> None:
    jane = await artist(harness)
    audio = tone(fmt, 1.5, channels=channels)
    song = await uploaded(jane, audio, fmt=fmt, title=f"{fmt} {channels}ch")
    codec, rate, content_type = EXPECTED[fmt]
    assert song["codec"] == codec
    assert song["sampleRate"] == rate
    assert song["channels"] == channels
    # ADTS states no length, so its duration is what decodes, encoder padding included.
    assert song["duration"] == pytest.approx(1.5, abs=0.05 if fmt == "aac" else 0.002)
    if fmt == "wav":
        assert song["bitrate"] == pytest.approx(rate * 16 * channels, rel=0.01)
    else:
        assert 16_000 <= song["bitrate"] <= 400_000
    streamed = await jane.client.get(stream_path(song))
    assert streamed.status_code == 200
    assert streamed.headers["content-type"] == content_type
    assert streamed.content == audio


async def test_a_wav_with_an_info_chunk_before_its_data(harness: Harness) -> None:
    jane = await artist(harness)
    audio = tone("wav", 1.0, tags={"title": "Chunky"})
    assert b"LIST" in audio[: audio.index(b"data")]
    song = await uploaded(jane, audio, fmt="wav")
    assert song["duration"] == pytest.approx(1.0, abs=0.002)


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg", "opus", "wav", "m4a"])
async def test_junk_after_the_last_frame_is_forgiven(harness: Harness, fmt: str) -> None:
    # Players skip it; an old tagger or a careless download leaves such bytes behind.
    jane = await artist(harness)
    song = await uploaded(jane, tone(fmt, 1.0) + b"junk" * 100, fmt=fmt)
    assert song["duration"] == pytest.approx(1.0, abs=0.002)


@pytest.mark.parametrize(
    ("fmt", "codec", "content_type"), [("flac", "flac", "audio/flac"), ("aac", "aac", "audio/aac")]
)
async def test_an_id3_tag_before_flac_or_aac_is_looked_past(
    harness: Harness, fmt: str, codec: str, content_type: str
) -> None:
    jane = await artist(harness)
    tagged = tone("mp3", 0.2, tags={"title": "An ID3 tag"})
    id3 = tagged[: 10 + int.from_bytes(bytes(b & 0x7F for b in tagged[6:10]), "big")]
    audio = id3 + tone(fmt, 1.0)
    song = await uploaded(jane, audio, fmt=fmt)
    assert song["codec"] == codec
    streamed = await jane.client.get(stream_path(song))
    assert streamed.headers["content-type"] == content_type and streamed.content == audio


async def test_the_answer_is_the_song(harness: Harness) -> None:
    jane = await artist(harness)
    response = await upload(
        jane,
        tone("mp3", 2.0),
        title="  First light  ",
        description="Recorded at dawn.",
        Genre="Ambient",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["statusCode"] == 201 and body["success"] is True
    assert body["message"] == "Song uploaded successfully."
    song = body["data"]
    # The upload's answer says what is left of the uploader's quota too.
    assert set(song) == SONG_FIELDS | {"quota"}
    assert song["title"] == "First light"
    assert song["description"] == "Recorded at dawn."
    assert song["genre"] == "Ambient"
    assert song["artist"] == "Jane Doe"  # no tag: the uploader's name
    assert song["owner"] == {
        "_id": jane.id,
        "username": "janedoe",
        "fullname": "Jane Doe",
        "avatar": jane.user["avatar"],
    }
    assert "email" not in response.text and "jane@example.com" not in response.text
    assert (song["views"], song["likeCount"], song["commentCount"]) == (0, 0, 0)
    assert ISO_UTC.match(song["createdAt"]) and ISO_UTC.match(song["updatedAt"])
    assert song["songFile"].startswith(f"http://testserver/api/v1/songs/{song['_id']}/stream?")
    assert re.search(r"[?&]exp=\d+", song["songFile"]) and "sig=" in song["songFile"]
    cover = re.fullmatch(
        r"http://testserver/media/(covers/[0-9a-f]{32})/640\.webp", song["thumbnail"]
    )
    assert cover, song["thumbnail"]
    assert song["thumbnails"] == {
        str(size): f"http://testserver/media/{cover[1]}/{size}.webp" for size in (64, 300, 640)
    }
    # Just uploaded: processing has yet to run, so only the original can be played.
    assert song["status"] == "processing" and song["failureReason"] is None
    assert song["hls"] is None and song["waveform"] is None
    assert (song["loudness"], song["truePeak"], song["gain"]) == (None, None, None)
    [original] = song["renditions"]
    assert set(original) == {"kind", "url", "contentType"}
    assert (original["kind"], original["contentType"]) == ("original", "audio/mpeg")
    folder = re.fullmatch(f"{SIGNED}(songs/[0-9a-f]{{32}})/original\\.mp3", original["url"])
    assert folder, original["url"]
    rows = await harness.sql("SELECT id, owner_id, title FROM songs")
    assert [(str(r[1]).replace("-", ""), r[2]) for r in rows] == [
        (jane.id.replace("-", ""), "First light")
    ]

    await harness.settle()
    fetched = await jane.client.get(f"/api/v1/songs/{song['_id']}", headers=jane.auth)
    assert fetched.status_code == 200
    again = fetched.json()["data"]
    assert set(again) == SONG_FIELDS
    unchanged = SONG_FIELDS - PROCESSED_FIELDS - {"songFile"}  # a link signed afresh
    assert {k: again[k] for k in unchanged} == {k: song[k] for k in unchanged}
    # Processed: HLS, a progressive AAC beside the original, loudness and a waveform.
    assert again["status"] == "ready"
    assert ISO_UTC.match(again["updatedAt"]) and again["updatedAt"] >= song["updatedAt"]
    assert re.fullmatch(f"{SIGNED}{folder[1]}/master\\.m3u8", again["hls"]), again["hls"]
    original_again, aac = again["renditions"]
    assert original_again["kind"] == "original" and original_again["contentType"] == "audio/mpeg"
    assert original_again["url"].endswith(f"/{folder[1]}/original.mp3")
    assert (aac["kind"], aac["contentType"]) == ("aac", "audio/mp4")
    assert re.fullmatch(f"{SIGNED}{folder[1]}/aac160\\.m4a", aac["url"]), aac["url"]
    assert again["waveform"] == f"http://testserver/api/v1/songs/{song['_id']}/waveform"
    assert again["loudness"] < 0 and again["truePeak"] <= 0
    assert again["gain"] == pytest.approx(-14 - again["loudness"], abs=0.01)


async def test_an_upload_processed_twice_at_once_keeps_every_file(harness: Harness) -> None:
    # A queue may deliver a job twice (a worker's message reclaimed, a stalled song queued
    # again) while the first run is still at work; the run that finds the song already
    # ready must not take it for deleted and remove its folder, original included.
    jane = await artist(harness)
    song = await uploaded(jane, tone("wav", 5.0), fmt="wav")
    await harness.app.state.runtime.queue.enqueue("songs.process", song["_id"])
    stored = await stored_folders(harness)
    assert await harness.sql("SELECT status FROM songs") == [("ready",)]
    [song_folder] = [f for f in stored if f.startswith("songs/")]
    assert_processed(stored[song_folder], "original.wav")
    played = await jane.client.get(stream_path(song))
    assert played.status_code == 200 and played.content == tone("wav", 5.0)
    assert await audit(harness) == []


async def test_lowercase_genre_is_accepted_too(harness: Harness) -> None:
    jane = await artist(harness)
    song = await uploaded(jane, genre="Folk")
    assert song["genre"] == "Folk"
    both = await uploaded(jane, Genre="Jazz", genre="Folk")
    assert both["genre"] == "Jazz"  # the spec's spelling wins


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg", "opus", "m4a"])
async def test_tags_fill_what_the_form_left_out(harness: Harness, fmt: str) -> None:
    jane = await artist(harness)
    tags = {"title": "Tagged Title", "artist": "The Taggers", "genre": "Krautrock"}
    audio = tone(fmt, 0.5, tags=tags)
    song = await uploaded(jane, audio, fmt=fmt, title=None)
    assert (song["title"], song["artist"], song["genre"]) == (
        "Tagged Title",
        "The Taggers",
        "Krautrock",
    )
    mine = await uploaded(jane, audio, fmt=fmt, title="My Title", Genre="Pop")
    assert (mine["title"], mine["artist"], mine["genre"]) == ("My Title", "The Taggers", "Pop")


async def test_overlong_tags_are_cut_not_refused(harness: Harness) -> None:
    jane = await artist(harness)
    audio = tone("mp3", 0.5, tags={"title": "T" * 300, "artist": "A" * 300, "genre": "G" * 300})
    song = await uploaded(jane, audio, title=None)
    assert song["title"] == "T" * 200
    assert song["artist"] == "A" * 200
    assert song["genre"] == "G" * 100


async def test_title_and_description_limits(harness: Harness) -> None:
    jane = await artist(harness)
    longest = await uploaded(jane, title="t" * 200, description="d" * 5000)
    assert len(longest["title"]) == 200 and len(longest["description"]) == 5000
    verses = await uploaded(jane, description="Verse one,\r\nverse two.\n\tChorus.")
    assert verses["description"] == "Verse one,\r\nverse two.\n\tChorus."
    cases: tuple[tuple[dict[str, Any], str], ...] = (
        ({"title": "t" * 201}, "title"),
        ({"description": "d" * 5001}, "description"),
        ({"Genre": "g" * 101}, "genre"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        # PostgreSQL cannot store NUL; no title needs a control character or a line break.
        ({"title": "a\x00b"}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"description": "a\x00b"}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"genre": "Rock\x1bRoll"}, "genre"),
    )
    for fields, field in cases:
        refused = await upload(jane, **fields)
        assert_error(refused, 400)
        assert error_fields(refused) == {field}, fields
    assert await song_count(harness) == 2


def _noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(7).randbytes(side * side * 3)).save(
        out, format="PNG"
    )
    return out.getvalue()


def _mp3() -> bytes:
    return tone("mp3", 2.0)


def _wav() -> bytes:
    return tone("wav", 2.0)


def _flac() -> bytes:
    return tone("flac", 2.0)


def _ogg() -> bytes:
    return tone("ogg", 2.0)


def _opus() -> bytes:
    return tone("opus", 2.0)


def _cut(make: Callable[[], bytes], share: float) -> Callable[[], bytes]:
    def cut() -> bytes:
        data = make()
        return data[: int(len(data) * share)]

    return cut


# name → (songFile bytes, file name, Content-Type claimed)
HOSTILE_AUDIO: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "png image": (png_bytes, "song.mp3", "audio/mpeg"),
    "jpeg image": (jpeg_with_exif, "song.mp3", "audio/mpeg"),
    "text renamed .mp3": (lambda: b"just some words, honest\n" * 200, "song.mp3", "audio/mpeg"),
    "html": (lambda: b"<!doctype html><script>alert(1)</script>" * 50, "a.mp3", "audio/mpeg"),
    "playlist after an ID3 header": (
        lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n" * 20,
        "song.mp3",
        "audio/mpeg",
    ),
    "zero-length": (lambda: b"", "song.mp3", "audio/mpeg"),
    "truncated mp3": (_cut(_mp3, 0.6), "song.mp3", "audio/mpeg"),
    "truncated wav": (_cut(_wav, 0.6), "song.wav", "audio/wav"),
    "truncated flac": (_cut(_flac, 0.6), "song.flac", "audio/flac"),
    "truncated ogg vorbis": (_cut(_ogg, 0.8), "song.ogg", "audio/ogg"),
    "truncated opus": (_cut(_opus, 0.8), "song.opus", "audio/ogg"),
    "truncated m4a": (_cut(lambda: tone("m4a", 2.0), 0.8), "song.m4a", "audio/mp4"),
    "wav header only": (lambda: _wav()[:44], "song.wav", "audio/wav"),
    "wav header and a few samples": (lambda: _wav()[:200], "song.wav", "audio/wav"),
    "flac header only": (lambda: _flac()[:42], "song.flac", "audio/flac"),
    "mp3 header only": (lambda: _mp3()[:64], "song.mp3", "audio/mpeg"),
    "ogg header only": (lambda: _ogg()[:58], "song.ogg", "audio/ogg"),
    "m4a header only": (lambda: tone("m4a", 2.0)[:40], "song.m4a", "audio/mp4"),
    "ID3 header then noise": (lambda: b"ID3" + bytes(range(256)) * 40, "song.mp3", "audio/mpeg"),
    "RIFF WAVE then noise": (
        lambda: b"RIFF\x00\x10\x00\x00WAVEfmt " + bytes(range(256)) * 16,
        "song.wav",
        "audio/wav",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_AUDIO))
async def test_hostile_song_files_are_refused_and_leave_nothing(
    harness: Harness, case: str
) -> None:
    make, filename, content_type = HOSTILE_AUDIO[case]
    jane = await artist(harness)
    before = harness.media_files()
    response = await upload(
        jane,
        files={
            "songFile": (filename, make(), content_type),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
    )
    body = assert_error(response, (400, 415))
    assert "songFile" in error_fields(response)
    assert body["message"]
    await _assert_nothing_left(harness, before)


async def _assert_nothing_left(harness: Harness, media_before: list[Any]) -> None:
    assert await song_count(harness) == 0
    assert harness.media_files() == media_before
    assert await song_files(harness) == []
    assert scratch_files(harness) == []


async def test_an_image_or_text_is_unsupported_media(harness: Harness) -> None:
    jane = await artist(harness)
    for data in (png_bytes(), b"plain text, not audio\n" * 10):
        response = await upload(
            jane,
            files={
                "songFile": ("x.mp3", data, "audio/mpeg"),
                "thumbnail": ("c.png", png_bytes(), "image/png"),
            },
        )
        assert_error(response, 415)


async def test_a_song_file_over_the_cap_is_refused(make_harness: Any) -> None:
    harness: Harness = await make_harness(audio_max_bytes=64 * 1024)
    jane = await artist(harness)
    before = harness.media_files()
    big = tone("wav", 2.0)  # about 350 KB
    assert len(big) > harness.settings.audio_max_bytes
    response = await upload(jane, big, fmt="wav")
    assert_error(response, 413)
    assert error_fields(response) == {"songFile"}
    await _assert_nothing_left(harness, before)
    small = await upload(jane, tone("mp3", 0.5))
    assert small.status_code == 201, small.text


async def test_a_body_over_the_whole_upload_cap_is_refused(make_harness: Any) -> None:
    harness: Harness = await make_harness(audio_max_bytes=64 * 1024, image_max_bytes=64 * 1024)
    jane = await artist(harness)
    before = harness.media_files()
    huge = b"ID3" + bytes(3 * 1024 * 1024)  # past audio + image + form allowance
    response = await upload(jane, huge)
    assert_error(response, 413)
    await _assert_nothing_left(harness, before)


async def test_a_thumbnail_over_the_cap_is_refused(make_harness: Any) -> None:
    harness: Harness = await make_harness(image_max_bytes=20_000)
    jane = await artist(harness)
    before = harness.media_files()
    cover = _noise_png(200)
    assert len(cover) > 20_000
    response = await upload(jane, thumbnail=cover)
    assert_error(response, 413)
    assert error_fields(response) == {"thumbnail"}
    await _assert_nothing_left(harness, before)


@pytest.mark.parametrize(
    "cover",
    [
        b"",
        b"this is not an image" * 10,
        png_bytes()[:40],
        tone("mp3", 0.3),
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    ],
    ids=["empty", "text", "truncated png", "audio", "svg"],
)
async def test_a_thumbnail_that_is_not_an_image_is_refused(harness: Harness, cover: bytes) -> None:
    jane = await artist(harness)
    before = harness.media_files()
    response = await upload(jane, thumbnail=cover)
    assert_error(response, (400, 415))
    assert error_fields(response) == {"thumbnail"}
    await _assert_nothing_left(harness, before)


async def test_missing_parts_are_named(harness: Harness) -> None:
    jane = await artist(harness)
    before = harness.media_files()
    audio = ("song.mp3", tone("mp3", 0.5), "audio/mpeg")
    cover = ("cover.png", png_bytes(), "image/png")
    no_song = await upload(jane, files={"thumbnail": cover})
    assert_error(no_song, 400)
    assert "songFile" in error_fields(no_song)
    no_cover = await upload(jane, files={"songFile": audio})
    assert_error(no_cover, 400)
    assert "thumbnail" in error_fields(no_cover)
    untitled = await upload(jane, title=None)  # and the file has no title tag
    assert_error(untitled, 400)
    assert error_fields(untitled) == {"title"}
    song_as_text = await jane.client.post(
        UPLOAD,
        data={"title": "x", "songFile": "not a file"},
        files={"thumbnail": cover},
        headers=jane.auth,
    )
    assert_error(song_as_text, 400)
    await _assert_nothing_left(harness, before)


async def test_json_is_unsupported_media(harness: Harness) -> None:
    jane = await artist(harness)
    response = await jane.client.post(
        UPLOAD,
        json={"title": "x", "songFile": "aGVsbG8=", "thumbnail": "aGVsbG8="},
        headers=jane.auth,
    )
    assert_error(response, 415)
    empty = await jane.client.post(UPLOAD, headers=jane.auth)
    assert_error(empty, 415)
    assert await song_count(harness) == 0


async def test_uploading_needs_a_login(harness: Harness) -> None:
    jane = await artist(harness)
    before = harness.media_files()
    anonymous = harness.client()
    response = await anonymous.post(
        UPLOAD,
        data={"title": "x"},
        files={
            "songFile": ("song.mp3", tone("mp3", 0.5), "audio/mpeg"),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
    )
    assert_error(response, 401)
    forged = await upload(
        Artist(user=jane.user, auth={"Authorization": "Bearer not.a.token"}, client=anonymous)
    )
    assert_error(forged, 401)
    await _assert_nothing_left(harness, before)


async def test_cover_art_is_reencoded_and_named_by_the_server(harness: Harness) -> None:
    jane = await artist(harness)
    original = jpeg_with_exif((1000, 800))  # larger than every size, and not square
    assert b"SpyCam" in original
    response = await upload(
        jane,
        files={
            "songFile": ("../../../etc/passwd.mp3", tone("mp3", 0.5), "audio/mpeg"),
            "thumbnail": ("../../evil name.jpg", original, "image/jpeg"),
        },
    )
    assert response.status_code == 201, response.text
    song = response.json()["data"]
    assert "evil" not in response.text and "passwd" not in response.text
    # One folder for the cover, a file per size; one for the song, named by the server.
    stored = await stored_folders(harness)
    [cover_folder] = [f for f in stored if re.fullmatch(r"covers/[0-9a-f]{32}", f)]
    [song_folder] = [f for f in stored if re.fullmatch(r"songs/[0-9a-f]{32}", f)]
    assert len(stored) == 2
    assert stored[cover_folder] == {"64.webp", "300.webp", "640.webp"}
    assert_processed(stored[song_folder], "original.mp3")
    urls = {str(size): f"http://testserver/media/{cover_folder}/{size}.webp" for size in SIZES}
    assert song["thumbnails"] == urls and song["thumbnail"] == urls["640"]

    for size in SIZES:
        cover = await jane.client.get(urls[str(size)])
        assert cover.status_code == 200
        assert cover.headers["content-type"] == "image/webp"
        assert b"SpyCam" not in cover.content and b"secret-software" not in cover.content
        image = Image.open(io.BytesIO(cover.content))
        assert image.format == "WEBP"
        assert image.size == (size, size)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(image.info)
    assert scratch_files(harness) == []
