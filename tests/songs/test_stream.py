"""GET /songs/{id}/stream: the bytes a player gets, seeking by Range, and signed URLs."""

from __future__ import annotations

import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
import pytest

from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import Artist, artist, assert_error, stream_path, uploaded


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


async def _song(who: Artist, seconds: float = 2.0) -> tuple[dict[str, Any], bytes]:
    audio = tone("mp3", seconds)
    return await uploaded(who, audio), audio


def _signed(harness: Harness, path: str, *, now: float | None = None, ttl: int = 3600) -> str:
    signer = harness.app.state.runtime.url_signer
    return f"{path}?{signer.query(path, ttl, now=now)}"


def _with_query(song: dict[str, Any], **changes: str | None) -> str:
    url = httpx.URL(song["songFile"])
    params = dict(url.params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return str(url.copy_with(params=params))


async def test_the_whole_file(jane: Artist) -> None:
    song, audio = await _song(jane)
    response = await jane.client.get(song["songFile"])  # no Authorization: a player's request
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == len(audio)
    assert response.headers["etag"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == audio


async def test_a_single_range(jane: Artist) -> None:
    song, audio = await _song(jane)
    response = await jane.client.get(stream_path(song), headers={"Range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1099/{len(audio)}"
    assert response.headers["content-type"] == "audio/mpeg"
    assert int(response.headers["content-length"]) == 1000
    assert response.content == audio[100:1100]


async def test_open_ended_and_suffix_ranges(jane: Artist) -> None:
    song, audio = await _song(jane)
    size = len(audio)
    path = stream_path(song)
    open_ended = await jane.client.get(path, headers={"Range": f"bytes={size - 500}-"})
    assert open_ended.status_code == 206
    assert open_ended.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert open_ended.content == audio[-500:]
    suffix = await jane.client.get(path, headers={"Range": "bytes=-300"})
    assert suffix.status_code == 206
    assert suffix.headers["content-range"] == f"bytes {size - 300}-{size - 1}/{size}"
    assert suffix.content == audio[-300:]
    past_the_end = await jane.client.get(path, headers={"Range": f"bytes={size - 10}-{size + 99}"})
    assert past_the_end.status_code == 206
    assert past_the_end.content == audio[-10:]
    whole_suffix = await jane.client.get(path, headers={"Range": f"bytes=-{size * 2}"})
    assert whole_suffix.status_code == 206
    assert whole_suffix.content == audio


async def test_several_ranges_come_as_multipart_byteranges(jane: Artist) -> None:
    song, audio = await _song(jane)
    size = len(audio)
    response = await jane.client.get(
        stream_path(song), headers={"Range": "bytes=0-99, 1000-1049, -20"}
    )
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    assert int(response.headers["content-length"]) == len(response.content)
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + response.content
    )
    parts = [
        (p["Content-Type"], p["Content-Range"], p.get_payload(decode=True))
        for p in message.iter_parts()
    ]
    assert parts == [
        ("audio/mpeg", f"bytes 0-99/{size}", audio[:100]),
        ("audio/mpeg", f"bytes 1000-1049/{size}", audio[1000:1050]),
        ("audio/mpeg", f"bytes {size - 20}-{size - 1}/{size}", audio[-20:]),
    ]


async def test_if_range_with_the_etag(jane: Artist) -> None:
    song, audio = await _song(jane)
    path = stream_path(song)
    etag = (await jane.client.get(path)).headers["etag"]
    fresh = await jane.client.get(path, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert fresh.status_code == 206
    assert fresh.content == audio[10:20]
    stale = await jane.client.get(path, headers={"Range": "bytes=10-19", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == audio
    modified = (await jane.client.get(path)).headers["last-modified"]
    by_date = await jane.client.get(path, headers={"Range": "bytes=10-19", "If-Range": modified})
    assert by_date.status_code == 206 and by_date.content == audio[10:20]
    weak = await jane.client.get(path, headers={"Range": "bytes=10-19", "If-Range": f"W/{etag}"})
    assert weak.status_code == 200  # a weak validator never allows a range
    # With a stale If-Range the Range header is ignored, however odd it is.
    ignored = await jane.client.get(path, headers={"Range": "bytes=zz", "If-Range": '"stale"'})
    assert ignored.status_code == 200 and ignored.content == audio


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0", "bytes=999999998-999999999"])
async def test_an_unsatisfiable_range_is_416(jane: Artist, header: str) -> None:
    song, audio = await _song(jane)
    response = await jane.client.get(stream_path(song), headers={"Range": header})
    assert_error(response, 416)
    assert response.headers["content-range"] == f"bytes */{len(audio)}"


async def test_an_unsatisfiable_range_with_a_matching_if_range_is_416(jane: Artist) -> None:
    song, audio = await _song(jane)
    path = stream_path(song)
    etag = (await jane.client.get(path)).headers["etag"]
    response = await jane.client.get(path, headers={"Range": "bytes=999999999-", "If-Range": etag})
    assert_error(response, 416)
    assert response.headers["content-range"] == f"bytes */{len(audio)}"


@pytest.mark.parametrize(
    "header", ["bytes", "bytes=", "bytes=abc-def", "items=0-10", "bytes=20-10", "bytes=-", "0-10"]
)
async def test_a_malformed_range_is_400(jane: Artist, header: str) -> None:
    song, _ = await _song(jane, 0.5)
    response = await jane.client.get(stream_path(song), headers={"Range": header})
    assert_error(response, 400)


async def test_a_malformed_range_with_a_matching_if_range_is_400(jane: Artist) -> None:
    song, _ = await _song(jane, 0.5)
    path = stream_path(song)
    etag = (await jane.client.get(path)).headers["etag"]
    response = await jane.client.get(path, headers={"Range": "bytes=zz", "If-Range": etag})
    assert_error(response, 400)


async def test_tampered_missing_or_expired_signatures_are_403(
    harness: Harness, jane: Artist
) -> None:
    song, _ = await _song(jane, 0.5)
    url = httpx.URL(song["songFile"])
    exp, sig = url.params["exp"], url.params["sig"]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    path = url.path
    refused = [
        _with_query(song, sig=flipped),
        _with_query(song, sig=sig[:-1]),
        _with_query(song, sig=""),
        _with_query(song, sig="é" * len(sig)),
        _with_query(song, sig=None),
        _with_query(song, exp=str(int(exp) + 3600)),
        _with_query(song, exp=str(int(exp) - 3600)),
        _with_query(song, exp="0" + exp),
        _with_query(song, exp="١" * 10),  # digits, but not ASCII ones
        _with_query(song, exp="²"),
        _with_query(song, exp="-1"),
        _with_query(song, exp="9" * 40),
        _with_query(song, exp=None),
        _with_query(song, exp=None, sig=None),
        path,
        _signed(harness, path, now=time.time() - 30 * 86_400),  # expired a month ago
    ]
    for target in refused:
        response = await jane.client.get(target)
        assert_error(response, 403)
    assert (await jane.client.get(song["songFile"])).status_code == 200


async def test_a_signature_is_for_one_song_only(jane: Artist) -> None:
    first, _ = await _song(jane, 0.5)
    second, _ = await _song(jane, 0.5)
    borrowed = httpx.URL(second["songFile"]).copy_with(params=httpx.URL(first["songFile"]).params)
    assert_error(await jane.client.get(str(borrowed)), 403)


async def test_a_url_expires_no_sooner_than_the_setting_says(
    harness: Harness, jane: Artist
) -> None:
    song, _ = await _song(jane, 0.5)
    exp = int(httpx.URL(song["songFile"]).params["exp"])
    ttl = harness.settings.stream_url_ttl_s
    assert time.time() + ttl <= exp <= time.time() + ttl + 3600


async def test_unknown_and_malformed_ids(harness: Harness, jane: Artist) -> None:
    unknown = f"/api/v1/songs/{uuid.uuid4()}/stream"
    assert_error(await jane.client.get(_signed(harness, unknown)), 404)
    assert_error(await jane.client.get(unknown), 403)  # a forged link never reaches the database
    malformed = "/api/v1/songs/not-a-uuid/stream"
    assert_error(await jane.client.get(_signed(harness, malformed)), 400)


async def test_a_deleted_songs_link_is_dead(jane: Artist) -> None:
    song, _ = await _song(jane, 0.5)
    deleted = await jane.client.request(
        "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=jane.auth
    )
    assert deleted.status_code == 200, deleted.text
    assert_error(await jane.client.get(song["songFile"]), 404)


async def test_offload_hands_the_bytes_to_the_proxy(make_harness: Any) -> None:
    harness: Harness = await make_harness(media_offload=True)
    jane = await artist(harness)
    song, _ = await _song(jane, 0.5)
    response = await jane.client.get(song["songFile"], headers={"Range": "bytes=0-99"})
    assert response.status_code == 200
    accel = response.headers["x-accel-redirect"]
    root = harness.settings.media_dir
    [stored] = [p.relative_to(root).as_posix() for p in harness.media_files() if "songs" in p.parts]
    assert accel == f"{harness.settings.accel_redirect_prefix.rstrip('/')}/{stored}"
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.content == b""
    assert_error(await jane.client.get(_with_query(song, sig="x" + "A" * 26)), 403)


# What a HEAD must repeat of the GET it stands for.
SAME_HEADERS = ("content-type", "content-length", "accept-ranges", "content-range", "etag")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Range": "bytes=100-1099"}, {"Range": "bytes=-300"}, {"Range": "bytes=0-99, 1000-1049"}],
    ids=["whole", "range", "suffix", "several"],
)
async def test_head_answers_as_get_without_the_body(jane: Artist, headers: dict[str, str]) -> None:
    song, _ = await _song(jane)
    got = await jane.client.get(song["songFile"], headers=headers)
    head = await jane.client.head(song["songFile"], headers=headers)
    assert head.status_code == got.status_code and got.status_code in (200, 206)
    for name in SAME_HEADERS:
        if name == "content-type" and "multipart" in got.headers[name]:
            # Each answer draws its own boundary.
            assert head.headers[name].startswith("multipart/byteranges; boundary=")
            continue
        assert head.headers.get(name) == got.headers.get(name), name
    assert head.headers["accept-ranges"] == "bytes"
    assert head.content == b""


async def test_head_refuses_what_get_refuses(jane: Artist) -> None:
    song, audio = await _song(jane, 0.5)
    beyond = await jane.client.head(song["songFile"], headers={"Range": f"bytes={len(audio)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(audio)}"
    assert (await jane.client.head(_with_query(song, sig="A" * 27))).status_code == 403


async def test_head_with_offload_hands_over_to_the_proxy(make_harness: Any) -> None:
    harness: Harness = await make_harness(media_offload=True)
    jane = await artist(harness)
    song, _ = await _song(jane, 0.5)
    got = await jane.client.get(song["songFile"])
    head = await jane.client.head(song["songFile"])
    assert head.status_code == got.status_code == 200
    assert head.headers["x-accel-redirect"] == got.headers["x-accel-redirect"]
    assert head.headers["content-type"] == "audio/mpeg"
