"""The password hash cost: OWASP's unless configured, and a login moves old hashes to it."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from bandstand.config import Settings
from tests.conftest import PASSWORD, Harness

OWASP = "$argon2id$v=19$m=19456,t=2,p=1$"


def test_the_default_cost_is_owasps() -> None:
    assert Settings(_env_file=None).password_hash_cost == "owasp"  # type: ignore[call-arg]


async def test_a_login_rehashes_a_password_hashed_at_another_cost(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(password_hash_cost="owasp")
    await harness.sign_up()
    cheap = PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD)
    await harness.sql("UPDATE users SET password_hash = :hash", hash=cheap)
    await harness.log_in(harness.client())
    [(stored,)] = await harness.sql("SELECT password_hash FROM users")
    assert stored.startswith(OWASP)
    await harness.log_in(harness.client())  # the new hash checks out
