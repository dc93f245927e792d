"""How a comment reads: VADER's compound score, and whether it is abusive enough to flag.

A comment is flagged when it scores at or below ``settings.comment_flag_below`` or uses a
word or phrase of ``data/profanity.txt``. Both models are built on first use, not at import.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

# VADER's own bands for the compound score.
POSITIVE, NEGATIVE = 0.05, -0.05

# VADER's general lexicon reads these as hostile ("sick" -2.3, "killer" -3.3, and 🔥 through
# its emoji description "fire"); under a song they are praise, and left alone they would
# hold "this is fire 🔥" for review. Valences on VADER's -4..4 scale.
MUSIC_SLANG = {
    "fire": 1.5,
    "insane": 1.5,
    "sick": 1.5,
    "killer": 1.5,
    "wicked": 1.5,
    "banger": 2.5,
    "slaps": 2.0,
}

# Letters and the digits and symbols people put in their place ("b1tch", "$lut").
_WORD = re.compile(r"[a-z0-9@$!|]+")
_LEET = str.maketrans("013457@$!|", "oieastasii")
_RUNS = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Assessment:
    score: float
    flagged: bool


@dataclass(frozen=True)
class _Listed:
    # A listed word with its letter runs squeezed ("asshole" -> "ashole") -> the shortest
    # listed spelling, so "fuuuck"-style stretching matches but a shorter everyday word
    # that squeezes the same does not.
    words: dict[str, int]
    phrases: tuple[str, ...]


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(MUSIC_SLANG)
    return analyzer


def _squeeze(word: str) -> str:
    return _RUNS.sub(r"\1", word)


def _words(text: str) -> list[str]:
    """Lower-case words with accents dropped and symbol swaps undone."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    found = (w.strip("!|") for w in _WORD.findall(plain))
    return [w.translate(_LEET) for w in found if w]


@cache
def _listed() -> _Listed:
    text = resources.files("bandstand.comments").joinpath("data/profanity.txt").read_text()
    words: dict[str, int] = {}
    phrases: list[str] = []
    for line in text.splitlines():
        entry = line.strip().lower()
        if not entry or entry.startswith("#"):
            continue
        if " " in entry:
            phrases.append(" ".join(_squeeze(w) for w in entry.split()))
        else:
            key = _squeeze(entry)
            words[key] = min(words.get(key, len(entry)), len(entry))
    return _Listed(words=words, phrases=tuple(phrases))


def uses_listed_word(text: str) -> bool:
    """Whether ``text`` holds a listed word or phrase, as whole words."""
    listed = _listed()
    words = _words(text)
    for word in words:
        shortest = listed.words.get(_squeeze(word))
        if shortest is not None and len(word) >= shortest:
            return True
    joined = f" {' '.join(_squeeze(w) for w in words)} "
    return any(f" {phrase} " in joined for phrase in listed.phrases)


def score(text: str) -> float:
    """VADER's compound score, -1 (hostile) .. 1 (glowing)."""
    compound: float = _analyzer().polarity_scores(text)["compound"]
    return compound


def _assess(text: str, flag_below: float) -> Assessment:
    value = score(text)
    return Assessment(score=value, flagged=value <= flag_below or uses_listed_word(text))


async def assess(text: str, flag_below: float) -> Assessment:
    """Score and flag ``text`` in a thread: a long comment costs VADER milliseconds."""
    return await asyncio.to_thread(_assess, text, flag_below)
