"""The sentiment and word-list checks on their own, without the API."""

from __future__ import annotations

import pytest

from bandstand.comments.sentiment import assess, score, uses_listed_word


@pytest.mark.parametrize(
    "text",
    [
        "you are a bitch",
        "BITCH!",
        "biiiiitch",
        "b1tch",
        "a$$hole",
        "Wh0re.",
        "fuck you",
        "Fuuuck   yooou",
        "kys",
        "KILL YOURSELF",
        "Bítch",
    ],
)
def test_listed_words_are_found_through_simple_disguises(text: str) -> None:
    assert uses_listed_word(text)


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United",
        "a classic bass line",
        "as if",
        "this song kicks ass",
        "fucking great track",
        "Pakistan",
        "assessment",
        "you killed it",
    ],
)
def test_everyday_words_are_not_listed(text: str) -> None:
    assert not uses_listed_word(text)


def test_music_slang_is_praise() -> None:
    for praise in ("this track is sick", "this is fire 🔥🔥", "insane production", "a banger"):
        assert score(praise) >= 0.05, praise


async def test_flags_by_score_or_by_word() -> None:
    hostile = await assess("I hate you, you are a disgusting, worthless idiot.", -0.6)
    assert hostile.score <= -0.6 and hostile.flagged
    listed = await assess("Lovely tune, you wanker", -0.6)
    assert listed.score > 0 and listed.flagged
    mild = await assess("Not my thing, a little boring.", -0.6)
    assert mild.score < 0 and not mild.flagged
    assert not (await assess("Lovely tune", -0.6)).flagged
