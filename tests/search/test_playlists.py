"""Search finds public playlists by name: typo-tolerant, ranked, literal, paginated, and
never a private one, not even for its owner."""

from __future__ import annotations

from typing import Any

import pytest

from bandstand.search import kinds
from tests.conftest import Harness
from tests.playlists.support import PLAYLIST_FIELDS, created
from tests.songs.support import Artist, artist

SEARCH = "/api/v1/songs/search"


@pytest.fixture
async def jane(harness: Harness) -> Artist:
    return await artist(harness)


@pytest.fixture
async def mallory(harness: Harness) -> Artist:
    return await artist(harness, "mallory")


async def _found(who: Artist, q: str, **params: Any) -> dict[str, Any]:
    response = await who.client.get(SEARCH, params={"q": q, **params}, headers=who.auth)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()["data"]["playlists"]
    return page


def _names(page: dict[str, Any]) -> list[str]:
    return [doc["playlist_name"] for doc in page["docs"]]


async def test_typos_still_find_the_playlist(jane: Artist, mallory: Artist) -> None:
    await created(jane, "Sunday Morning Coffee")
    await created(jane, "Workout Bangers")
    page = await _found(mallory, "sundy mornin")
    assert _names(page) == ["Sunday Morning Coffee"]
    [doc] = page["docs"]
    assert set(doc) == PLAYLIST_FIELDS
    assert doc["owner"]["username"] == "janedoe" and "email" not in doc["owner"]
    assert page["totalDocs"] == 1 and page["totalExact"] is True


async def test_closer_names_rank_first_then_newest(jane: Artist, mallory: Artist) -> None:
    await created(jane, "Chill Evening")
    older = await created(jane, "Chill")
    await created(jane, "Chilled Out Vibes")
    newer = await created(mallory, "Chill")
    page = await _found(mallory, "chill")
    names = _names(page)
    assert names[:2] == ["Chill", "Chill"]
    assert [doc["_id"] for doc in page["docs"][:2]] == [newer["_id"], older["_id"]]
    assert set(names[2:]) == {"Chill Evening", "Chilled Out Vibes"}


async def test_one_or_two_characters_match_as_a_prefix(jane: Artist) -> None:
    await created(jane, "Jazz Brunch")
    await created(jane, "Late Jazz")
    assert _names(await _found(jane, "ja")) == ["Jazz Brunch"]
    assert _names(await _found(jane, "J")) == ["Jazz Brunch"]


@pytest.mark.parametrize("q", ["%", "_", "%%%", "___", "' OR 1=1 --", '"', "\\"])
async def test_the_query_is_text_not_a_pattern(jane: Artist, q: str) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        await created(jane, name)
    assert _names(await _found(jane, q)) == []


async def test_special_characters_are_searched_for_literally(jane: Artist) -> None:
    await created(jane, "100% Hits")
    await created(jane, "Other")
    assert _names(await _found(jane, "10")) == ["100% Hits"]
    assert _names(await _found(jane, "100% hits")) == ["100% Hits"]


async def test_private_playlists_are_never_found(jane: Artist, mallory: Artist) -> None:
    secret = await created(jane, "Rainy Day Secrets", isPublic=False)
    await created(jane, "Rainy Day Songs")
    for who in (jane, mallory):
        page = await _found(who, "rainy day")
        assert _names(page) == ["Rainy Day Songs"] and page["totalDocs"] == 1
        assert secret["_id"] not in str(page)
    assert _names(await _found(jane, "ra")) == ["Rainy Day Songs"]


async def test_transposed_letters_find_the_playlist_but_never_a_private_one(
    jane: Artist, mallory: Artist
) -> None:
    secret = await created(jane, "Rainy Day Secrets", isPublic=False)
    await created(jane, "Rainy Day Songs")
    await created(jane, "Chill")
    await created(jane, "Workout Bangers")
    assert _names(await _found(mallory, "chlil")) == ["Chill"]
    assert _names(await _found(mallory, "wokrout bnagers")) == ["Workout Bangers"]
    for who in (jane, mallory):
        page = await _found(who, "rainy day sercets")
        assert _names(page) == ["Rainy Day Songs"] and secret["_id"] not in str(page)


async def test_the_search_follows_renames_and_deletes(jane: Artist) -> None:
    playlist = await created(jane, "Old Name")
    renamed = await jane.client.post(
        f"/api/v1/playlist/{playlist['_id']}/update",
        json={"playlist_name": "Fresh Title"},
        headers=jane.auth,
    )
    assert renamed.status_code == 200
    assert _names(await _found(jane, "fresh title")) == ["Fresh Title"]
    assert _names(await _found(jane, "old name")) == []
    deleted = await jane.client.request(
        "DELETE", "/api/v1/playlist/delete", json={"playlistId": playlist["_id"]}, headers=jane.auth
    )
    assert deleted.status_code == 200
    assert _names(await _found(jane, "fresh title")) == []


async def test_playlists_are_paginated_through_the_best_window(
    jane: Artist, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [(await created(jane, f"Road Trip {n}"))["_id"] for n in range(5)]
    pages = [await _found(jane, "road trip", limit=2, page=n) for n in (1, 2, 3, 4)]
    assert [len(p["docs"]) for p in pages] == [2, 2, 1, 0]
    assert [p["hasNextPage"] for p in pages] == [True, True, False, False]
    assert all(p["totalDocs"] == 5 and p["totalExact"] for p in pages)
    seen = [doc["_id"] for p in pages for doc in p["docs"]]
    assert seen == made[::-1]  # equally similar: newest first
    monkeypatch.setattr(kinds, "WINDOW", 3)
    capped = [await _found(jane, "road trip", limit=2, page=n) for n in (1, 2)]
    assert [len(p["docs"]) for p in capped] == [2, 1]
    assert capped[0]["totalDocs"] == 3 and capped[0]["totalExact"] is False
