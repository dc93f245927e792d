"""Trigram similarity, the same idea as PostgreSQL's ``word_similarity``: the share of the
query's trigrams that appear in the text.

Trigrams forgive a wrong letter (three trigrams of a word change) but hardly two swapped
ones: "frist" keeps two of the six trigrams of "first", "jnae" one of the five of "jane".
So a transposition counts as one edit: a text holding every trigram of one of the query's
``spellings`` (each undoing a transposition in a word, or one in each of two words) is
as similar as ``RESPELLED`` per transposition undone, if the query as typed is not closer.
SQLite connections get ``similarity`` as the SQL function ``bandstand_similarity``;
search/postgres.py asks PostgreSQL the same of its ``word_similarity``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+")
# What a text holding a respelled query is worth, per transposition undone.
RESPELLED = 0.9
# A longer query keeps five sixths of its trigrams or more through a transposition in a
# word, which the similarity alone forgives: it is not respelled.
SPELLED_UP_TO = 24
# At most this many spellings, those with one transposition first: enough for two words
# of eight letters to be respelled each. PostgreSQL scores each on every candidate.
MOST_SPELLINGS = 64
# A swap in a shorter word makes another word rather than a typo of it ("of", "fo").
SHORTEST_WORD = 3


def trigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@lru_cache(maxsize=512)
def spellings(query: str) -> tuple[tuple[str, float], ...]:
    """``query`` with two adjacent letters swapped in one of its words (of ``SHORTEST_WORD``
    letters or more), or in each of two, without repeats, and what a text holding all its
    trigrams is worth; none for a query of more than ``SPELLED_UP_TO`` trigrams."""
    if len(trigrams(query)) > SPELLED_UP_TO:
        return ()
    words = [word for word in _WORD.finditer(query) if len(word.group()) >= SHORTEST_WORD]
    swaps = [
        [(word.start(), _swapped(word.group(), i)) for i in range(len(word.group()) - 1)]
        for word in words
    ]
    singles = [[swap] for options in swaps for swap in options]
    pairs = [
        [first, second]
        for n, options in enumerate(swaps)
        for later in swaps[n + 1 :]
        for first in options
        for second in later
    ]
    seen = {query.lower()}
    found: list[tuple[str, float]] = []
    for changes in [*singles, *pairs]:
        spelling = query
        for start, word in changes:
            spelling = spelling[:start] + word + spelling[start + len(word) :]
        if spelling.lower() not in seen:
            seen.add(spelling.lower())
            found.append((spelling, RESPELLED ** len(changes)))
    return tuple(found[:MOST_SPELLINGS])


def respelled_words(query: str) -> tuple[tuple[str, ...], ...]:
    """Each word ``spellings`` may respell, with its respellings: a text holding one of the
    spellings whole holds one of each (a superset, as an index can look for it)."""
    if not spellings(query):
        return ()
    return tuple(
        tuple(dict.fromkeys([word, *(_swapped(word, i) for i in range(len(word) - 1))]))
        for word in _WORD.findall(query)
        if len(word) >= SHORTEST_WORD
    )


def _swapped(word: str, i: int) -> str:
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@lru_cache(maxsize=512)
def _query_trigrams(query: str) -> frozenset[str]:
    return frozenset(trigrams(query))


def similarity(query: str, text: str | None) -> float:
    """The share of the query's trigrams in ``text``, or, if more, the worth of a spelling
    whose trigrams it holds all of (a transposition counting as one edit)."""
    wanted = _query_trigrams(query)
    if not wanted or not text:
        return 0.0
    found = trigrams(text)
    best = len(wanted & found) / len(wanted)
    for spelling, worth in spellings(query):
        if worth > best and _query_trigrams(spelling) <= found:
            best = worth
    return best
