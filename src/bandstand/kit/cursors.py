"""Keyset cursors: the last row a page showed, as an opaque URL-safe token.

A cursor is the row's sort key packed into fixed-size bytes and written in unpadded
URL-safe base64, so it fits a query string untouched. Every list that pages by cursor
packs its key here, so they all refuse a damaged cursor alike: a 400 on ``cursor``,
never a 500. The formats are wire formats — clients keep cursors — so they never change:

- an id (songs, comments, playlists): its 16 bytes;
- a moment and an id (likes, history): microseconds since the epoch as a signed
  big-endian 64-bit integer, then the id's 16 bytes;
- a position (a playlist's songs): a big-endian 32-bit integer, 0 to 2**31 - 1 (the
  column is a signed 32-bit integer).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime, timedelta

from bandstand.errors import BadRequest

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _invalid() -> BadRequest:
    return BadRequest(
        "Invalid input.", errors=[{"field": "cursor", "message": "Not a cursor this API gave."}]
    )


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(cursor: str, size: int) -> bytes:
    """The ``size`` bytes ``cursor`` holds, or a 400 when it holds anything else."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid() from exc
    if len(raw) != size:
        raise _invalid()
    return raw


def encode_id(item: uuid.UUID) -> str:
    return _encode(item.bytes)


def decode_id(cursor: str) -> uuid.UUID:
    return uuid.UUID(bytes=_decode(cursor, 16))


def encode_moment(moment: datetime, item: uuid.UUID) -> str:
    # Integer arithmetic: a float timestamp could land a microsecond off the row's own.
    micros = (moment - _EPOCH) // _MICROSECOND
    return _encode(micros.to_bytes(8, "big", signed=True) + item.bytes)


def decode_moment(cursor: str) -> tuple[datetime, uuid.UUID]:
    raw = _decode(cursor, 24)
    micros = int.from_bytes(raw[:8], "big", signed=True)
    try:
        moment = _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:
        raise _invalid() from exc
    return moment, uuid.UUID(bytes=raw[8:])


def encode_position(position: int) -> str:
    return _encode(position.to_bytes(4, "big"))


def decode_position(cursor: str) -> int:
    raw = _decode(cursor, 4)
    if raw[0] & 0x80:
        # Past what the column holds: the database would refuse it with a 500.
        raise _invalid()
    return int.from_bytes(raw, "big")
