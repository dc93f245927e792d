"""The production layout: nginx, configured by `bandstand proxy-config`, checks signed media
links itself (njs) and sends the files from disk. Needs Debian's nginx and
libnginx-mod-http-js (`.ci/run` installs them): skipped, saying so, where they are not
installed, and failed under CI=true."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bandstand.media.proxy import nginx_config
from tests import processes
from tests.audio import tone
from tests.conftest import Harness
from tests.live import free_port, served
from tests.moderation.support import acted, staff
from tests.songs.support import Artist, artist, uploaded


@contextlib.contextmanager
def _nginx(harness: Harness, prefix: Path, upstream: str = "127.0.0.1:9") -> Iterator[str]:
    port = free_port()
    site = nginx_config(harness.settings, listen=f"127.0.0.1:{port}", upstream=upstream)
    with processes.nginx(site, prefix, port) as base:
        yield base


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


def _original_url(song: dict[str, Any]) -> str:
    (original,) = [r for r in song["renditions"] if r["kind"] == "original"]
    return str(original["url"])


def _through(base: str, url: str) -> str:
    parsed = httpx.URL(url)
    return f"{base}{parsed.raw_path.decode()}"


async def test_nginx_serves_signed_links_and_refuses_the_rest(
    harness: Harness, jane: Artist, tmp_path: Path
) -> None:
    audio = tone("mp3", 2.0)
    song = await uploaded(jane, audio)
    url = _original_url(song)
    with _nginx(harness, tmp_path) as base:
        await _check_nginx(harness, jane, base, url, song, audio)


async def _check_nginx(
    harness: Harness, jane: Artist, base: str, url: str, song: dict[str, Any], audio: bytes
) -> None:
    async with httpx.AsyncClient() as proxy:
        whole = await proxy.get(_through(base, url))
        assert whole.status_code == 200
        assert whole.content == audio
        assert whole.headers["content-type"] == "audio/mpeg"
        assert whole.headers["x-content-type-options"] == "nosniff"

        part = await proxy.get(_through(base, url), headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.content == audio[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(audio)}"

        # Each answer nginx gives itself is the API's JSON envelope.
        parts = httpx.URL(url).path.split("/")
        tampered = parts.copy()
        tampered[5] = ("B" if parts[5][0] == "A" else "A") + parts[5][1:]
        refused = await proxy.get(base + "/".join(tampered))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/json"
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert refused.json()["success"] is False

        signer = harness.app.state.runtime.url_signer
        scope = "/" + "/".join(parts[6:8]) + "/"
        old = signer.path_token(scope, 60, now=time.time() - 3 * 3600).split("/")
        expired = parts[:4] + old + parts[6:]
        assert (await proxy.get(base + "/".join(expired))).status_code == 403

        # The API and nginx agree on what is signed: the same link, checked by both.
        assert (await jane.client.get(url)).content == whole.content

        missing = [*parts[:8], "gone.mp3"]
        answer = await proxy.get(base + "/".join(missing))
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["message"] == "Media not found."

        cover = await proxy.get(_through(base, song["thumbnail"]))
        assert cover.status_code == 200
        assert cover.headers["content-type"] == "image/webp"


async def test_a_song_taken_down_or_banned_since_its_link_was_signed_is_not_sent(
    harness: Harness, jane: Artist, tmp_path: Path
) -> None:
    """nginx sends a song's files without asking the API, so a link signed before a
    takedown or a ban would play until it expires: the song's mark hands it to the API,
    which plays it to its owner and no one else, until the song is back."""
    mod = await staff(harness, "mod", "moderator")
    song = await uploaded(jane, tone("mp3", 1.0))
    await harness.settle()
    url = _original_url(song)
    async with served(harness) as upstream, httpx.AsyncClient() as proxy:
        with _nginx(harness, tmp_path, upstream) as base:
            link = _through(base, url)
            assert (await proxy.get(link)).status_code == 200

            cover = _through(base, song["thumbnail"])
            assert (await proxy.get(cover)).status_code == 200
            await acted(mod, f"/songs/{song['_id']}/takedown", {"reason": "Stolen"})
            await harness.settle()
            # Its cover too, but to its owner.
            assert (await proxy.get(cover)).status_code == 404
            assert (await proxy.get(cover, headers=jane.auth)).status_code == 200
            gone = await proxy.get(link)
            assert gone.status_code == 404, gone.text
            assert gone.json()["message"] == "Media not found."
            assert (await proxy.head(link)).status_code == 404
            # Its owner still plays it (the API answers, with their login).
            theirs = await proxy.get(link, headers=jane.auth)
            assert theirs.status_code == 200
            assert theirs.headers["content-type"] == "audio/mpeg"

            await acted(mod, f"/songs/{song['_id']}/restore", {"reason": "Cleared"})
            await harness.settle()
            assert (await proxy.get(link)).status_code == 200
            assert (await proxy.get(cover)).status_code == 200

            await acted(mod, f"/users/{jane.id}/ban", {"reason": "Spam"})
            await harness.settle()
            assert (await proxy.get(link)).status_code == 404
            await acted(mod, f"/users/{jane.id}/unban", {"reason": "Appeal"})
            await harness.settle()
            assert (await proxy.get(link)).status_code == 200
