"""One-time codes: six digits from the CSPRNG, stored as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from bandstand.errors import BadRequest


class WrongCode(BadRequest):
    """A wrong code still spends an attempt: keep the transaction's changes."""

    keep_changes = True


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(secret: bytes, owner_id: uuid.UUID, code: str) -> str:
    """Keyed by the server secret and what the code is for (a sign-up, an email change),
    so a leaked table cannot be brute-forced offline and a code cannot be moved elsewhere."""
    return hmac.new(secret, owner_id.bytes + code.encode(), hashlib.sha256).hexdigest()


def code_matches(secret: bytes, owner_id: uuid.UUID, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hash(secret, owner_id, code), stored)
