"""PostgreSQL's search at a scale the other tests do not reach: a name shared by more people
than a statement could carry as parameters, and a respelled word held by more rows than are
worth scoring (``postgres.RESPELL_CANDIDATES``), and a search past its statement timeout.
SQLite scores every match in one statement and has none of these limits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bandstand.search import postgres
from tests.conftest import Harness, bearer
from tests.search.test_search import SEARCH, _search, _song, _titles

# More people than asyncpg's 32,767 parameters could name at two parameters each.
JOHNS = 17_000


@pytest.fixture
def on_postgres(harness: Harness) -> None:
    if harness.settings.is_embedded_database:
        pytest.skip("PostgreSQL's search; SQLite's has no such limits")


@pytest.mark.usefixtures("on_postgres")
async def test_a_name_shared_by_thousands_still_finds_their_songs(harness: Harness) -> None:
    me = await harness.sign_up(email_address="me@example.com", username="listener")
    auth = bearer((await harness.tokens(me))["accessToken"])
    await harness.sql(
        "INSERT INTO users (id, fullname, email, username, username_key, password_hash, role,"
        " created_at, updated_at)"
        " SELECT gen_random_uuid(), 'John ' || n, 'john' || n || '@example.com', 'john' || n,"
        " 'john' || n, 'x', 'user', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
        " FROM generate_series(1, :johns) AS n",
        johns=JOHNS,
    )
    # Among the first people in table order, which is what a probe reads of so many
    # (``postgres.OWNERS_READ``).
    owners = await harness.sql(
        "SELECT id, username FROM users WHERE username IN ('john7', 'john1500')"
    )
    made = [await _song(harness, str(ident), f"Harbour {name}") for ident, name in owners]
    for q in ("john", "jhon"):
        found = (await _search(harness, auth, q))["songs"]
        assert [doc["_id"] for doc in found["docs"]] == sorted(made, reverse=True), q
        # More people hold the name than were read: the total is a lower bound.
        assert found["totalExact"] is False, q


@pytest.mark.usefixtures("on_postgres")
async def test_a_respelled_common_word_scores_only_the_first_candidates(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "RESPELL_CANDIDATES", 3, raising=False)
    me = await harness.sign_up(email_address="me@example.com", username="listener")
    auth = bearer((await harness.tokens(me))["accessToken"])
    made = [await _song(harness, me["_id"], f"The {word}") for word in ("Ash", "Oak", "Elm", "Yew")]
    data: Any = await _search(harness, auth, "teh")
    # Four titles hold "the"; the first three in table order were scored, and the total
    # says it is a lower bound.
    assert sorted(_titles(data)) == ["The Ash", "The Elm", "The Oak"]
    assert {doc["_id"] for doc in data["songs"]["docs"]} < set(made)
    assert data["songs"]["totalExact"] is False


@pytest.mark.usefixtures("on_postgres")
async def test_a_search_past_its_statement_timeout_is_a_503(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await harness.sign_up(email_address="me@example.com", username="listener")
    auth = bearer((await harness.tokens(me))["accessToken"])
    await harness.sql(
        "INSERT INTO songs (id, owner_id, title, description, duration, codec, sample_rate,"
        " channels, bitrate, audio_key, audio_format, audio_size, thumbnail_key, status,"
        " created_at, updated_at)"
        " SELECT gen_random_uuid(), :owner, 'The Song ' || n, '', 1.0, 'mp3', 44100, 2, 128000,"
        " 'songs/' || md5(n::text) || '/original.mp3', 'mp3', 1000,"
        " 'covers/' || md5(n::text) || '.webp', 'ready',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM generate_series(1, 2000) AS n",
        owner=uuid.UUID(me["_id"]),
    )
    assert len(_titles(await _search(harness, auth, "teh"))) == 10
    # Scoring two thousand respelled candidates takes longer than a millisecond.
    monkeypatch.setattr(postgres, "STATEMENT_TIMEOUT", "1ms", raising=False)
    response = await harness.client().get(SEARCH, params={"q": "teh"}, headers=auth)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
