"""GET /media/<exp>/<sig>/songs/<id>/<file>: a song's files by a link signed for its folder."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import Artist, artist, assert_error, uploaded


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


def _original(song: dict[str, Any]) -> dict[str, str]:
    (original,) = [r for r in song["renditions"] if r["kind"] == "original"]
    return original


def _parts(url: str) -> list[str]:
    # ['', 'api', 'v1', 'media', exp, sig, 'songs', folder, name]
    return httpx.URL(url).path.split("/")


def _with_parts(url: str, **changes: str) -> str:
    names = {"exp": 4, "sig": 5, "kind": 6, "folder": 7, "name": 8}
    parts = _parts(url)
    for name, value in changes.items():
        parts[names[name]] = value
    return str(httpx.URL(url).copy_with(path="/".join(parts)))


async def test_the_original_by_its_link_with_ranges(jane: Artist) -> None:
    audio = tone("flac", 2.0)
    song = await uploaded(jane, audio)
    original = _original(song)
    assert original["contentType"] == "audio/flac"
    assert _parts(original["url"])[8] == "original.flac"

    whole = await jane.client.get(original["url"])  # no Authorization: a player's request
    assert whole.status_code == 200
    assert whole.content == audio
    assert whole.headers["content-type"] == "audio/flac"

    part = await jane.client.get(original["url"], headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.content == audio[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(audio)}"

    beyond = await jane.client.get(original["url"], headers={"Range": f"bytes={len(audio)}-"})
    assert_error(beyond, 416)


async def test_one_signature_covers_the_folder_and_nothing_else(
    harness: Harness, jane: Artist
) -> None:
    first = _original(await uploaded(jane, tone("mp3", 1.0)))["url"]
    second = _original(await uploaded(jane, tone("wav", 1.0)))["url"]
    # Same folder, another file name: the signature holds, the file does not exist.
    assert_error(await jane.client.get(_with_parts(first, name="other.mp3")), 404)
    # Another song's folder with the first song's signature: refused.
    foreign = _with_parts(first, folder=_parts(second)[7], name="original.wav")
    assert_error(await jane.client.get(foreign), 403)
    # Other kinds of stored files are not reachable through song links.
    assert_error(await jane.client.get(_with_parts(first, kind="avatars")), 404)


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "A" * 27},
        {"sig": ""},
        {"exp": "99999999999"},
        {"exp": "0"},
        {"exp": "-1"},
        {"exp": "1e10"},
        {"exp": "%20123"},
        {"folder": ".."},
        {"name": "..%2f..%2fsecret_key"},
    ],
)
async def test_tampered_links_are_refused(jane: Artist, change: dict[str, str]) -> None:
    url = _original(await uploaded(jane, tone("mp3", 1.0)))["url"]
    response = await jane.client.get(_with_parts(url, **change))
    assert response.status_code in (403, 404)
    assert response.json()["success"] is False


async def test_an_expired_link_is_refused(harness: Harness, jane: Artist) -> None:
    url = _original(await uploaded(jane, tone("mp3", 1.0)))["url"]
    signer = harness.app.state.runtime.url_signer
    folder = "/" + "/".join(_parts(url)[6:8]) + "/"
    expired = signer.path_token(folder, 60, now=time.time() - 3 * 3600).split("/")
    assert_error(await jane.client.get(_with_parts(url, exp=expired[0], sig=expired[1])), 403)


async def test_offload_hands_the_file_to_the_proxy(make_harness: Any) -> None:
    offloading: Harness = await make_harness(media_offload=True)
    who = await artist(offloading)
    song = await uploaded(who, tone("mp3", 1.0))
    url = _original(song)["url"]
    response = await who.client.get(url)
    assert response.status_code == 200
    key = "/".join(_parts(url)[6:9])
    assert response.headers["x-accel-redirect"] == f"/_protected/{key}"
    assert response.content == b""


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=10-109"}], ids=["whole", "range"])
async def test_head_answers_as_get_without_the_body(jane: Artist, headers: dict[str, str]) -> None:
    song = await uploaded(jane, tone("flac", 1.0))
    links = [_original(song)["url"], song["thumbnail"]]  # a signed song file; a public cover
    for url in links:
        got = await jane.client.get(url, headers=headers)
        head = await jane.client.head(url, headers=headers)
        assert head.status_code == got.status_code and got.status_code in (200, 206), url
        for name in ("content-type", "content-length", "accept-ranges", "content-range", "etag"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)
        assert head.headers["accept-ranges"] == "bytes"
        assert head.content == b""
    assert (await jane.client.head(_with_parts(links[0], sig="A" * 27))).status_code == 403
