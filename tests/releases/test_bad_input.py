"""Bad input to the releases routes: a clear 4xx envelope naming the problem, never a 500,
and nothing made or changed."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Harness
from tests.images import png_bytes
from tests.releases.support import RELEASES, create, created, songs, songs_of
from tests.songs.support import artist, assert_error, error_fields


async def test_a_create_is_refused_with_the_field_that_is_wrong(harness: Harness) -> None:
    jane = await artist(harness)
    (song,) = await songs(harness, jane, "One")
    for body, field in (
        ({"kind": "album"}, "title"),
        ({"title": "No kind"}, "kind"),
        ({"title": "x", "kind": "album", "owner": jane.id}, "owner"),
        ({"title": "x", "kind": "album", "songIds": "not-an-id"}, "songIds.0"),
        ({"title": "x", "kind": "album", "songIds": {"a": 1}}, "songIds"),
        ({"title": "x", "kind": "album", "songIds": [song] * 501}, "songIds"),
        ({"title": "x", "kind": 3}, "kind"),
        ({"title": ["x"], "kind": "album"}, "title"),
        ({"title": "x", "kind": "album", "year": "MMXXIV"}, "year"),
        ({"title": "x\u0007", "kind": "album"}, "title"),
    ):
        refused = await create(jane, **body)
        assert_error(refused, 400)
        assert field in error_fields(refused), (body, refused.json())
    assert (await harness.sql("SELECT count(*) FROM releases"))[0][0] == 0


async def test_bodies_of_the_wrong_shape_are_refused(harness: Harness) -> None:
    jane = await artist(harness)
    auth = jane.auth
    attempts: list[tuple[dict[str, Any], int]] = [
        ({"content": b"{nope", "headers": {"content-type": "application/json"}}, 400),
        ({"json": ["title"]}, 400),
        ({"content": b"title=x", "headers": {"content-type": "text/plain"}}, 415),
        ({"content": b"x" * 200_000, "headers": {"content-type": "application/json"}}, 413),
        (
            {
                "data": {"title": "x", "kind": "album"},
                "files": [
                    ("thumbnail", ("a.png", png_bytes(), "image/png")),
                    ("thumbnail", ("b.png", png_bytes(), "image/png")),
                ],
            },
            400,
        ),
        (
            {
                "data": {"title": "x", "kind": "album"},
                "files": {"songIds": ("ids.txt", b"x", "text/plain")},
            },
            400,
        ),
        (
            {
                "data": {"title": "x", "kind": "album"},
                "files": {"thumbnail": ("x.png", b"not an image", "image/png")},
            },
            415,
        ),
        (
            {
                "data": {"title": "x", "kind": "album"},
                "files": {"thumbnail": ("", b"", "application/octet-stream")},
            },
            201,
        ),
        (
            {
                "data": {"title": "x", "kind": "album"},
                "files": {"thumbnail": ("empty.png", b"", "image/png")},
            },
            400,
        ),
    ]
    for kwargs, status in attempts:
        headers = {**auth, **kwargs.pop("headers", {})}
        response = await jane.client.post(RELEASES, headers=headers, **kwargs)
        if status == 201:
            # A file field left empty, as a browser sends it: no cover.
            assert response.status_code == 201, response.text
            assert response.json()["data"]["thumbnail"] is None
        else:
            assert_error(response, status)
    assert (await harness.sql("SELECT count(*) FROM releases"))[0][0] == 1


async def test_writes_refuse_json_of_the_wrong_kind(harness: Harness) -> None:
    jane = await artist(harness)
    release = await created(jane, "Target")
    path = songs_of(release["_id"])
    form = await jane.client.post(path, data={"songIds": str(uuid.uuid4())}, headers=jane.auth)
    assert_error(form, 415)
    deep = await jane.client.post(
        path, content=b"[" * 20_000, headers={**jane.auth, "content-type": "application/json"}
    )
    assert_error(deep, 400)
