"""A song's life on S3-compatible storage (moto's server, a stand-in started by the tests):
upload, processing, stream and HLS by presigned redirect, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bandstand.media.hls import parse_media_playlist
from tests.audio import tone
from tests.conftest import Harness, bearer
from tests.images import png_bytes
from tests.s3standin import ACCESS_KEY, SECRET_KEY, new_bucket
from tests.songs.support import COVER_FILES, assert_processed, audit, folders_of


def _objects(s3_admin: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3_admin.list_objects_v2(Bucket=bucket).get("Contents", [])}


@dataclass
class OnS3:
    harness: Harness
    client: httpx.AsyncClient
    auth: dict[str, str]
    bucket: str


async def _artist_on_s3(make_harness: Any, endpoint: str, s3_admin: Any) -> OnS3:
    """A Bandstand storing media in a fresh bucket, and a logged-in artist."""
    bucket = new_bucket(s3_admin)
    harness: Harness = await make_harness(
        storage_url=f"s3://{bucket}/media",
        s3_endpoint_url=endpoint,
        s3_access_key=ACCESS_KEY,
        s3_secret_key=SECRET_KEY,
    )
    await harness.sign_up()
    client = harness.client()
    auth = bearer((await harness.log_in(client))["accessToken"])
    return OnS3(harness, client, auth, bucket)


async def _upload(on: OnS3, audio: bytes, name: str, content_type: str) -> dict[str, Any]:
    uploaded = await on.client.post(
        "/api/v1/songs/upload",
        data={"title": "Cloud Song", "Genre": "Ambient"},
        files={
            "songFile": (name, audio, content_type),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
        headers=on.auth,
    )
    assert uploaded.status_code == 201, uploaded.text
    song: dict[str, Any] = uploaded.json()["data"]
    return song


async def test_song_on_s3_streams_by_redirect_and_leaves_nothing_when_deleted(
    make_harness: Any, moto_s3_standin: str, s3_admin: Any
) -> None:
    on = await _artist_on_s3(make_harness, moto_s3_standin, s3_admin)
    harness, client, auth, bucket = on.harness, on.client, on.auth, on.bucket
    audio = tone("mp3", 2.0)
    song = await _upload(on, audio, "cloud.mp3", "audio/mpeg")
    await harness.settle()  # processing reads the original from S3 and writes beside it
    song_folder, cover_folder = folders_of(song)
    stored = _objects(s3_admin, bucket)
    [avatar] = [key for key in stored if key.startswith("media/avatars/")]
    assert {key for key in stored if key.startswith(f"media/{cover_folder}/")} == {
        f"media/{cover_folder}/{name}" for name in COVER_FILES
    }
    song_keys = {key for key in stored if key.startswith(f"media/{song_folder}/")}
    assert_processed({key.rsplit("/", 1)[1] for key in song_keys}, "original.mp3")
    assert stored == {avatar, *song_keys, *(f"media/{cover_folder}/{n}" for n in COVER_FILES)}
    assert harness.media_files() == []  # nothing on the local disk

    stream = await client.get(song["songFile"])
    assert stream.status_code == 302
    presigned = stream.headers["location"]
    assert presigned.startswith(moto_s3_standin)
    async with httpx.AsyncClient() as outside:
        whole = await outside.get(presigned)
        assert whole.status_code == 200 and whole.content == audio
        part = await outside.get(presigned, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == audio[100:200]
        # A HEAD is sent to a URL signed for HEAD (S3 refuses a GET signature for it).
        head = await client.head(song["songFile"])
        assert head.status_code == 302 and head.headers["location"] != presigned
        headed = await outside.head(head.headers["location"])
        assert headed.status_code == 200
        assert int(headed.headers["content-length"]) == len(audio)
    cover = await client.get(song["thumbnail"])
    assert cover.status_code == 302

    deleted = await client.request(
        "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=auth
    )
    assert deleted.status_code == 200
    await harness.settle()  # the files go by a job, once the delete has committed
    assert _objects(s3_admin, bucket) == {avatar}
    assert await audit(harness) == []


async def test_hls_plays_from_s3(make_harness: Any, moto_s3_standin: str, s3_admin: Any) -> None:
    """The playlists are answered by Bandstand, so their relative links come back to it
    with the signature; each segment is then a redirect to a presigned URL."""
    on = await _artist_on_s3(make_harness, moto_s3_standin, s3_admin)
    uploaded = await _upload(on, tone("wav", 8.0), "cloud.wav", "audio/wav")
    await on.harness.settle()
    answer = await on.client.get(f"/api/v1/songs/{uploaded['_id']}", headers=on.auth)
    song = answer.json()["data"]
    assert song["status"] == "ready"
    master_url = httpx.URL(song["hls"])

    master = await on.client.get(str(master_url))
    assert master.status_code == 200  # not a redirect: see the docstring
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    variant = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
    playlist_answer = await on.client.get(str(master_url.join(variant)))
    assert playlist_answer.status_code == 200
    playlist = parse_media_playlist(playlist_answer.text)
    segment = await on.client.get(str(master_url.join(playlist.segments[0][0])))
    assert segment.status_code == 302
    async with httpx.AsyncClient() as outside:
        fetched = await outside.get(segment.headers["location"])
    assert fetched.status_code == 200 and len(fetched.content) > 1000

    other = str(master_url).replace("/master.m3u8", "/other.m3u8")
    assert (await on.client.get(other)).status_code == 404
