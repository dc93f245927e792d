"""One-time codes: six digits from the CSPRNG, stored as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(secret: bytes, signup_id: uuid.UUID, code: str) -> str:
    """Keyed by the server secret and the sign-up, so a leaked table cannot be brute-forced
    offline and a code cannot be moved to another sign-up."""
    return hmac.new(secret, signup_id.bytes + code.encode(), hashlib.sha256).hexdigest()


def code_matches(secret: bytes, signup_id: uuid.UUID, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_hash(secret, signup_id, code), stored)
