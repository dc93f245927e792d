"""HLS from S3-compatible storage (moto's server, a stand-in started by the tests): the
playlists are answered by Bandstand, so their relative links come back to it with the
signature; each segment is then a redirect to a presigned URL."""

from __future__ import annotations

from typing import Any

import httpx

from bandstand.media.hls import parse_media_playlist
from tests.audio import tone
from tests.conftest import Harness, bearer
from tests.images import png_bytes
from tests.s3standin import ACCESS_KEY, SECRET_KEY, new_bucket


async def test_hls_plays_from_s3(make_harness: Any, moto_s3_standin: str, s3_admin: Any) -> None:
    bucket = new_bucket(s3_admin)
    harness: Harness = await make_harness(
        storage_url=f"s3://{bucket}/media",
        s3_endpoint_url=moto_s3_standin,
        s3_access_key=ACCESS_KEY,
        s3_secret_key=SECRET_KEY,
    )
    await harness.sign_up()
    client = harness.client()
    auth = bearer((await harness.log_in(client))["accessToken"])
    uploaded = await client.post(
        "/api/v1/songs/upload",
        data={"title": "Cloud Stream"},
        files={
            "songFile": ("cloud.wav", tone("wav", 8.0), "audio/wav"),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
        headers=auth,
    )
    assert uploaded.status_code == 201, uploaded.text
    await harness.settle()
    song_id = uploaded.json()["data"]["_id"]
    song = (await client.get(f"/api/v1/songs/{song_id}", headers=auth)).json()["data"]
    assert song["status"] == "ready"
    master_url = httpx.URL(song["hls"])

    master = await client.get(str(master_url))
    assert master.status_code == 200  # not a redirect: see the module's docstring
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    variant = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
    playlist_answer = await client.get(str(master_url.join(variant)))
    assert playlist_answer.status_code == 200
    playlist = parse_media_playlist(playlist_answer.text)
    segment = await client.get(str(master_url.join(playlist.segments[0][0])))
    assert segment.status_code == 302
    async with httpx.AsyncClient() as outside:
        fetched = await outside.get(segment.headers["location"])
    assert fetched.status_code == 200 and len(fetched.content) > 1000

    tampered = str(master_url).replace("/master.m3u8", "/other.m3u8")
    assert (await client.get(tampered)).status_code == 404
