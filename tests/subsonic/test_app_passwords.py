"""App passwords through the REST API: made by their owner (the secret shown once), listed
without it, revoked by their owner only, kept sealed, and no more than the cap."""

from __future__ import annotations

import re
import uuid
from typing import Any

from bandstand.accounts import app_passwords
from bandstand.db import transaction
from tests.conftest import Harness, bearer
from tests.songs.support import artist, assert_error, error_fields
from tests.subsonic.support import APP_PASSWORDS, json, made_app_password

SECRET = re.compile(r"^[A-Za-z0-9_-]{24}$")


async def test_made_once_listed_without_the_secret(harness: Harness) -> None:
    jane = await artist(harness)
    response = await jane.client.post(
        APP_PASSWORDS, json={"name": "  Symfonium on my phone  "}, headers=jane.auth
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    made = response.json()["data"]
    assert SECRET.fullmatch(made["secret"]), made
    assert made["name"] == "Symfonium on my phone"
    assert made["username"] == "janedoe"
    assert made["server"] == harness.settings.public_url
    assert made["lastUsedAt"] is None and made["createdAt"]
    listed = await jane.client.get(APP_PASSWORDS, headers=jane.auth)
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    (key,) = listed.json()["data"]
    assert set(key) == {"_id", "name", "createdAt", "lastUsedAt"}
    assert key["_id"] == made["_id"]
    assert made["secret"] not in listed.text


async def test_kept_sealed_and_found_by_a_keyed_hash(harness: Harness) -> None:
    jane = await artist(harness)
    made = await made_app_password(jane)
    ((sealed, lookup),) = await harness.sql("SELECT sealed_secret, lookup FROM app_passwords")
    assert made["secret"] not in sealed and made["secret"] not in lookup
    signer = harness.app.state.runtime.signer
    assert app_passwords.unseal(signer, uuid.UUID(jane.id), sealed) == made["secret"]
    assert lookup == app_passwords.lookup_of(signer, made["secret"])
    # Bound to its user: another user's row does not open it.
    other = uuid.uuid4()
    try:
        app_passwords.unseal(signer, other, sealed)
    except ValueError:
        pass
    else:
        raise AssertionError("a sealed secret opened for another user")


async def test_each_user_sees_and_revokes_only_their_own(harness: Harness) -> None:
    jane = await artist(harness)
    bob = await artist(harness, "bob")
    janes = await made_app_password(jane, "Jane's phone")
    await made_app_password(bob, "Bob's phone")
    bobs_list = (await bob.client.get(APP_PASSWORDS, headers=bob.auth)).json()["data"]
    assert [k["name"] for k in bobs_list] == ["Bob's phone"]
    refused = await bob.client.delete(f"{APP_PASSWORDS}/{janes['_id']}", headers=bob.auth)
    assert_error(refused, 404)
    assert (await json(harness.client(), "ping", u="janedoe", p=janes["secret"]))["status"] == "ok"
    done = await jane.client.delete(f"{APP_PASSWORDS}/{janes['_id']}", headers=jane.auth)
    assert done.status_code == 200, done.text
    assert (await jane.client.get(APP_PASSWORDS, headers=jane.auth)).json()["data"] == []
    again = await jane.client.delete(f"{APP_PASSWORDS}/{janes['_id']}", headers=jane.auth)
    assert_error(again, 404)


async def test_newest_first(harness: Harness) -> None:
    jane = await artist(harness)
    for name in ("First", "Second", "Third"):
        await made_app_password(jane, name)
    listed = (await jane.client.get(APP_PASSWORDS, headers=jane.auth)).json()["data"]
    assert [k["name"] for k in listed] == ["Third", "Second", "First"]


async def test_no_more_than_the_cap(harness: Harness) -> None:
    jane = await artist(harness)
    runtime = harness.app.state.runtime
    async with transaction(runtime.sessionmaker) as session:
        for n in range(app_passwords.MAX_PER_USER):
            await app_passwords.create(session, runtime.signer, uuid.UUID(jane.id), f"App {n}")
    refused = await jane.client.post(APP_PASSWORDS, json={"name": "One more"}, headers=jane.auth)
    assert "Revoke one" in assert_error(refused, 409)["message"]


async def test_bad_input(harness: Harness) -> None:
    jane = await artist(harness)
    bodies: list[Any] = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "nul\x00byte"},
        {"name": 12},
        {"name": "ok", "extra": 1},
        [1, 2],
    ]
    for body in bodies:
        response = await jane.client.post(APP_PASSWORDS, json=body, headers=jane.auth)
        assert_error(response, 400)
    response = await jane.client.post(APP_PASSWORDS, json={"name": ""}, headers=jane.auth)
    assert error_fields(response) == {"name"}
    assert_error(await jane.client.delete(f"{APP_PASSWORDS}/not-an-id", headers=jane.auth), 400)
    assert_error(
        await jane.client.delete(f"{APP_PASSWORDS}/{uuid.uuid4()}", headers=jane.auth), 404
    )


async def test_a_login_is_needed(harness: Harness) -> None:
    client = harness.client()
    assert_error(await client.get(APP_PASSWORDS), 401)
    assert_error(await client.post(APP_PASSWORDS, json={"name": "x"}), 401)
    assert_error(await client.delete(f"{APP_PASSWORDS}/{uuid.uuid4()}"), 401)
    assert_error(await client.get(APP_PASSWORDS, headers=bearer("not-a-token")), 401)
