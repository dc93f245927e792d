"""Issue 12's comment rules: flagged comments in the moderators' queue, the instance's own
word list and threshold, mutes, comments turned off, and a moderator's hold and unhide."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bandstand.comments import service
from bandstand.db import transaction
from tests.comments.support import (
    ABUSE,
    COMMENTS,
    a_song,
    act,
    comment_count,
    commented,
    db_id,
    flush,
    listing,
    people,
    post,
    runtime,
    seen_ids,
    stored_comment_count,
)
from tests.conftest import Harness
from tests.songs.support import Artist, assert_error, error_fields

MUTES = f"{COMMENTS}/mutes"


async def queued(harness: Harness, comment_id: str) -> list[tuple[Any, ...]]:
    """The moderators' queue entries for a comment: (reporter, reason, note, status)."""
    rows = await harness.sql(
        "SELECT reporter_id, reason, note, status FROM reports "
        "WHERE target_type = 'comment' AND target_id = :id",
        id=db_id(harness, comment_id),
    )
    return [tuple(row) for row in rows]


async def test_flagged_comments_go_to_the_moderators_queue(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    fine = await commented(ann, song["_id"], "Lovely song")
    for text, why in (
        ("You should die", 'Uses "you should die".'),
        ("s.h.i.t", 'Uses "shit".'),
        ("sh1t", 'Uses "shit".'),
        ("f u c k", 'Uses "fuck".'),
        ("what an a$$", 'Uses "ass".'),
        ("I will find you", 'Uses "i will find you.".'),
    ):
        flagged = await commented(ann, song["_id"], text)
        assert flagged["isFlagged"] and flagged["isHeld"], text
        assert await queued(harness, flagged["_id"]) == [(None, "offensive", why, "open")]
    hostile = await commented(ann, song["_id"], ABUSE, parent=fine["_id"])
    [(_, _, note, _)] = await queued(harness, hostile["_id"])
    assert note.startswith("Scored -0.")
    assert await queued(harness, fine["_id"]) == []
    # Ordinary words holding listed ones are not flagged.
    for text in ("Scunthorpe United, a classic", "we should assess the mix"):
        clean = await commented(ann, song["_id"], text)
        assert not clean["isFlagged"] and await queued(harness, clean["_id"]) == []


async def test_with_holding_off_flagged_comments_are_still_queued(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(hold_flagged_comments=False)
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    shown = await commented(ann, song["_id"], "sh1t")
    assert shown["isFlagged"] and not shown["isHeld"]
    assert len(await queued(harness, shown["_id"])) == 1


async def test_admins_set_the_word_list_and_threshold(
    make_harness: Callable[..., Any], tmp_path: Path
) -> None:
    words = tmp_path / "words.txt"
    words.write_text("# our community's list\nplonker\nyou tone deaf\n", encoding="utf-8")
    harness: Harness = await make_harness(comment_word_list=words, comment_flag_below=-0.3)
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    ours = await commented(ann, song["_id"], "Nice one, pl0nker")
    assert ours["isHeld"] and await queued(harness, ours["_id"]) != []
    phrase = await commented(ann, song["_id"], "YOU tone   deaf")
    assert phrase["isHeld"]
    # The bundled list is not this instance's.
    theirs = await commented(ann, song["_id"], "Great tune, you w4nker")
    assert not theirs["isFlagged"] and theirs["sentimentScore"] > 0
    # Their threshold: a mild complaint at -0.42 is held at -0.3.
    sad = await commented(ann, song["_id"], "A bit too slow for me, sadly.")
    assert sad["isFlagged"] and sad["isHeld"]


def test_a_word_list_that_is_not_there_is_refused_at_start_up(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="no such file"):
        make_settings(comment_word_list=tmp_path / "missing.txt")


async def test_an_artist_mutes_a_listener_on_their_songs(harness: Harness) -> None:
    owner, ann, bob, other = await people(harness, "owner", "ann", "bob", "other")
    song, second = await a_song(harness, owner), await a_song(harness, owner, "Second")
    elsewhere = await a_song(harness, other, "Elsewhere")
    before = await commented(ann, song["_id"], "From before the mute")

    response = await owner.client.post(f"{MUTES}/{ann.id}", headers=owner.auth)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["user"] == {k: ann.user[k] for k in ("_id", "username", "fullname", "avatar")}
    assert data["muted"] is True and data["mutedAt"]
    # Twice is once.
    again = await owner.client.post(f"{MUTES}/{ann.id}", headers=owner.auth)
    assert again.json()["data"]["mutedAt"] == data["mutedAt"]

    # Her new comments and replies on any of his songs wait for him; nowhere else.
    held = await post(ann, song["_id"], "Lovely song")
    assert held.status_code == 201 and "approval" in held.json()["message"]
    assert held.json()["data"]["isHeld"] and not held.json()["data"]["isFlagged"]
    reply = await commented(ann, second["_id"], "Me again")
    nested = await commented(ann, song["_id"], "A reply", parent=before["_id"])
    assert reply["isHeld"] and nested["isHeld"]
    assert not (await commented(ann, elsewhere["_id"], "Hi"))["isHeld"]
    assert not (await commented(bob, song["_id"], "Hi"))["isHeld"]
    # Not the moderators' business: a mute is the artist's.
    assert await queued(harness, held.json()["data"]["_id"]) == []
    # What was there before stays shown; the rest only to her and him.
    assert before["_id"] in await seen_ids(bob, song["_id"])
    assert held.json()["data"]["_id"] not in await seen_ids(bob, song["_id"])
    assert held.json()["data"]["_id"] in await seen_ids(owner, song["_id"])
    assert held.json()["data"]["_id"] in await seen_ids(ann, song["_id"])
    approved = await act(owner, held.json()["data"]["_id"], "approve")
    assert approved.status_code == 200 and not approved.json()["data"]["isHeld"]

    # Bob's mutes are his own; the owner's list has her.
    assert (await listing_mutes(bob))["totalDocs"] == 0
    page = await listing_mutes(owner)
    assert page["totalDocs"] == 1 and [d["user"]["_id"] for d in page["docs"]] == [ann.id]

    unmuted = await owner.client.delete(f"{MUTES}/{ann.id}", headers=owner.auth)
    assert unmuted.status_code == 200, unmuted.text
    assert unmuted.json()["data"]["muted"] is False and unmuted.json()["data"]["mutedAt"] is None
    assert (await owner.client.delete(f"{MUTES}/{ann.id}", headers=owner.auth)).status_code == 200
    assert not (await commented(ann, song["_id"], "Thanks"))["isHeld"]
    assert reply["_id"] not in await seen_ids(bob, second["_id"])  # held until approved
    assert (await listing_mutes(owner))["totalDocs"] == 0


async def listing_mutes(who: Artist, **params: Any) -> dict[str, Any]:
    response = await who.client.get(MUTES, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_mutes_are_paged_and_checked(harness: Harness) -> None:
    owner, *listeners = await people(harness, "owner", "l1", "l2", "l3")
    for listener in listeners:
        assert (await owner.client.post(f"{MUTES}/{listener.id}", headers=owner.auth)).is_success
    first = await listing_mutes(owner, limit=2)
    second = await listing_mutes(owner, limit=2, page=2)
    assert first["totalDocs"] == 3 and first["totalPages"] == 2 and first["hasNextPage"]
    ids = [d["user"]["_id"] for d in first["docs"] + second["docs"]]
    assert sorted(ids) == sorted(listener.id for listener in listeners)
    assert all(d["muted"] for d in first["docs"])

    refused = await owner.client.post(f"{MUTES}/{owner.id}", headers=owner.auth)
    assert error_fields(refused) == {"userId"}
    assert_error(refused, 400)
    assert_error(await owner.client.post(f"{MUTES}/{uuid.uuid4()}", headers=owner.auth), 404)
    assert_error(await owner.client.delete(f"{MUTES}/{uuid.uuid4()}", headers=owner.auth), 404)
    assert_error(await owner.client.post(f"{MUTES}/nope", headers=owner.auth), 400)
    stranger = harness.client()
    assert_error(await stranger.get(MUTES), 401)
    assert_error(await stranger.post(f"{MUTES}/{owner.id}"), 401)
    assert_error(await stranger.delete(f"{MUTES}/{owner.id}"), 401)


async def test_the_owner_turns_a_songs_comments_off_and_on(harness: Harness) -> None:
    owner, ann = await people(harness, "owner", "ann")
    song = await a_song(harness, owner)
    there = await commented(ann, song["_id"], "Lovely song")
    path = f"{COMMENTS}/{song['_id']}"
    assert (await listing(ann, song["_id"]))["commentsOff"] is False

    assert_error(await ann.client.post(f"{path}/close", headers=ann.auth), 403)
    assert_error(await harness.client().post(f"{path}/close"), 401)
    unknown = f"{COMMENTS}/{uuid.uuid4()}/close"
    assert_error(await owner.client.post(unknown, headers=owner.auth), 404)
    closed = await owner.client.post(f"{path}/close", headers=owner.auth)
    assert closed.status_code == 200, closed.text
    assert closed.json()["data"] == {"songId": song["_id"], "commentsOff": True}

    for who in (ann, owner):
        for parent in (None, there["_id"]):
            refused = assert_error(await post(who, song["_id"], "Hello", parent=parent), 403)
            assert refused["message"] == "Comments are turned off for this song."
    # What is there stays, and can still be liked; the listing says they are off.
    assert await seen_ids(ann, song["_id"]) == {there["_id"]}
    assert (await act(ann, there["_id"], "like")).status_code == 200
    assert await comment_count(ann, song["_id"]) == 1
    for who in (ann, owner):
        assert (await listing(who, song["_id"]))["commentsOff"] is True

    opened = await owner.client.post(f"{path}/open", headers=owner.auth)
    assert opened.json()["data"] == {"songId": song["_id"], "commentsOff": False}
    for who in (ann, owner):
        assert (await listing(who, song["_id"]))["commentsOff"] is False
    assert (await post(ann, song["_id"], "Back again")).status_code == 201


async def test_a_moderator_holds_and_unhides_a_comment(harness: Harness) -> None:
    owner, ann, bob = await people(harness, "owner", "ann", "bob")
    song = await a_song(harness, owner)
    shown = await commented(ann, song["_id"], "Lovely song")
    flagged = await commented(ann, song["_id"], ABUSE)
    assert await comment_count(bob, song["_id"]) == 1
    rt = runtime(harness)

    async def moderate(verb: Callable[..., Any], comment_id: str) -> bool:
        """As the moderators' routes call them (the song's owner sees every comment)."""
        async with transaction(rt.sessionmaker) as session:
            ref = await service.visible_comment(session, uuid.UUID(comment_id), uuid.UUID(owner.id))
            done: bool = await verb(session, rt.counters, rt.comment_answers, ref)
        return done

    hold = functools.partial(service.hold, reason="Off topic")
    assert await moderate(hold, shown["_id"])
    assert not await moderate(hold, shown["_id"])  # hidden already
    assert await comment_count(bob, song["_id"]) == 0
    assert shown["_id"] not in await seen_ids(bob, song["_id"])
    # Its author and the song's owner see it held; the owner may not release it.
    for insider in (ann, owner):
        assert shown["_id"] in await seen_ids(insider, song["_id"])
    refused = assert_error(await act(owner, shown["_id"], "approve"), 403)
    assert "moderator" in refused["message"]
    assert await comment_count(bob, song["_id"]) == 0

    # Held already (flagged): hiding moves no count, unhiding releases it.
    assert await moderate(hold, flagged["_id"])
    assert await comment_count(bob, song["_id"]) == 0
    for comment in (shown, flagged):
        assert await moderate(service.unhide, comment["_id"])
        assert not await moderate(service.unhide, comment["_id"])
    assert await seen_ids(bob, song["_id"]) == {shown["_id"], flagged["_id"]}
    assert await comment_count(bob, song["_id"]) == 2
    await flush(harness)
    assert await stored_comment_count(harness, song["_id"]) == 2
    assert (await listing(bob, song["_id"]))["totalDocs"] == 2
    rows = await harness.sql(
        "SELECT count(*) FROM comments WHERE hidden_at IS NOT NULL OR is_held = :held",
        held=True,
    )
    assert rows == [(0,)]
