"""App passwords: a password per music app, for the OpenSubsonic API at ``/rest``, never
the account password.

Music apps keep the password they are given and send it with every request (or an MD5
of it with a salt: ``t = md5(secret + s)``), so what they hold must be something the
user can revoke on its own without changing how they log in. Each app password is a
random secret shown once, when it is made.

The token scheme needs the secret itself, so it is kept sealed (AES-GCM under a key
derived from the server secret, bound to its user, as two-factor secrets are) rather than
hashed: a copy of the database alone does not give the secrets away. ``lookup`` is a keyed
hash (HMAC-SHA256) of the secret, so a secret sent alone (the ``apiKey`` of OpenSubsonic's
``apiKeyAuthentication``) or as a plain ``p`` finds its row in one indexed read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts.tokens import TokenSigner
from bandstand.errors import Conflict, NotFound
from bandstand.kit.time import utcnow
from bandstand.models import AppPassword

# Enough for every app and device a person uses, few enough to list on one screen.
MAX_PER_USER = 20
# 18 random bytes: 24 URL-safe characters (144 bits), short enough to type into a phone.
SECRET_BYTES = 18
# ``last_used_at`` moves at most this often: it says "in use lately", and writing it on
# every request of a syncing app would be a write per read.
TOUCH_EVERY = timedelta(minutes=1)
_SEALED_PREFIX = "v1."
_SEAL_PURPOSE = "app-password-secret"
_LOOKUP_PURPOSE = "app-password-lookup"


@dataclass(frozen=True)
class Made:
    """A new app password and its secret: the only time the secret is seen."""

    app_password: AppPassword
    secret: str


def lookup_of(signer: TokenSigner, secret: str) -> str:
    """The keyed hash a secret is found by (hex): without the server's key, the stored
    lookups say nothing about the secrets."""
    return hmac.new(signer.key(_LOOKUP_PURPOSE), secret.encode(), hashlib.sha256).hexdigest()


def _aead(signer: TokenSigner) -> AESGCM:
    return AESGCM(signer.key(_SEAL_PURPOSE))


def seal(signer: TokenSigner, user_id: uuid.UUID, secret: str) -> str:
    """``secret`` encrypted for storage, the user's id bound in: a sealed secret copied to
    another user's row does not open."""
    nonce = os.urandom(12)
    sealed = _aead(signer).encrypt(nonce, secret.encode(), user_id.bytes)
    return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(signer: TokenSigner, user_id: uuid.UUID, stored: str) -> str:
    """The secret; ``ValueError`` if it does not open (another server's key, another
    user's row)."""
    if not stored.startswith(_SEALED_PREFIX):
        raise ValueError("not a sealed app password")
    raw = base64.urlsafe_b64decode(stored[len(_SEALED_PREFIX) :])
    try:
        return _aead(signer).decrypt(raw[:12], raw[12:], user_id.bytes).decode()
    except InvalidTag as exc:
        raise ValueError("the app password does not open with this server's key") from exc


async def create(session: AsyncSession, signer: TokenSigner, user_id: uuid.UUID, name: str) -> Made:
    """A new app password named ``name`` (which app or device it is for); 409 once the
    user has ``MAX_PER_USER``."""
    count = select(func.count()).select_from(AppPassword).where(AppPassword.user_id == user_id)
    if (await session.execute(count)).scalar_one() >= MAX_PER_USER:
        raise Conflict(
            f"You have {MAX_PER_USER} app passwords, the most there can be. "
            "Revoke one you no longer use first."
        )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    made = AppPassword(
        user_id=user_id,
        name=name,
        sealed_secret=seal(signer, user_id, secret),
        lookup=lookup_of(signer, secret),
        created_at=utcnow(),
    )
    session.add(made)
    await session.flush()
    return Made(app_password=made, secret=secret)


async def listed(session: AsyncSession, user_id: uuid.UUID) -> Sequence[AppPassword]:
    """The user's app passwords, newest first (their secrets stay sealed)."""
    stmt = (
        select(AppPassword)
        .where(AppPassword.user_id == user_id)
        .order_by(AppPassword.created_at.desc(), AppPassword.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def revoke(session: AsyncSession, user_id: uuid.UUID, app_password_id: uuid.UUID) -> None:
    """Revoke one of the user's app passwords: the app using it is refused from its next
    request. Another user's is 404, as a missing one."""
    stmt = (
        delete(AppPassword)
        .where(AppPassword.id == app_password_id, AppPassword.user_id == user_id)
        .returning(AppPassword.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        raise NotFound("App password not found.")


# --- what the /rest API authenticates with (found by ``principals.app_keys``) ----------


def due_for_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use at ``now`` is to be recorded (``touch``)."""
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


async def touch(session: AsyncSession, app_password_id: uuid.UUID, now: datetime) -> None:
    """Record a use, unless one was recorded within ``TOUCH_EVERY`` (by another replica,
    say): one conditional UPDATE."""
    stmt = (
        update(AppPassword)
        .where(
            AppPassword.id == app_password_id,
            or_(AppPassword.last_used_at.is_(None), AppPassword.last_used_at <= now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)
