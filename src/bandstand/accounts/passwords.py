"""argon2id hashing at the configured cost, off the event loop.

The cost is a setting (``password_hash_cost``): OWASP's parameters by default, argon2's
cheapest for the test suite, where thousands of users sign up and log in and the cost
buys nothing. A hash records its own parameters, so any hash verifies at any setting;
a login rehashes a password whose hash was made at another cost."""

from __future__ import annotations

import asyncio
from functools import cache
from importlib import resources
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST

PasswordCost = Literal["owasp", "cheapest"]


@cache
def _hasher(cost: PasswordCost) -> PasswordHasher:
    if cost == "cheapest":
        return PasswordHasher.from_parameters(CHEAPEST)
    # OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def dummy_hash(cost: PasswordCost) -> str:
    return _hasher(cost).hash("bandstand-timing-equaliser")


async def hash_password(cost: PasswordCost, password: str) -> str:
    return await asyncio.to_thread(_hasher(cost).hash, password)


def _verify(cost: PasswordCost, password_hash: str, password: str) -> bool:
    try:
        return _hasher(cost).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(cost: PasswordCost, password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time and say no."""
    if password_hash is None:
        await asyncio.to_thread(_verify, cost, dummy_hash(cost), password)
        return False
    return await asyncio.to_thread(_verify, cost, password_hash, password)


def needs_rehash(cost: PasswordCost, password_hash: str) -> bool:
    return _hasher(cost).check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("bandstand.accounts").joinpath("data/common-passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def is_common(password: str) -> bool:
    return password.lower() in _common_passwords()
