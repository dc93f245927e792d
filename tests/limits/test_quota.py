"""The storage quota and the uploads a day: refused before anything is stored, and the
upload's answer says what is used and what is left."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.audio import tone
from tests.conftest import Harness
from tests.schema_check import assert_conforms
from tests.songs.support import UPLOAD, artist, song_count, upload


def _scratch(harness: Harness) -> list[Path]:
    """Uploads being read (songs/service.py spools each to a file of its own here)."""
    folder = harness.settings.scratch_dir
    return sorted(folder.glob("*.upload")) if folder.exists() else []


async def test_the_answer_says_what_is_used_and_left(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(storage_quota_bytes=10_000_000, uploads_per_day=5)
    jane = await artist(harness)
    audio = tone("mp3", 0.5)
    first = await upload(jane, audio)
    assert first.status_code == 201, first.text
    assert_conforms(harness.app, "POST", UPLOAD, first.json())
    assert first.json()["data"]["quota"] == {
        "bytesUsed": len(audio),
        "bytesLimit": 10_000_000,
        "bytesLeft": 10_000_000 - len(audio),
        "uploadsToday": 1,
        "uploadsPerDay": 5,
        "uploadsLeft": 4,
    }
    second = (await upload(jane, audio)).json()["data"]["quota"]
    assert (second["bytesUsed"], second["uploadsLeft"]) == (2 * len(audio), 3)


async def test_over_the_storage_quota_is_413_and_nothing_is_stored(make_harness) -> None:  # type: ignore[no-untyped-def]
    audio = tone("mp3", 0.5)
    harness: Harness = await make_harness(storage_quota_bytes=len(audio) + len(audio) // 2)
    jane = await artist(harness)
    assert (await upload(jane, audio)).status_code == 201
    await harness.settle()
    stored = harness.media_files()
    refused = await upload(jane, audio)
    assert refused.status_code == 413, refused.text
    body = refused.json()
    assert body["success"] is False and body["data"] is None
    assert "storage quota" in body["message"] and "left" in body["message"]
    assert harness.media_files() == stored
    assert await song_count(harness) == 1
    assert _scratch(harness) == []
    # Another user's quota is their own.
    assert (await upload(await artist(harness, "joe"), audio)).status_code == 201


async def test_past_the_uploads_of_a_day_is_429_and_nothing_is_stored(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(uploads_per_day=2)
    jane = await artist(harness)
    for left in (1, 0):
        answer = await upload(jane)
        assert answer.status_code == 201, answer.text
        assert answer.json()["data"]["quota"]["uploadsLeft"] == left
    await harness.settle()
    stored = harness.media_files()
    refused = await upload(jane)
    assert refused.status_code == 429, refused.text
    assert "today" in refused.json()["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 24 * 3600 + 1
    assert harness.media_files() == stored
    assert await song_count(harness) == 2
    assert _scratch(harness) == []


async def test_deleting_a_song_gives_its_bytes_back(make_harness) -> None:  # type: ignore[no-untyped-def]
    audio = tone("mp3", 0.5)
    harness: Harness = await make_harness(storage_quota_bytes=len(audio) + 10)
    jane = await artist(harness)
    song = (await upload(jane, audio)).json()["data"]
    assert (await upload(jane, audio)).status_code == 413
    deleted = await jane.client.request(
        "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=jane.auth
    )
    assert deleted.status_code == 200, deleted.text
    assert (await upload(jane, audio)).status_code == 201


async def test_deleting_a_song_does_not_give_its_upload_back(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(uploads_per_day=2)
    jane = await artist(harness)
    for _ in range(2):
        song = (await upload(jane)).json()["data"]
        await harness.settle()
        deleted = await jane.client.request(
            "DELETE", "/api/v1/songs/delete", json={"songId": song["_id"]}, headers=jane.auth
        )
        assert deleted.status_code == 200, deleted.text
    # Upload, delete, upload again: still two a day.
    assert (await upload(jane)).status_code == 429


async def test_uploads_at_once_cannot_overrun_the_quota(make_harness) -> None:  # type: ignore[no-untyped-def]
    """Each alone fits; together they do not: the decision is taken one upload at a time."""
    audio = tone("mp3", 0.5)
    harness: Harness = await make_harness(storage_quota_bytes=2 * len(audio) + 10)
    jane = await artist(harness)
    answers = await asyncio.gather(*(upload(jane, audio) for _ in range(4)))
    await harness.settle()
    assert sorted(a.status_code for a in answers) == [201, 201, 413, 413]
    assert await song_count(harness) == 2
    assert _scratch(harness) == []
