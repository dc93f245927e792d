"""Search: typo-tolerant, ranked, literal, paginated per kind — on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bandstand.kit.ids import new_hex, new_id
from bandstand.search import kinds, postgres
from tests.conftest import Harness, bearer

SEARCH = "/api/v1/songs/search"


async def _song(
    harness: Harness, owner: str, title: str, genre: str | None = None, artist: str | None = None
) -> str:
    song_id = new_id()
    await harness.sql(
        "INSERT INTO songs (id, owner_id, title, description, genre, artist, duration, codec,"
        " sample_rate, channels, bitrate, audio_key, audio_format, audio_size, thumbnail_key,"
        " status, created_at, updated_at) VALUES"
        " (:id, :owner, :title, '', :genre, :artist, 1.0, 'mp3', 44100, 2, 128000, :audio,"
        " 'mp3', 1000, :cover, 'ready', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        id=song_id if harness.settings.is_embedded_database is False else song_id.hex,
        owner=uuid.UUID(owner)
        if not harness.settings.is_embedded_database
        else uuid.UUID(owner).hex,
        title=title,
        genre=genre,
        artist=artist,
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


# --- Transpositions and names --------------------------------------------------------------


async def test_transposed_letters_find_the_song_and_the_person(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    owner, auth = catalogue["artist"]["_id"], catalogue["auth"]
    for title in ("First Light", "Light & Friend", "Fast Lane"):
        await _song(harness, owner, title)
    # A transposition in each word: the song whose words they are comes first.
    assert _titles(await _search(harness, auth, "frist lihgt"))[0] == "First Light"
    assert _titles(await _search(harness, auth, "midngiht jazz"))[0] == "Midnight Jazz Session"
    await harness.sign_up(email_address="jane@example.com", username="jane", fullname="Jane")
    people = (await _search(harness, auth, "jnae"))["users"]["docs"]
    assert people[0]["username"] == "jane"
    assert (await _search(harness, auth, "nigthowl"))["users"]["docs"][0]["username"] == (
        "nightowl"
    )


async def test_a_transposition_ranks_below_the_same_words_spelled_right(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    owner = catalogue["artist"]["_id"]
    for title in ("Lvoe Letters", "Love Letters"):
        await _song(harness, owner, title)
    assert _titles(await _search(harness, catalogue["auth"], "lvoe letters"))[:2] == [
        "Lvoe Letters",
        "Love Letters",
    ]


async def test_an_artists_name_finds_their_songs(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    auth = catalogue["auth"]
    marisol = await harness.sign_up(
        email_address="mv@example.com", username="marisolv", fullname="Marisol Vandermeer"
    )
    songs = {await _song(harness, marisol["_id"], t) for t in ("Quiet Harbour", "Paper Boats")}
    for q in ("marisolv", "Marisol Vandermeer", "Marisol Vandermer", "marsiolv", "vandermeer"):
        found = (await _search(harness, auth, q))["songs"]["docs"]
        assert {doc["_id"] for doc in found} == songs, q
        assert all(doc["owner"]["username"] == "marisolv" for doc in found), q
    # A likeness short of a typo is not enough ("jazz" and "Jane Doe" share "ja").
    assert set(_titles(await _search(harness, auth, "jazz"))) == {
        "Midnight Jazz Session",
        "Blue in Green",
    }


async def test_an_artists_songs_page_newest_first(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    auth = catalogue["auth"]
    person = await harness.sign_up(email_address="o@example.com", username="oskarsson")
    made = [await _song(harness, person["_id"], f"Untitled {n}") for n in range(5)]
    for q in ("oskarsson", "oksarsson"):
        pages = [(await _search(harness, auth, q, limit=2, page=n))["songs"] for n in (1, 2, 3)]
        assert [doc["_id"] for p in pages for doc in p["docs"]] == made[::-1], q
        assert [p["hasNextPage"] for p in pages] == [True, True, False], q


async def test_a_songs_artist_finds_it(harness: Harness, catalogue: dict[str, Any]) -> None:
    auth = catalogue["auth"]
    song = await _song(harness, catalogue["artist"]["_id"], "Aria", artist="Orchestra Novella")
    for q in ("orchestra novella", "orchestra novela", "orchestra novlela"):
        assert [doc["_id"] for doc in (await _search(harness, auth, q))["songs"]["docs"]] == [
            song
        ], q
    # A name matches from about a typo away, not as a prefix or a passing likeness.
    for q in ("or", "orchid"):
        assert _titles(await _search(harness, auth, q)) == [], q
    # The index follows the artist as it changes.
    await harness.sql("UPDATE songs SET artist = 'Quartet Lumen' WHERE title = 'Aria'")
    assert _titles(await _search(harness, auth, "quartet lumen")) == ["Aria"]
    assert _titles(await _search(harness, auth, "orchestra novella")) == []


async def test_what_is_hidden_stays_hidden_when_respelled(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    auth = catalogue["auth"]
    await harness.sql("UPDATE users SET banned_at = CURRENT_TIMESTAMP WHERE username = 'nightowl'")
    for q in ("nigthowl", "nightowl"):
        assert (await _search(harness, auth, q))["users"]["docs"] == [], q


# --- Ranking and totals at scale -----------------------------------------------------------
# PostgreSQL reads levels of similarity (exact, close, weak) and walks the GiST index when a
# column has many exact matches; ``small_levels`` shrinks the limits so that a handful of
# rows takes those paths too. SQLite scores every match whatever the limits.


@pytest.fixture
def small_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past two exact or close matches a column is walked or sampled; six fill a window."""
    monkeypatch.setattr(postgres, "HEAD", 2)
    monkeypatch.setattr(kinds, "WINDOW", 6)


@pytest.mark.parametrize("levels", ["default", "small"])
async def test_a_typo_in_a_phrase_still_ranks_the_phrase_first(
    harness: Harness, catalogue: dict[str, Any], request: pytest.FixtureRequest, levels: str
) -> None:
    if levels == "small":
        request.getfixturevalue("small_levels")
    owner = catalogue["artist"]["_id"]
    for title in ("Midnight Sun", "Night Train", "Midnight Train", "Train Station", "Midnight"):
        await _song(harness, owner, title)
    titles = _titles(await _search(harness, catalogue["auth"], "midnigth train"))
    assert titles[0] == "Midnight Train"
    assert {"Midnight Sun", "Night Train"} <= set(titles[1:])


@pytest.mark.usefixtures("small_levels")
async def test_only_the_best_window_of_matches_is_paged_through(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    owner = catalogue["artist"]["_id"]
    songs = {await _song(harness, owner, "Lullaby") for _ in range(8)}
    pages = [
        (await _search(harness, catalogue["auth"], "lullaby", limit=4, page=n))["songs"]
        for n in (1, 2, 3)
    ]
    assert [len(p["docs"]) for p in pages] == [4, 2, 0]
    assert [p["hasNextPage"] for p in pages] == [True, False, False]
    assert pages[1]["totalDocs"] == 6 and pages[1]["totalPages"] == 2
    assert not any(p["totalExact"] for p in pages)
    # Equally similar songs (on PostgreSQL, in the GiST index's order): no page repeats one.
    seen = [doc["_id"] for p in pages for doc in p["docs"]]
    assert len(set(seen)) == 6 and set(seen) <= songs


@pytest.mark.usefixtures("small_levels")
async def test_exact_matches_come_before_many_close_ones(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    owner = catalogue["artist"]["_id"]
    await _song(harness, owner, "Lullabye")
    for word in ("One", "Two", "Three", "Four"):
        await _song(harness, owner, f"Lullaby {word}")
    data = (await _search(harness, catalogue["auth"], "lullabye"))["songs"]
    ids = [doc["_id"] for doc in data["docs"]]
    assert data["docs"][0]["title"] == "Lullabye" and len(ids) == 5
    assert data["totalDocs"] == 5 and data["hasNextPage"] is False
    # Read two at a time, the equally similar ones come in the same order.
    auth = catalogue["auth"]
    pages = [await _search(harness, auth, "lullabye", limit=2, page=n) for n in (1, 2, 3)]
    assert [doc["_id"] for page in pages for doc in page["songs"]["docs"]] == ids


@pytest.mark.usefixtures("small_levels")
async def test_the_most_similar_of_many_close_matches_come_first(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    owner = catalogue["artist"]["_id"]
    # Stored first, so a sample of the close matches in table order holds only these.
    for _ in range(3):
        await _song(harness, owner, "Lullabies Old")
    for _ in range(2):
        await _song(harness, owner, "Lullaby New")
    titles = _titles(await _search(harness, catalogue["auth"], "lullabye"))
    assert titles == ["Lullaby New"] * 2 + ["Lullabies Old"] * 3


async def test_totals_are_exact_when_every_match_was_seen(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    data = await _search(harness, catalogue["auth"], "jazz")
    assert data["songs"]["totalDocs"] == 2 and data["songs"]["totalExact"] is True
    assert data["playlists"]["totalExact"] is True
    prefix = (await _search(harness, catalogue["auth"], "he"))["songs"]
    assert prefix["totalDocs"] == 1 and prefix["totalExact"] is True


@pytest.mark.usefixtures("small_levels")
async def test_banned_people_stay_hidden_on_every_path(
    harness: Harness, catalogue: dict[str, Any]
) -> None:
    for n in (2, 3, 4):
        await harness.sign_up(email_address=f"owl{n}@example.com", username=f"nightowl{n}")
    found = await _search(harness, catalogue["auth"], "nightowl")
    assert "nightowl" in [u["username"] for u in found["users"]["docs"]]
    await harness.sql("UPDATE users SET banned_at = CURRENT_TIMESTAMP WHERE username = 'nightowl'")
    found = await _search(harness, catalogue["auth"], "nightowl")
    names = [u["username"] for u in found["users"]["docs"]]
    assert names and "nightowl" not in names


def test_the_close_level_reaches_one_typo_away() -> None:
    assert postgres.head_threshold("tokyo") == kinds.THRESHOLD  # short: all are close
    assert postgres.head_threshold("midnight") == 0.5
    assert postgres.head_threshold("midnigth train") == postgres.CLOSE_MAX
