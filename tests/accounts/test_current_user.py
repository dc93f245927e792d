"""``current-user`` says what the user may still upload: storage and uploads today."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.audio import tone
from tests.conftest import Harness
from tests.schema_check import assert_conforms
from tests.songs.support import artist, uploaded

MakeHarness = Callable[..., Awaitable[Harness]]
ME = "/api/v1/users/current-user"


async def test_quota_shows_what_is_used_and_left(make_harness: MakeHarness) -> None:
    harness: Harness = await make_harness(storage_quota_bytes=10_000_000, uploads_per_day=5)
    jane = await artist(harness)
    before = (await jane.client.get(ME, headers=jane.auth)).json()
    assert before["data"]["quota"] == {
        "bytesUsed": 0,
        "bytesLimit": 10_000_000,
        "bytesLeft": 10_000_000,
        "uploadsToday": 0,
        "uploadsPerDay": 5,
        "uploadsLeft": 5,
    }
    audio = tone("mp3", 0.5)
    await uploaded(jane, audio)
    # Another user's upload is not Jane's.
    await uploaded(await artist(harness, "bob"), tone("mp3", 0.3))
    after = (await jane.client.get(ME, headers=jane.auth)).json()
    assert_conforms(harness.app, "GET", ME, after)
    quota = after["data"]["quota"]
    [(size,)] = await harness.sql(
        "SELECT audio_size FROM songs WHERE owner_id = (SELECT id FROM users"
        " WHERE username = 'janedoe')"
    )
    assert quota["bytesUsed"] == size > 0
    assert quota["bytesLeft"] == 10_000_000 - size
    assert (quota["uploadsToday"], quota["uploadsLeft"]) == (1, 4)
    await harness.settle()  # the songs' processing, before the next test empties the tables
