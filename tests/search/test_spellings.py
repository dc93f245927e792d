"""Transpositions count as one edit (kit/trigrams.py): the spellings a query is tried in,
and the similarity SQLite scores with (PostgreSQL asks the same of pg_trgm)."""

from __future__ import annotations

import pytest

from bandstand.kit.trigrams import (
    RESPELLED,
    SPELLED_UP_TO,
    respelled_words,
    similarity,
    spellings,
    trigrams,
)

pytestmark = pytest.mark.backend_free


def test_a_transposed_word_is_as_close_as_one_edit() -> None:
    assert similarity("jnae", "Jane") == RESPELLED
    assert similarity("frist lihgt", "First Light") == RESPELLED**2
    # Without the respelling, trigrams keep hardly anything of them.
    assert len(trigrams("jnae") & trigrams("jane")) == 1
    # Spelled as typed is closer still, and a respelling counts only whole.
    assert similarity("jane", "Jane") == 1.0
    assert similarity("lvoe", "Lover") < RESPELLED


def test_spellings_undo_one_transposition_or_one_in_each_of_two_words() -> None:
    assert [s for s, _ in spellings("jnae")] == ["njae", "jane", "jnea"]
    found = dict(spellings("frist lihgt"))
    assert found["first lihgt"] == RESPELLED and found["first light"] == RESPELLED**2
    assert "frist lihgt" not in found and "rfits lihgt" not in found  # two in one word
    # Short words are other words when swapped; a repeated letter swaps to itself.
    assert [s for s, _ in spellings("of moon")] == ["of omon", "of mono"]
    assert respelled_words("of moon") == (("moon", "omon", "mono"),)


def test_long_queries_are_not_respelled() -> None:
    long = "the quick brown fox jumps over"
    assert len(trigrams(long)) > SPELLED_UP_TO
    assert spellings(long) == () and respelled_words(long) == ()
