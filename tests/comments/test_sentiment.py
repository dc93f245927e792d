"""The sentiment and word-list checks on their own, without the API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bandstand.comments.sentiment import assess, listed, parse_word_list, score, word_list

pytestmark = pytest.mark.backend_free

BUNDLED = word_list(None)


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
    assert listed(text, BUNDLED)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("s.h.i.t", "shit"),
        ("S. H. I. T.", "shit"),
        ("sh1t", "shit"),
        ("5h!t", "shit"),
        ("sh.it", "shit"),
        ("f u c k", "fuck"),
        ("f-u-c-k this", "fuck"),
        ("f_u_c_k", "fuck"),
        ("a$$", "ass"),
        ("what an @ss", "ass"),
        ("s1ut", "slut"),  # "1" for "l"
        ("k y s", "kys"),
        ("fuckyou", "fuck you"),
        ("f.u.c.k.y.o.u", "fuck you"),
        ("s\u200bhit", "shit"),  # an invisible space inside
        ("\u0455h\u0456t", "shit"),  # Cyrillic letters drawn as Latin ones
        ("\uff53\uff48\uff49\uff54", "shit"),  # full-width letters
        ("this song kicks ass", "ass"),  # bare swear words are listed (data/profanity.txt)
    ],
)
def test_disguised_swear_words_are_read_as_what_they_are(text: str, entry: str) -> None:
    assert listed(text, BUNDLED) == entry


@pytest.mark.parametrize(
    "text",
    [
        "You should die",
        "you should just die",
        "u should die",
        "I will kill you",
        "i'll kill u",
        "I'm gonna k1ll you all",
        "I will find you",
        "I’ll find you.",
        "I know where you live",
        "you're dead",
        "ur dead.",
        "I hope you die",
        "die in a fire",
        "watch your back!",
        "I will find you! And then",
    ],
)
def test_threats_are_listed(text: str) -> None:
    assert listed(text, BUNDLED)


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United",
        "a classic bass line",
        "as if",
        "assess",
        "assessment",
        "glass",
        "cockpit",
        "The assassin's creed",
        "shiitake mushrooms",
        "fucking great track",
        "Pakistan",
        "you killed it",
        # Numbers are not disguised words: "455" is no "ass".
        "track 455 at 4:55",
        "mp3 version, 90s vibe, 2nd verse",
        # Letters on their own are only joined when they spell a listed word.
        "I a m here, plan B a bit later",
        "as s/he said",
        # Threats that end a sentence only.
        "I'll find you the link",
        "you're dead wrong about the key",
        "you will die laughing",
        "I'll shoot you an email",
    ],
)
def test_everyday_words_are_not_listed(text: str) -> None:
    assert listed(text, BUNDLED) is None


def test_music_slang_is_praise() -> None:
    for praise in ("this track is sick", "this is fire 🔥🔥", "insane production", "a banger"):
        assert score(praise) >= 0.05, praise


async def test_flags_by_score_or_by_word() -> None:
    hostile = await assess(
        "I hate you, you are a disgusting, worthless idiot.", flag_below=-0.6, word_list_path=None
    )
    assert hostile.score <= -0.6 and hostile.flagged
    assert hostile.why is not None and "Scored" in hostile.why
    listed_word = await assess("Lovely tune, you wanker", flag_below=-0.6, word_list_path=None)
    assert listed_word.score > 0 and listed_word.flagged and listed_word.why == 'Uses "wanker".'
    mild = await assess("Not my thing, a little boring.", flag_below=-0.6, word_list_path=None)
    assert mild.score < 0 and not mild.flagged and mild.why is None
    assert not (await assess("Lovely tune", flag_below=-0.6, word_list_path=None)).flagged


async def test_a_threat_just_above_the_cut_off_is_flagged() -> None:
    # VADER alone lets it through: -0.5994 is above -0.6.
    assert -0.6 < score("You should die") < -0.5
    threat = await assess("You should die", flag_below=-0.6, word_list_path=None)
    assert threat.flagged and threat.why == 'Uses "you should die".'


async def test_disguised_words_score_as_what_they_say() -> None:
    assert score("y0u are a w0rthless 1d10t") == 0  # VADER does not read the disguise
    disguised = await assess("y0u are a w0rthless 1d10t", flag_below=-0.6, word_list_path=None)
    assert disguised.score <= -0.6 and disguised.flagged


async def test_the_threshold_is_the_instances() -> None:
    mild = "A bit too slow for me, sadly."
    assert -0.6 < score(mild) < -0.3
    assert not (await assess(mild, flag_below=-0.6, word_list_path=None)).flagged
    assert (await assess(mild, flag_below=-0.3, word_list_path=None)).flagged


async def test_an_instance_lists_its_own_words_and_edits_take_effect(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# ours\n\nPlonker\nyou tone deaf\nwe will find you.\n", encoding="utf-8")
    ours = word_list(path)
    assert listed("what a pl0nker", ours) == "Plonker"
    assert listed("p l o n k e r", ours) == "Plonker"
    assert listed("You TONE   deaf", ours) == "you tone deaf"
    assert listed("we'll find you!", ours) == "we will find you."
    assert listed("we'll find you a drummer", ours) is None
    # The bundled words are not ours.
    assert listed("sh1t", ours) is None
    flagged = await assess("Nice, plonker", flag_below=-0.6, word_list_path=path)
    assert flagged.flagged and flagged.why == 'Uses "Plonker".'

    # An admin's edit is read at the next comment, no restart.
    path.write_text("muppet\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new modification time, however fast the test runs
    assert not (await assess("Nice, plonker", flag_below=-0.6, word_list_path=path)).flagged
    assert (await assess("Nice, MUPPET", flag_below=-0.6, word_list_path=path)).flagged
    # A file gone keeps the list last read from it: no comment passes unchecked.
    path.unlink()
    assert (await assess("Nice, muppet", flag_below=-0.6, word_list_path=path)).flagged


def test_a_word_list_is_parsed_as_documented() -> None:
    parsed = parse_word_list("# a comment\n\n  Twit  \nGo away.\nkill u\n")
    assert listed("TWIT", parsed) == "Twit"
    assert listed("goaway", parsed) == "Go away."  # a phrase written as one word
    assert listed("i will kill you now", parsed) == "kill u"
    assert listed("go away, please", parsed) == "Go away."
    assert listed("go away now", parsed) is None
