"""Roles: an admin grants and revokes them through the API; the CLI makes moderators and
admins; the instance always keeps an admin."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from tests.commands import bandstand
from tests.conftest import Harness
from tests.moderation.support import QUEUE, act, acted, audit_rows, staff
from tests.songs.support import Artist, assert_error, error_fields

UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


def role_path(who: Artist | str) -> str:
    return f"/users/{who if isinstance(who, str) else who.id}/role"


async def test_an_admin_grants_and_revokes_roles(
    harness: Harness, jane: Artist, boss: Artist
) -> None:
    assert_error(await jane.client.get(QUEUE, headers=jane.auth), 403)
    made = await acted(boss, role_path(jane), {"role": "moderator"})
    assert made["role"] == "moderator" and made["username"] == "janedoe"
    # At once: the role is read on every request.
    assert (await jane.client.get(QUEUE, headers=jane.auth)).status_code == 200
    # The same role again changes nothing and writes nothing.
    await acted(boss, role_path(jane), {"role": "moderator"})
    await acted(boss, role_path(jane), {"role": "user"})
    assert_error(await jane.client.get(QUEUE, headers=jane.auth), 403)
    assert await audit_rows(harness) == [
        ("bossbob", "role", "user", "user -> moderator"),
        ("bossbob", "role", "user", "moderator -> user"),
    ]


async def test_only_admins_change_roles(
    harness: Harness, jane: Artist, mod: Artist, boss: Artist
) -> None:
    body = {"role": "admin"}
    assert_error(await act(jane, role_path(jane), body), 403)
    assert_error(await act(mod, role_path(mod), body), 403)
    assert_error(await act(mod, role_path(jane), {"role": "moderator"}), 403)
    assert_error(await act(mod, role_path("nope"), body), 403)
    anonymous = await jane.client.post(f"/api/v1/admin{role_path(jane)}", json=body)
    assert_error(anonymous, 401)
    assert_error(await act(boss, role_path("nope"), body), 400)
    assert_error(await act(boss, role_path(UNKNOWN), body), 404)
    refused = await act(boss, role_path(jane), {"role": "owner"})
    assert_error(refused, 400)
    assert error_fields(refused) == {"role"}
    assert_error(await act(boss, role_path(jane), {"role": "admin", "banned": False}), 400)
    roles = await harness.sql("SELECT username_key, role FROM users ORDER BY username_key")
    assert [tuple(r) for r in roles] == [
        ("bossbob", "admin"),
        ("janedoe", "user"),
        ("modmolly", "moderator"),
    ]


async def test_the_last_admin_cannot_step_down(harness: Harness, boss: Artist) -> None:
    refused = await act(boss, role_path(boss), {"role": "moderator"})
    assert_error(refused, 409)
    second = await staff(harness, "second", "admin")
    # With another admin, they can; then the other is the last one.
    assert (await acted(boss, role_path(boss), {"role": "user"}))["role"] == "user"
    assert_error(await act(boss, role_path(second), {"role": "user"}), 403)
    assert_error(await act(second, role_path(second), {"role": "user"}), 409)


def test_cli_promote_with_a_role(tmp_path: Path) -> None:
    env = {"BANDSTAND_DATA_DIR": str(tmp_path)}
    assert bandstand(env, "migrate").exit_code == 0
    database = sqlite3.connect(tmp_path / "bandstand.db")
    with database:
        database.execute(
            "INSERT INTO users (id, fullname, email, username, username_key, password_hash,"
            " role, created_at, updated_at) VALUES (?, 'Mo', 'mo@example.com', 'Mo', 'mo',"
            " 'x', 'user', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (uuid.uuid4().hex,),
        )

    made = bandstand(env, "admin", "promote", "mo@example.com", "--role", "moderator")
    assert made.exit_code == 0, made.output
    assert "is now a moderator" in made.stdout
    assert database.execute("SELECT role FROM users").fetchall() == [("moderator",)]
    made = bandstand(env, "admin", "promote", "mo")
    assert made.exit_code == 0 and "is now an administrator" in made.stdout
    assert database.execute("SELECT role FROM users").fetchall() == [("admin",)]
    # The last admin cannot be made a moderator, not even from the command line.
    refused = bandstand(env, "admin", "promote", "mo", "--role", "moderator")
    assert refused.exit_code == 1 and "last admin" in refused.stdout
    wrong = bandstand(env, "admin", "promote", "mo", "--role", "owner")
    assert wrong.exit_code == 2 and "owner" in wrong.stderr
    assert database.execute(
        "SELECT actor_id, actor_name, action, reason FROM audit_log ORDER BY id"
    ).fetchall() == [
        (None, "cli", "role", "user -> moderator"),
        (None, "cli", "role", "moderator -> admin"),
    ]
    database.close()
