"""Search: typo-tolerant, ranked, literal, paginated per kind — on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bandstand.kit.ids import new_hex, new_id
from tests.conftest import Harness, bearer

SEARCH = "/api/v1/songs/search"


async def _song(harness: Harness, owner: str, title: str, genre: str | None = None) -> str:
    song_id = new_id()
    await harness.sql(
        "INSERT INTO songs (id, owner_id, title, description, genre, artist, duration, codec,"
        " sample_rate, channels, bitrate, audio_key, audio_format, audio_size, thumbnail_key,"
        " status, views, like_count, comment_count, created_at, updated_at) VALUES"
        " (:id, :owner, :title, '', :genre, NULL, 1.0, 'mp3', 44100, 2, 128000, :audio, 'mp3',"
        " 1000, :cover, 'ready', 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        id=song_id if harness.settings.is_embedded_database is False else song_id.hex,
        owner=uuid.UUID(owner)
        if not harness.settings.is_embedded_database
        else uuid.UUID(owner).hex,
        title=title,
        genre=genre,
        audio=f"songs/{new_hex()}/original.mp3",
        cover=f"covers/{new_hex()}.webp",
    )
    return str(song_id)


@pytest.fixture
async def catalogue(harness: Harness) -> dict[str, Any]:
    artist = await harness.sign_up(email_address="artist@example.com", username="nightowl")
    me = await harness.sign_up(email_address="me@example.com", username="listener")
    tokens = await harness.log_in(harness.client(), "me@example.com")
    ids = {
        title: await _song(harness, artist["_id"], title, genre)
        for title, genre in (
            ("Hello World", "Pop"),
            ("Midnight Jazz Session", "Jazz"),
            ("The End", "Rock"),
            ("100% Pure", "Electronic"),
            ("Blue in Green", "Jazz"),
            ('Quote " and back\\slash', None),
        )
    }
    return {"auth": bearer(tokens["accessToken"]), "ids": ids, "artist": artist, "me": me}


async def _search(harness: Harness, auth: dict[str, str], q: str, **params: Any) -> Any:
    response = await harness.client().get(SEARCH, params={"q": q, **params}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _titles(data: Any) -> list[str]:
    return [doc["title"] for doc in data["songs"]["docs"]]


async def test_typos_still_find_the_song(harness: Harness, catalogue: dict[str, Any]) -> None:
    assert _titles(await _search(harness, catalogue["auth"], "helo wrld"))[0] == "Hello World"
    assert _titles(await _search(harness, catalogue["auth"], "Midnite Jazz"))[0] == (
        "Midnight Jazz Session"
    )


async def test_genre_matches_and_ranking(harness: Harness, catalogue: dict[str, Any]) -> None:
    titles = _titles(await _search(harness, catalogue["auth"], "jazz"))
    assert set(titles) == {"Midnight Jazz Session", "Blue in Green"}
    data = await _search(harness, catalogue["auth"], "Blue in Green")
    assert _titles(data)[0] == "Blue in Green"
    assert data["songs"]["docs"][0]["owner"]["username"] == "nightowl"


async def test_people_are_found_without_their_email(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    data = await _search(harness, catalogue["auth"], "nightowel")
    assert [u["username"] for u in data["users"]["docs"]] == ["nightowl"]
    assert "artist@example.com" not in str(data)
    await harness.sql("UPDATE users SET banned_at = CURRENT_TIMESTAMP WHERE username = 'nightowl'")
    assert (await _search(harness, catalogue["auth"], "nightowl"))["users"]["docs"] == []


@pytest.mark.parametrize("q", ["%", "_", "%%%", "___", ".*", "%_%", "\\", "'", '"', "' OR 1=1 --"])
async def test_the_query_is_text_not_a_pattern(
    harness: Harness, catalogue: dict[str, Any], q: str
) -> None:
    data = await _search(harness, catalogue["auth"], q)
    assert len(_titles(data)) < len(catalogue["ids"]), q


async def test_special_characters_are_searched_for_literally(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    assert _titles(await _search(harness, catalogue["auth"], "10")) == ["100% Pure"]
    assert _titles(await _search(harness, catalogue["auth"], "100% Pure"))[0] == "100% Pure"
    assert _titles(await _search(harness, catalogue["auth"], 'Quote "'))[0].startswith("Quote")


async def test_one_or_two_characters_match_as_a_prefix(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    assert _titles(await _search(harness, catalogue["auth"], "he")) == ["Hello World"]
    assert _titles(await _search(harness, catalogue["auth"], "B")) == ["Blue in Green"]


async def test_bad_queries(harness: Harness, catalogue: dict[str, Any]) -> None:
    client = harness.client()
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "x" * 101}, {"q": "a\x00b"}):
        response = await client.get(SEARCH, params=params, headers=catalogue["auth"])
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] == "q"
    assert (await client.get(SEARCH, params={"q": "jazz"})).status_code == 401


async def test_each_kind_is_paginated(harness: Harness, catalogue: dict[str, Any]) -> None:
    first = await _search(harness, catalogue["auth"], "jazz", limit=1)
    second = await _search(harness, catalogue["auth"], "jazz", limit=1, page=2)
    assert first["songs"]["totalDocs"] == 2 and first["songs"]["hasNextPage"] is True
    assert len(first["songs"]["docs"]) == len(second["songs"]["docs"]) == 1
    assert _titles(first) != _titles(second)
    assert first["playlists"] == {**first["playlists"], "docs": [], "totalDocs": 0}


async def test_search_index_follows_changes(harness: Harness, catalogue: dict[str, Any]) -> None:
    await harness.sql("UPDATE songs SET title = 'Goodbye Moon' WHERE title = 'Hello World'")
    assert _titles(await _search(harness, catalogue["auth"], "goodbye moon")) == ["Goodbye Moon"]
    assert "Hello World" not in _titles(await _search(harness, catalogue["auth"], "hello world"))
    await harness.sql("DELETE FROM songs WHERE title = 'Goodbye Moon'")
    assert _titles(await _search(harness, catalogue["auth"], "goodbye moon")) == []
