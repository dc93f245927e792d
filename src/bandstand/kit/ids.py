"""Resource ids: time-ordered UUIDv7, rendered as canonical strings."""

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def new_hex() -> str:
    """A fresh id as 32 hex characters, for names the server generates (files, keys)."""
    return new_id().hex
