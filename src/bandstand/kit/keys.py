"""Keys derived from the one signing secret, a separate key for each purpose.

An installation configures one secret. Each use (a token type, one-time codes, media
links) signs with its own key derived from it, so a signature made for one purpose is
never valid for another, and a key handed to a third party (media links' key is written
into the nginx configuration) reveals neither the secret nor the other keys.
"""

from __future__ import annotations

import hashlib
import hmac


def derive_key(secret: str, purpose: str) -> bytes:
    """HMAC-SHA256 of ``purpose`` under ``secret``: a fixed function of both, since keys
    already handed out (the nginx configuration, stored code hashes) must stay valid."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


class Keys:
    """``keys(purpose)``: :func:`derive_key` for one secret, each purpose worked out once."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._keys: dict[str, bytes] = {}

    def __call__(self, purpose: str) -> bytes:
        key = self._keys.get(purpose)
        if key is None:
            key = self._keys[purpose] = derive_key(self._secret, purpose)
        return key
