"""Two-factor login: time-based codes (RFC 6238, pyotp) and one-time recovery codes.

The shared secret is kept encrypted (AES-GCM under a key derived from the server secret,
bound to its user), so a copy of the database alone cannot mint codes. A code is good
once: the time step of the last code accepted is kept, and a code of that step or an
earlier one is refused. Every code checked, right or wrong, spends the user's code budget
first, so the million codes cannot be tried. Recovery codes are stored as keyed hashes
and spent as they are used."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import repository as repo
from bandstand.accounts.throttle import Client, check_password
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.errors import BadRequest, Conflict, TooManyRequests, Unauthorized
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.time import utcnow
from bandstand.models import User

STEP_S = 30
# A code of the step before or after the current one is accepted too: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_SEALED_PREFIX = "v1."


@dataclass(frozen=True)
class Setup:
    secret: str
    uri: str


def _aead(signer: TokenSigner) -> AESGCM:
    return AESGCM(signer.key("totp-secret"))


def seal(signer: TokenSigner, user_id: uuid.UUID, secret: str) -> str:
    """``secret`` encrypted for storage; the user's id is bound in, so a sealed secret
    copied to another user's row does not open."""
    nonce = os.urandom(12)
    sealed = _aead(signer).encrypt(nonce, secret.encode(), user_id.bytes)
    return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(signer: TokenSigner, user_id: uuid.UUID, stored: str) -> str:
    if not stored.startswith(_SEALED_PREFIX):
        raise ValueError("not a sealed two-factor secret")
    raw = base64.urlsafe_b64decode(stored[len(_SEALED_PREFIX) :])
    try:
        return _aead(signer).decrypt(raw[:12], raw[12:], user_id.bytes).decode()
    except InvalidTag as exc:
        raise ValueError("the two-factor secret does not open with this server's key") from exc


def _recovery_hash(signer: TokenSigner, user_id: uuid.UUID, code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").lower()
    key = signer.key("recovery-code")
    return hmac.new(key, user_id.bytes + normal.encode(), hashlib.sha256).hexdigest()


def _new_recovery_code() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


async def _spend_code_attempt(limiter: RateLimiter, settings: Settings, user: User) -> None:
    verdict = await limiter.hit(settings.totp_per_user, "totp", str(user.id))
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after, "Too many two-factor codes. Try again later.")


async def _accept_totp(session: AsyncSession, signer: TokenSigner, user: User, code: str) -> bool:
    """Whether ``code`` is the authenticator's code of a step near now not used before;
    accepting it uses its step (and every step before it)."""
    if user.totp_secret is None or not _is_totp(code):
        return False
    totp = pyotp.TOTP(unseal(signer, user.id, user.totp_secret), interval=STEP_S)
    now_step = int(time.time()) // STEP_S
    last = user.totp_last_step if user.totp_last_step is not None else -1
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if step > last and hmac.compare_digest(totp.at(step * STEP_S), code):
            return await repo.advance_totp_step(session, user.id, step)
    return False


async def accept_code(
    session: AsyncSession,
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    code: str,
) -> bool:
    """Spend a code budget, then accept an authenticator code or an unused recovery code."""
    await _spend_code_attempt(limiter, settings, user)
    code = code.strip()
    if _is_totp(code):
        return await _accept_totp(session, signer, user, code)
    digest = _recovery_hash(signer, user.id, code)
    return await repo.use_recovery_code(session, user.id, digest, utcnow())


async def check_login(
    session: AsyncSession,
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    code: str | None,
) -> None:
    """The second factor of a login whose password was right: 401 naming ``totp`` when
    it is missing or wrong."""
    if not code:
        raise Unauthorized(
            "Two-factor code required.",
            errors=[{"field": "totp", "message": "Enter the code from your authenticator app."}],
        )
    if not await accept_code(session, signer, limiter, settings, user, code):
        raise Unauthorized(
            "The two-factor code is not correct.",
            errors=[{"field": "totp", "message": "Incorrect or already used code."}],
        )


async def setup(
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    password: str,
    client: Client,
) -> Setup:
    """A new secret for the user's authenticator, not yet on (``enable`` turns it on).

    It asks for the password: with a stolen access token alone, nobody can put the
    account behind their own authenticator."""
    if user.totp_enabled_at is not None:
        raise Conflict("Two-factor login is already on. Turn it off first.")
    if not await check_password(limiter, settings, user, password, client):
        raise BadRequest(
            "The password is not correct.",
            errors=[{"field": "password", "message": "Incorrect password."}],
        )
    secret = pyotp.random_base32()
    user.totp_secret = seal(signer, user.id, secret)
    user.totp_last_step = None
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
        name=user.email, issuer_name=settings.totp_issuer
    )
    return Setup(secret=secret, uri=uri)


async def enable(
    session: AsyncSession,
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    code: str,
) -> list[str]:
    """Turn two-factor login on with a first code from the authenticator; the answer is
    the recovery codes, shown this once (only their hashes are kept)."""
    if user.totp_enabled_at is not None:
        raise Conflict("Two-factor login is already on.")
    if user.totp_secret is None:
        raise BadRequest("Set up two-factor login first.")
    await _spend_code_attempt(limiter, settings, user)
    if not await _accept_totp(session, signer, user, code):
        raise BadRequest(
            "The code is not correct.",
            errors=[{"field": "code", "message": "Incorrect or already used code."}],
        )
    user.totp_enabled_at = utcnow()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    await repo.replace_recovery_codes(
        session, user.id, [_recovery_hash(signer, user.id, c) for c in codes]
    )
    await session.flush()
    return codes


async def disable(
    session: AsyncSession,
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    password: str,
    code: str,
    client: Client,
) -> None:
    """Turn two-factor login off: the password and a code (or a recovery code)."""
    if user.totp_enabled_at is None:
        raise BadRequest("Two-factor login is not on.")
    if not await check_password(limiter, settings, user, password, client):
        raise BadRequest(
            "The password is not correct.",
            errors=[{"field": "password", "message": "Incorrect password."}],
        )
    if not await accept_code(session, signer, limiter, settings, user, code):
        raise BadRequest(
            "The code is not correct.",
            errors=[{"field": "code", "message": "Incorrect or already used code."}],
        )
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await repo.replace_recovery_codes(session, user.id, [])
    await session.flush()
