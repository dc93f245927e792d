"""kit/cursors: the one keyset cursor codec every cursor-paged list uses.

The expected strings were produced by the codecs this module replaced (songs', likes' and
history's, playlists' own): cursors clients hold must still decode, and new ones must be
the very same bytes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from bandstand.errors import BadRequest
from bandstand.kit.cursors import (
    decode_id,
    decode_moment,
    decode_position,
    encode_id,
    encode_moment,
    encode_position,
)

pytestmark = pytest.mark.backend_free

ID = uuid.UUID("0192f1a3-7c4e-7b2d-9f10-aabbccddeeff")
LATE = datetime(2026, 12, 5, 17, 33, 21, 123457, tzinfo=UTC)
EARLY = datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)


def test_id_cursor_is_the_old_format() -> None:
    assert encode_id(ID) == "AZLxo3xOey2fEKq7zN3u_w"
    assert decode_id("AZLxo3xOey2fEKq7zN3u_w") == ID


@pytest.mark.parametrize(
    ("moment", "cursor"),
    [(LATE, "AAZh5mORnIEBkvGjfE57LZ8QqrvM3e7_"), (EARLY, "___zGcbmQQABkvGjfE57LZ8QqrvM3e7_")],
)
def test_moment_cursor_is_the_old_format(moment: datetime, cursor: str) -> None:
    assert encode_moment(moment, ID) == cursor
    assert decode_moment(cursor) == (moment, ID)


@pytest.mark.parametrize(
    ("position", "cursor"), [(0, "AAAAAA"), (1, "AAAAAQ"), (300, "AAABLA"), (2**31 - 1, "f____w")]
)
def test_position_cursor_is_the_old_format(position: int, cursor: str) -> None:
    assert encode_position(position) == cursor
    assert decode_position(cursor) == position


def test_padded_cursor_still_decodes() -> None:
    assert decode_id("AZLxo3xOey2fEKq7zN3u_w==") == ID


def test_moment_round_trips_to_the_microsecond() -> None:
    for micro in range(0, 1_000_000, 7919):
        moment = LATE.replace(microsecond=micro)
        assert decode_moment(encode_moment(moment, ID))[0] == moment


BAD = [
    "",
    "!!!!",
    "AZLxo3xOey2fEKq7zN3u_",  # one character short of an id
    "AZLxo3xOey2fEKq7zN3u_wAA",  # longer than an id
    "é" * 22,
    "AA==AA",
]


@pytest.mark.parametrize("cursor", BAD)
def test_damaged_id_cursor_is_a_400_on_cursor(cursor: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_id(cursor)
    assert raised.value.errors == [{"field": "cursor", "message": "Not a cursor this API gave."}]


@pytest.mark.parametrize("cursor", [*BAD, "AZLxo3xOey2fEKq7zN3u_w", "f_________3_" + "A" * 20])
def test_damaged_moment_cursor_is_a_400(cursor: str) -> None:
    # The last: a moment past year 9999, which a datetime cannot hold.
    with pytest.raises(BadRequest):
        decode_moment(cursor)


@pytest.mark.parametrize("cursor", [*BAD, "gAAAAA", "_____w", "AAAAAAA"])
def test_damaged_position_cursor_is_a_400(cursor: str) -> None:
    # gAAAAA and _____w: past what the signed 32-bit column holds.
    with pytest.raises(BadRequest):
        decode_position(cursor)
