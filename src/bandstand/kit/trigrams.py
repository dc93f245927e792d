"""Trigram similarity, the same idea as PostgreSQL's ``word_similarity``: the share of the
query's trigrams that appear in the text. SQLite connections get it as the SQL function
``bandstand_word_similarity``."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")


def trigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def word_similarity(query: str, text: str | None) -> float:
    wanted = trigrams(query)
    if not wanted or not text:
        return 0.0
    return len(wanted & trigrams(text)) / len(wanted)
