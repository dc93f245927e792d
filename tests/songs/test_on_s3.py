"""A song's life on S3-compatible storage: upload, stream by presigned redirect, delete."""

from __future__ import annotations

from typing import Any

import httpx

from tests.audio import tone
from tests.conftest import Harness, bearer
from tests.images import png_bytes
from tests.s3standin import ACCESS_KEY, SECRET_KEY, new_bucket
from tests.songs.support import COVER_FILES, assert_processed, audit, folders_of


def _objects(s3_admin: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3_admin.list_objects_v2(Bucket=bucket).get("Contents", [])}


async def test_song_on_s3_streams_by_redirect_and_leaves_nothing_when_deleted(
    make_harness: Any, moto_s3_standin: str, s3_admin: Any
) -> None:
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
    audio = tone("mp3", 2.0)
    uploaded = await client.post(
        "/api/v1/songs/upload",
        data={"title": "Cloud Song", "Genre": "Ambient"},
        files={
            "songFile": ("cloud.mp3", audio, "audio/mpeg"),
            "thumbnail": ("cover.png", png_bytes(), "image/png"),
        },
        headers=auth,
    )
    assert uploaded.status_code == 201, uploaded.text
    song = uploaded.json()["data"]
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
    cover = await client.get(song["thumbnail"])
    assert cover.status_code == 302

    deleted = await client.request(
        "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=auth
    )
    assert deleted.status_code == 200
    await harness.settle()  # the files go by a job, once the delete has committed
    assert _objects(s3_admin, bucket) == {avatar}
    assert await audit(harness) == []
