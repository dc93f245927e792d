"""The token signer on its own: pinned algorithm, typed keys, a cache that still expires."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from bandstand.accounts import tokens
from bandstand.accounts.tokens import InvalidToken, TokenSigner
from bandstand.kit.time import utcnow

pytestmark = pytest.mark.backend_free


def test_each_type_has_its_own_key() -> None:
    signer = TokenSigner("s" * 40)
    refresh = signer.issue("refresh", "user", 60)
    with pytest.raises(InvalidToken):
        signer.read(refresh, "access")
    assert signer.read(refresh, "refresh").sub == "user"


def test_a_cached_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner("s" * 40)
    token = signer.issue("access", "user", 60)
    assert signer.read(token, "access").sub == "user"  # verified and cached
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(tokens, "utcnow", lambda: later)
    with pytest.raises(InvalidToken):
        signer.read(token, "access")


def test_a_failed_token_is_never_cached() -> None:
    signer = TokenSigner("s" * 40)
    forged = jwt.encode(
        {"sub": "user", "typ": "access", "iat": utcnow(), "exp": utcnow() + timedelta(minutes=1)},
        "wrong-key-wrong-key-wrong-key-wrong-key",
        algorithm="HS256",
    )
    for _ in range(2):
        with pytest.raises(InvalidToken):
            signer.read(forged, "access")


def test_other_algorithms_are_refused() -> None:
    signer = TokenSigner("s" * 40)
    claims = {"sub": "u", "typ": "access", "iat": utcnow(), "exp": utcnow() + timedelta(minutes=1)}
    hs512 = jwt.encode(claims, signer.key("access") * 2, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (hs512, unsigned):
        with pytest.raises(InvalidToken):
            signer.read(token, "access")
