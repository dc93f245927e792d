"""Signed tokens (PyJWT, HS256 pinned) and the hashes refresh tokens are stored as."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from bandstand.kit.keys import Keys
from bandstand.kit.time import utcnow

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh", "signup", "device"]
_REQUIRED = ["exp", "iat", "sub", "typ"]


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Claims:
    sub: str
    typ: str
    sid: str | None
    jti: str | None
    exp: datetime


class TokenSigner:
    """Signs and checks every token type; each type has its own derived key."""

    VERIFIED_CACHE_SIZE = 10_000

    def __init__(self, secret: str) -> None:
        # ``signer.key(purpose)``: each token type signs with its own key, as do one-time
        # codes (accounts/otp.py).
        self.key = Keys(secret)
        # Tokens whose signature and claims already checked out. A hit skips the HMAC and
        # parsing (the largest cost of an authenticated request) but not the expiry check.
        self._verified: dict[tuple[str, str], Claims] = {}

    def issue(
        self,
        typ: TokenType,
        subject: str,
        ttl_s: int,
        *,
        session_id: uuid.UUID | None = None,
        now: datetime | None = None,
    ) -> str:
        now = now or utcnow()
        payload: dict[str, object] = {
            "sub": subject,
            "typ": typ,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_s),
        }
        if session_id is not None:
            payload["sid"] = str(session_id)
        if typ == "refresh":
            payload["jti"] = uuid.uuid4().hex
        return jwt.encode(payload, self.key(typ), algorithm=ALGORITHM)

    def read(self, token: str, typ: TokenType) -> Claims:
        cached = self._verified.get((token, typ))
        if cached is not None:
            if cached.exp <= utcnow():
                raise InvalidToken("expired")
            return cached
        claims = self._decode(token, typ)
        if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[(token, typ)] = claims
        return claims

    def _decode(self, token: str, typ: TokenType) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self.key(typ),
                algorithms=[ALGORITHM],
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if payload.get("typ") != typ or not isinstance(payload.get("sub"), str):
            raise InvalidToken("wrong token type")
        sid = payload.get("sid")
        jti = payload.get("jti")
        return Claims(
            sub=payload["sub"],
            typ=payload["typ"],
            sid=sid if isinstance(sid, str) else None,
            jti=jti if isinstance(jti, str) else None,
            exp=datetime.fromtimestamp(payload["exp"], tz=UTC),
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
