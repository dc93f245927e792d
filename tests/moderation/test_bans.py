"""Bans: a banned user's logins end at once and they cannot log in again; their songs
leave the catalogue's count and come back on unban; a ban with an end is lifted by the
periodic job. Who may ban whom."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bandstand.db import transaction
from bandstand.moderation import service
from bandstand.moderation.tasks import lift_expired_bans
from bandstand.worker.jobs import JOB_MODULES, JOBS
from bandstand.worker.periodic import schedule
from tests.conftest import PASSWORD, Harness, bearer
from tests.moderation.support import (
    API,
    a_song,
    act,
    acted,
    audit_rows,
    catalogue_size,
    db_id,
    staff,
)
from tests.songs.support import Artist, artist, assert_error

CURRENT = f"{API}/users/current-user"


def ban_path(user: Artist) -> str:
    return f"/users/{user.id}/ban"


async def test_a_ban_ends_every_login_at_once_and_refuses_new_ones(
    harness: Harness, mallory: Artist, mod: Artist
) -> None:
    second = await harness.tokens(mallory.user)
    assert (await mallory.client.get(CURRENT, headers=mallory.auth)).status_code == 200

    banned = await acted(mod, ban_path(mallory), {"reason": "Spam everywhere"})
    assert banned["bannedAt"] and banned["banReason"] == "Spam everywhere"
    assert banned["bannedUntil"] is None

    # Both live access tokens are refused on their very next request.
    assert_error(await mallory.client.get(CURRENT, headers=mallory.auth), 401)
    assert_error(await mallory.client.get(CURRENT, headers=bearer(second["accessToken"])), 401)
    # Their refresh tokens are dead too, and the password no longer logs in.
    refreshed = await mallory.client.post(
        f"{API}/users/refresh-token", json={"refreshToken": second["refreshToken"]}
    )
    assert_error(refreshed, 401)
    login = await mallory.client.post(
        f"{API}/users/login", json={"email": "mallory@example.com", "password": PASSWORD}
    )
    # Refused with the reason (the accounts API answers it; 403: the password was right).
    assert "Spam everywhere" in assert_error(login, (401, 403))["message"]
    live = await harness.sql(
        "SELECT count(*) FROM login_sessions WHERE user_id = :id AND revoked_at IS NULL",
        id=db_id(harness, mallory.id),
    )
    assert live[0][0] == 0

    unbanned = await acted(mod, f"/users/{mallory.id}/unban", {"reason": "Appeal granted"})
    assert unbanned["bannedAt"] is None and unbanned["banReason"] is None
    login = await mallory.client.post(
        f"{API}/users/login", json={"email": "mallory@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert await audit_rows(harness) == [
        ("modmolly", "ban", "user", "Spam everywhere"),
        ("modmolly", "unban", "user", "Appeal granted"),
    ]


async def test_the_catalogue_counts_a_banned_users_songs_out_and_back(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    await a_song(harness, jane, "Jane's")
    first = await a_song(harness, mallory, "Mallory's one")
    await a_song(harness, mallory, "Mallory's two")
    assert await catalogue_size(harness) == 3
    # A song already taken down is out of the count; the ban does not take it out twice.
    await acted(mod, f"/songs/{first['_id']}/takedown", {"reason": "Stolen"})
    assert await catalogue_size(harness) == 2

    await acted(mod, ban_path(mallory), {"reason": "Spam"})
    assert await catalogue_size(harness) == 1
    # Banned again (a new reason or end) moves nothing.
    await acted(mod, ban_path(mallory), {"reason": "Spam, and rude"})
    assert await catalogue_size(harness) == 1
    # Restoring a banned owner's song does not count it while they are banned...
    await acted(mod, f"/songs/{first['_id']}/restore")
    assert await catalogue_size(harness) == 1
    # ... and the unban brings both back.
    await acted(mod, f"/users/{mallory.id}/unban")
    assert await catalogue_size(harness) == 3


async def test_who_may_ban_whom(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist, boss: Artist
) -> None:
    other_mod = await staff(harness, "othermod", "moderator")
    reason = {"reason": "No"}
    # Users and strangers: refused before anything is looked up.
    assert_error(await act(jane, ban_path(mallory), reason), 403)
    assert_error(await act(jane, "/users/not-an-id/ban", reason), 403)
    stranger = await jane.client.post(f"{API}/admin{ban_path(mallory)}", json=reason)
    assert_error(stranger, 401)
    # A moderator cannot ban themself, another moderator or an admin.
    assert_error(await act(mod, ban_path(mod), reason), 403)
    assert_error(await act(mod, ban_path(other_mod), reason), 403)
    assert_error(await act(mod, ban_path(boss), reason), 403)
    assert_error(await act(mod, f"/users/{boss.id}/unban"), 403)
    # An admin can ban a moderator, but not themself.
    assert_error(await act(boss, ban_path(boss), reason), 403)
    await acted(boss, ban_path(other_mod), reason)
    assert_error(await other_mod.client.get(CURRENT, headers=other_mod.auth), 401)
    # Ids: malformed 400, unknown 404; unbanning who is not banned is 409.
    assert_error(await act(mod, "/users/not-an-id/ban", reason), 400)
    assert_error(await act(mod, "/users/0190a0a0-0000-7000-8000-000000000000/ban", reason), 404)
    assert_error(await act(mod, f"/users/{jane.id}/unban"), 409)
    assert (await jane.client.get(CURRENT, headers=jane.auth)).status_code == 200


async def test_a_ban_needs_a_reason_and_an_end_in_the_future(
    harness: Harness, mallory: Artist, mod: Artist
) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for body in (
        {},
        {"reason": ""},
        {"reason": "x" * 501},
        {"reason": "Spam", "until": past},
        {"reason": "Spam", "until": "soon"},
        {"reason": "Spam", "role": "admin"},
    ):
        assert_error(await act(mod, ban_path(mallory), body), 400)
    assert (await mallory.client.get(CURRENT, headers=mallory.auth)).status_code == 200


async def test_expired_bans_are_lifted_by_the_periodic_job(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    await a_song(harness, mallory)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    banned = await acted(mod, ban_path(mallory), {"reason": "Cool off", "until": until})
    assert banned["bannedUntil"]
    await acted(mod, ban_path(jane), {"reason": "For good"})
    assert await catalogue_size(harness) == 0
    runtime = harness.app.state.runtime

    # Not yet due: nothing is lifted.
    await lift_expired_bans(
        runtime.sessionmaker, runtime.queue, runtime.catalogue, runtime.counters
    )
    assert len(await harness.sql("SELECT id FROM users WHERE banned_at IS NOT NULL")) == 2

    await harness.sql(
        "UPDATE users SET banned_until = :when WHERE username_key = 'mallory'",
        when=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        if harness.settings.is_embedded_database
        else datetime.now(UTC) - timedelta(seconds=1),
    )
    await lift_expired_bans(
        runtime.sessionmaker, runtime.queue, runtime.catalogue, runtime.counters
    )
    rows = await harness.sql("SELECT username_key FROM users WHERE banned_at IS NOT NULL")
    assert [row[0] for row in rows] == ["janedoe"]
    assert await catalogue_size(harness) == 1
    assert (await audit_rows(harness))[-1] == ("system", "unban", "user", "The ban ended.")
    system = await harness.sql("SELECT actor_id FROM audit_log WHERE actor_name = 'system'")
    assert system == [(None,)]
    # Run again, there is nothing left to lift.
    async with transaction(runtime.sessionmaker) as session:
        effects = service.Effects(runtime.queue, runtime.catalogue, runtime.counters, None)
        assert await service.lift_expired_bans(session, effects) == 0


async def test_the_job_is_registered_and_scheduled(harness: Harness) -> None:
    assert "bandstand.moderation.tasks" in JOB_MODULES
    assert "moderation.lift_expired_bans" in JOBS
    assert any(p.job == "moderation.lift_expired_bans" for p in schedule(harness.settings))


async def test_a_banned_user_cannot_be_reported_or_act(
    harness: Harness, jane: Artist, mallory: Artist, mod: Artist
) -> None:
    await acted(mod, ban_path(mallory), {"reason": "Spam"})
    reported = await jane.client.post(
        f"{API}/reports",
        json={"targetType": "user", "targetId": mallory.id, "reason": "spam"},
        headers=jane.auth,
    )
    assert_error(reported, 404)
    again = await artist(harness, "someone")
    assert (await again.client.get(CURRENT, headers=again.auth)).status_code == 200


async def test_a_ban_and_a_takedown_at_once_count_the_song_out_once(
    harness: Harness, mallory: Artist, mod: Artist, boss: Artist
) -> None:
    songs = [await a_song(harness, mallory, f"Song {n}") for n in range(3)]
    assert await catalogue_size(harness) == 3
    answers = await asyncio.gather(
        act(mod, ban_path(mallory), {"reason": "Spam"}),
        act(boss, f"/songs/{songs[0]['_id']}/takedown", {"reason": "Stolen"}),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert await catalogue_size(harness) == 0
    await acted(mod, f"/users/{mallory.id}/unban")
    assert await catalogue_size(harness) == 2
