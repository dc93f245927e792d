"""Expiring signed URLs: an HMAC over the path and the expiry time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from bandstand.kit.keys import derive_key

# Expiry as the signer writes it: ASCII digits, no sign, no leading zero, no more than a
# timestamp needs. Anything else is refused before any arithmetic.
_EXPIRES = re.compile(r"[1-9][0-9]{0,11}")


def media_url_key(secret: str) -> bytes:
    """The key media links are signed with: the app signs with it, and the media proxy
    (``media/proxy.py`` writes it into the nginx configuration) checks with it."""
    return derive_key(secret, "media-url")


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, path: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:20]).rstrip(b"=").decode()

    @staticmethod
    def _expiry(ttl_s: int, now: float | None) -> int:
        # Rounded up to the hour so a song's URL stays the same for a while and players and
        # caches can reuse it.
        now = time.time() if now is None else now
        return (int(now + ttl_s) // 3600 + 1) * 3600

    def query(self, path: str, ttl_s: int, now: float | None = None) -> str:
        """``exp=…&sig=…`` for ``path``."""
        expires = self._expiry(ttl_s, now)
        return f"exp={expires}&sig={self._mac(path, expires)}"

    def path_token(self, scope: str, ttl_s: int, now: float | None = None) -> str:
        """``<exp>/<sig>`` for every path under ``scope``, to put in a URL's path, where
        relative links (an HLS playlist's segments) carry it along."""
        expires = self._expiry(ttl_s, now)
        return f"{expires}/{self._mac(scope, expires)}"

    def valid(
        self, path: str, expires: str | None, signature: str | None, now: float | None = None
    ) -> bool:
        """Whether ``exp`` and ``sig`` are exactly what :meth:`query` gave for ``path`` and
        the expiry has not passed."""
        if not expires or not signature or not _EXPIRES.fullmatch(expires):
            return False
        if int(expires) < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._mac(path, int(expires)).encode(), signature.encode())
