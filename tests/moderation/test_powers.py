"""A moderator judges other users' content: not their own (another moderator does), and
not a moderator's or an admin's (an admin does) — on every action, reports included."""

from __future__ import annotations

from tests.conftest import Harness
from tests.moderation.support import a_comment, a_playlist, a_song, act, reported, staff
from tests.songs.support import Artist, assert_error


async def _content(harness: Harness, owner: Artist) -> dict[str, str]:
    song = await a_song(harness, owner)
    comment = await a_comment(owner, song["_id"])
    playlist = await a_playlist(owner)
    return {"song": song["_id"], "comment": comment["_id"], "playlist": playlist["_id"]}


def _actions(ids: dict[str, str]) -> list[tuple[str, str]]:
    """(method, path under /admin) of every action on content."""
    return [
        ("POST", f"/songs/{ids['song']}/takedown"),
        ("POST", f"/songs/{ids['song']}/restore"),
        ("DELETE", f"/songs/{ids['song']}"),
        ("POST", f"/comments/{ids['comment']}/hide"),
        ("POST", f"/comments/{ids['comment']}/unhide"),
        ("DELETE", f"/comments/{ids['comment']}"),
        ("POST", f"/playlists/{ids['playlist']}/hide"),
        ("POST", f"/playlists/{ids['playlist']}/unhide"),
        ("DELETE", f"/playlists/{ids['playlist']}"),
    ]


async def test_a_moderator_cannot_judge_their_own_or_staff_content(
    harness: Harness, mod: Artist, boss: Artist, jane: Artist
) -> None:
    other_mod = await staff(harness, "modmax", "moderator")
    for owner in (mod, other_mod, boss):
        ids = await _content(harness, owner)
        for method, path in _actions(ids):
            refused = await act(mod, path, {"reason": "Test."}, method=method)
            assert_error(refused, 403)
        # Nor dismiss, through the queue, what others reported of it.
        filed = await reported(jane, "song", ids["song"])
        dismissed = await act(mod, f"/reports/{filed['_id']}/resolve", {"action": "dismiss"})
        assert_error(dismissed, 403)


async def test_an_admin_judges_a_moderators_content(
    harness: Harness, mod: Artist, boss: Artist, jane: Artist
) -> None:
    ids = await _content(harness, mod)
    taken = await act(boss, f"/songs/{ids['song']}/takedown", {"reason": "Spam."})
    assert taken.status_code == 200, taken.text
    # Their own is still another admin's to judge.
    mine = await _content(harness, boss)
    own = await act(boss, f"/songs/{mine['song']}/takedown", {"reason": "Spam."})
    assert_error(own, 403)
