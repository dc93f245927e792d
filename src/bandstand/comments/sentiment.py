"""How a comment reads: VADER's compound score, and whether it is abusive enough to flag.

A comment is flagged when it scores at or below ``settings.comment_flag_below`` or uses a
word or phrase of the instance's word list (``settings.comment_word_list``; unset, the
bundled ``data/profanity.txt``): moderation policy is the instance's. The word list is
read on first use and again whenever its file changes; VADER is built on first use. Nothing
is built at import.

Before matching, the usual disguises are undone: accents and look-alike letters from other
alphabets ("Bítch", a Cyrillic "с"), invisible characters, digits and symbols in place of
letters ("sh1t", "a$$", "b!tch"), letters spaced or dotted apart ("f u c k", "s.h.i.t",
"f-u-c-k"), stretched letters ("fuuuck"), and, for phrases, contractions, texting ("u",
"ur", "gonna") and filler words ("you should just die"). Words match whole, never inside
another word: "Scunthorpe", "classic" and "assess" are not what they contain. Symbols
standing for hidden letters ("f*ck") are left alone: writing so is self-censorship, not a
disguise.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

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
_TOKEN = re.compile(r"[a-z0-9@$!|]+")
# "1" and "|" stand for "i" or for "l": both readings are tried ("sh1t", "s1ut").
_LEET_I = str.maketrans("013457@$!|", "oieastasii")
_LEET_L = str.maketrans("013457@$!|", "oleastasil")
_RUNS = re.compile(r"(.)\1+")
# Letters of other alphabets drawn like Latin ones: "ѕhіt" in Cyrillic reads "shit".
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһӏԛԝαεικνορτυχ",
    "aeopcyxijsdhlqwaeikvoptux",
)
_APOSTROPHES = str.maketrans("’‘ʼ`´", "'''''")
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'ve\b"), " have"),
)
# Texting, read as written out when phrases are matched ("i will kill u").
_TEXTING = {
    "u": ("you",),
    "ya": ("you",),
    "yu": ("you",),
    "ur": ("you", "are"),
    "youre": ("you", "are"),
    "r": ("are",),
    "im": ("i", "am"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "imma": ("i", "am", "going", "to"),
    "ima": ("i", "am", "going", "to"),
}
# Words a phrase may have in the middle without changing it ("you should just die").
_FILLERS = frozenset(
    {"just", "really", "literally", "actually", "honestly", "seriously", "totally", "all", "so"}
)
# Ends a sentence, for phrases listed with a full stop ("i will find you."): here, at the
# end of the text, or before another line.
_SENTENCE_END = re.compile(r"[.!?,;:\n]")
_END = "."


@dataclass(frozen=True)
class Assessment:
    score: float
    flagged: bool
    # Why it was flagged, for the moderators: what it used, or how it scored.
    why: str | None = None


@dataclass(frozen=True)
class WordList:
    """A word list, ready to match: each word by its spelling with letter runs squeezed
    ("asshole" -> "ashole", so "fuuuck"-style stretching matches), with the shortest
    listed length of that spelling (so a shorter everyday word that squeezes the same,
    "as" for "ass", does not) and the entry as listed; each phrase by its squeezed words,
    with a full stop last if it must end a sentence."""

    words: dict[str, tuple[int, str]]
    phrases: dict[str, list[tuple[tuple[str, ...], str]]]  # by first word
    # Every beginning of a squeezed word ("f", "fu", "fuc", "fuck").
    prefixes: frozenset[str]
    # Letters spelled out one by one are read as a word this long at most: the longest
    # listed word, stretched to twice its length ("f u u u c k").
    longest: int


@dataclass(frozen=True)
class _Token:
    text: str
    # Whether a sentence ends right after it.
    ends_sentence: bool
    # Whether the text just before it holds no space ("s.h.i.t", "f-u-c-k").
    joined_to_previous: bool


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(MUSIC_SLANG)
    return analyzer


def _squeeze(word: str) -> str:
    return _RUNS.sub(r"\1", word)


def _fold(text: str) -> str:
    """Lower case without accents, invisible characters or look-alike letters."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    return kept.translate(_LOOKALIKES).translate(_APOSTROPHES)


def _tokens(folded: str) -> list[_Token]:
    found: list[_Token] = []
    matches = list(_TOKEN.finditer(folded))
    for i, match in enumerate(matches):
        word = match.group().strip("!|")
        if not word:
            continue
        # A "!" it ends with is not part of it ("you!"), and ends the sentence.
        following = match.group()[len(match.group().rstrip("!")) :]
        if i + 1 < len(matches):
            following += folded[match.end() : matches[i + 1].start()]
        before = folded[matches[i - 1].end() : match.start()] if i else " "
        found.append(
            _Token(
                text=word,
                ends_sentence=i + 1 == len(matches) or bool(_SENTENCE_END.search(following)),
                joined_to_previous=bool(before) and not any(ch.isspace() for ch in before),
            )
        )
    return found


def _readings(word: str) -> set[str]:
    """How ``word`` reads with symbol swaps undone. One with no letter at all is a number
    or a symbol ("455", "$$"), never a disguised word."""
    if not any(ch.isalpha() for ch in word):
        return {word}
    return {word.translate(_LEET_I), word.translate(_LEET_L)}


def _groups(tokens: list[_Token]) -> Iterator[str]:
    """Words split by symbols: tokens with no space between them ("s.h.i.t", "sh.it")."""
    start = 0
    for end in range(1, len(tokens) + 1):
        if end == len(tokens) or not tokens[end].joined_to_previous:
            if end - start > 1:
                yield "".join(t.text for t in tokens[start:end])
            start = end


def _spelled(tokens: list[_Token], words: WordList) -> Iterator[str]:
    """Listed words spelled out in single letters ("f u c k", "k y s"), anywhere in a
    stretch of them. Each start is walked only while what follows can still be a listed
    word, so a long stretch costs little."""
    letters: list[str] = []
    for token in [*tokens, None]:
        if token is not None and len(token.text) == 1:
            letters.append(token.text)
            continue
        if len(letters) > 1:
            spelled = "".join(letters)
            for reading in {spelled.translate(_LEET_I), spelled.translate(_LEET_L)}:
                for i in range(len(reading)):
                    squeezed, lettered = "", False
                    for j in range(i, min(len(reading), i + words.longest)):
                        if not squeezed.endswith(reading[j]):
                            squeezed += reading[j]
                        if squeezed not in words.prefixes:
                            break
                        lettered = lettered or spelled[j].isalpha()
                        if j > i and lettered and squeezed in words.words:
                            yield reading[i : j + 1]
        letters = []


def _prepared(text: str) -> list[_Token]:
    folded = _fold(text)
    for pattern, replacement in _CONTRACTIONS:
        folded = pattern.sub(replacement, folded)
    return _tokens(folded)


def _sequence(tokens: list[_Token]) -> list[set[str]]:
    """The words of a text as phrases are matched against them: each position the
    squeezed readings of a word, texting written out, fillers dropped, and a full stop
    where a sentence ends."""
    positions: list[set[str]] = []
    for token in tokens:
        readings = _readings(token.text)
        if readings <= _FILLERS:
            pass
        elif len(readings) == 1 and (expanded := _TEXTING.get(next(iter(readings)))):
            positions.extend({_squeeze(word)} for word in expanded)
        else:
            positions.append({_squeeze(word) for word in readings})
        if token.ends_sentence and positions and positions[-1] != {_END}:
            positions.append({_END})
    return positions


def parse_word_list(text: str) -> WordList:
    """A word list from its text: one word or phrase a line, in any case; blank lines and
    lines starting with "#" are skipped. A phrase ending in a full stop matches only at the
    end of a sentence ("i will find you." but not "I'll find you the link")."""
    words: dict[str, tuple[int, str]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}

    def add_word(spelling: str, entry: str) -> None:
        key = _squeeze(spelling)
        shortest, first_entry = words.get(key, (len(spelling), entry))
        words[key] = (min(shortest, len(spelling)), first_entry)

    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        tokens = _prepared(entry.rstrip("."))
        if len(tokens) == 1:
            add_word(min(_readings(tokens[0].text)), entry)
            continue
        sequence = [p for p in _sequence(tokens) if p != {_END}]
        if not sequence:
            continue
        phrase = tuple(min(p) for p in sequence) + ((_END,) if entry.endswith(".") else ())
        phrases.setdefault(phrase[0], []).append((phrase, entry))
        # Written as one word ("fuckyou"; "k.y.s" already is one) it is still the phrase.
        add_word(min(_readings("".join(t.text for t in tokens))), entry)
    prefixes = frozenset(key[:n] for key in words for n in range(1, len(key) + 1))
    longest = 2 * max((len(key) for key in words), default=0)
    return WordList(words=words, phrases=phrases, prefixes=prefixes, longest=longest)


def _bundled_text() -> str:
    return resources.files("bandstand.comments").joinpath("data/profanity.txt").read_text("utf-8")


@cache
def _bundled() -> WordList:
    return parse_word_list(_bundled_text())


_loaded: dict[Path, tuple[tuple[int, int], WordList]] = {}
_loading = threading.Lock()


def word_list(path: Path | None) -> WordList:
    """The word list of ``path`` (None: the bundled one), read again when its file
    changes, so an admin's edit takes effect at the next comment, without a restart. A
    file that cannot be read keeps the list last read from it; with none, the error
    stands (no comment is let through unchecked)."""
    if path is None:
        return _bundled()
    with _loading:
        kept = _loaded.get(path)
        try:
            stat = os.stat(path)
            version = (stat.st_mtime_ns, stat.st_size)
            if kept is None or kept[0] != version:
                kept = version, parse_word_list(path.read_text("utf-8"))
                _loaded[path] = kept
        except (OSError, UnicodeDecodeError):
            if kept is None:
                raise
        return kept[1]


def listed(text: str, words: WordList) -> str | None:
    """The entry of ``words`` that ``text`` uses, as whole words, if any."""
    tokens = _prepared(text)
    spellings = {t.text for t in tokens}.union(_groups(tokens))
    candidates = {r for spelling in spellings for r in _readings(spelling)}
    candidates.update(_spelled(tokens, words))
    # The longest first: what a moderator reads is the whole of what was found.
    for candidate in sorted(candidates, key=lambda c: (-len(c), c)):
        found = words.words.get(_squeeze(candidate))
        if found is not None and len(candidate) >= found[0]:
            return found[1]
    sequence = _sequence(tokens)
    for i, position in enumerate(sequence):
        for first in position:
            for phrase, entry in words.phrases.get(first, ()):
                ahead = sequence[i : i + len(phrase)]
                if len(ahead) == len(phrase) and all(
                    w in p for w, p in zip(phrase, ahead, strict=True)
                ):
                    return entry
    return None


def score(text: str) -> float:
    """VADER's compound score, -1 (hostile) .. 1 (glowing)."""
    compound: float = _analyzer().polarity_scores(text)["compound"]
    return compound


def _undisguised(text: str) -> str:
    """``text`` folded, with symbol swaps in words undone ("w0rthless 1d10t")."""

    def undo(match: re.Match[str]) -> str:
        word = match.group()
        return word.translate(_LEET_I) if any(ch.isalpha() for ch in word) else word

    return _TOKEN.sub(undo, _fold(text))


def _assess(text: str, flag_below: float, word_list_path: Path | None) -> Assessment:
    value = score(text)
    plain = _undisguised(text)
    if plain != text.casefold():
        # Disguised words score as what they say: a disguise makes nothing kinder.
        value = min(value, score(plain))
    entry = listed(text, word_list(word_list_path))
    if entry is not None:
        return Assessment(score=value, flagged=True, why=f'Uses "{entry}".')
    if value <= flag_below:
        why = f"Scored {value:.4f} (flagged at or below {flag_below})."
        return Assessment(score=value, flagged=True, why=why)
    return Assessment(score=value, flagged=False)


async def assess(text: str, *, flag_below: float, word_list_path: Path | None) -> Assessment:
    """Score and flag ``text`` against the word list of ``word_list_path`` (None: the
    bundled one), in a thread: a long comment costs VADER milliseconds, and a changed word
    list is read from its file."""
    return await asyncio.to_thread(_assess, text, flag_below, word_list_path)
