"""Who is calling ``/rest``: an app password, never the account password.

Music apps authenticate every request, in one of three ways, all against the user's app
passwords (``accounts/app_passwords.py``):

* ``u`` + ``p``: the secret as it is, or ``enc:`` and its UTF-8 bytes in hex. Found by
  its keyed hash, then checked to belong to ``u``.
* ``u`` + ``t`` + ``s``: ``t = md5(secret + s)``, checked against each of ``u``'s app
  passwords (unsealed: the scheme needs the secret itself).
* ``apiKey`` alone (OpenSubsonic ``apiKeyAuthentication``): found by its keyed hash. With
  ``u``, or with a password too, it is error 43, as the extension requires.

The account password is never accepted here: an app holds something its user can
revoke on its own, and a leaked app configuration never opens the account.

Failures are limited like logins: each failed attempt spends the login form's budget of
its client address (``login_per_client``, the same key, so alternating between the forms
buys nothing), and once it is spent every attempt from that address is refused (error 40,
``Retry-After``) until it refills, right or wrong, so a guess cannot be confirmed inside a
storm. The budget is per address, not per account: a secret of 144 random bits cannot be
guessed, and a per-account lock would let anyone lock a user's apps out. Apps call many
times a second, so the budget is looked at only for an address this process saw fail
within the budget's period (``_Suspects``): a storm's first guess here marks it, and every
later one is checked; an app that never fails costs no look.

A banned user's app passwords stop working at once (error 50, with the moderators'
reason), as their logins do; the ban is only told to a caller whose secret was right.
Each request reads the key and its user (one statement, ``principals.app_keys``), so a
revoked key or a ban takes effect on the next request. ``last_used_at`` moves at most
once a minute per key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.accounts import app_passwords
from bandstand.accounts.principals import (
    AppAccount,
    AppKey,
    AppKeys,
    KeyBy,
    Principals,
    key_by_login,
)
from bandstand.accounts.sessions import banned
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.db import transaction
from bandstand.kit.ratelimit import Rate, RateLimiter
from bandstand.kit.time import utcnow
from bandstand.subsonic.errors import (
    ConflictingMechanisms,
    InvalidApiKey,
    MissingParameter,
    NotAuthorized,
    SubsonicError,
    WrongCredentials,
)
from bandstand.subsonic.params import Params
from bandstand.subsonic.registry import Caller

log = structlog.get_logger(__name__)

# Longer than any app sends; longer values are refused before any work is done.
MAX_LOGIN = 254
MAX_SECRET = 512
MAX_SALT = 256
MAX_API_KEY = 2048
_HEX = set("0123456789abcdef")
_BUDGET_NAMESPACE = "password"
# Addresses remembered as having failed: past this many, the longest-remembered go (their
# budget is still kept where the limiter keeps it, and spent by their next failure).
MAX_SUSPECTS = 10_000


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request authenticates with: ``api_key``, or ``login`` with ``password``
    or with ``token`` and ``salt``."""

    login: str | None = None
    password: str | None = None
    token: str | None = None
    salt: str | None = None
    api_key: str | None = None


def credentials(params: Params) -> Credentials:
    """The request's credentials, or the Subsonic error for what is missing (10) or in
    conflict (43)."""
    u, p, t, s = (params.get(name) for name in ("u", "p", "t", "s"))
    api_key = params.get("apiKey")
    if api_key is not None:
        if u is not None or p is not None or t is not None:
            raise ConflictingMechanisms
        return Credentials(api_key=api_key)
    if u is None or u == "":
        raise MissingParameter("u")
    if p is not None and t is not None:
        raise ConflictingMechanisms
    if p is not None:
        return Credentials(login=u, password=p)
    if t is None or t == "":
        raise MissingParameter("p or t and s")
    if s is None or s == "":
        raise MissingParameter("s")
    return Credentials(login=u, token=t, salt=s)


def decoded_password(password: str) -> str | None:
    """``p`` as the secret: ``enc:`` and hex of UTF-8 bytes decoded; None if that fails."""
    if not password.startswith("enc:"):
        return password
    try:
        return bytes.fromhex(password[4:]).decode("utf-8")
    except ValueError:
        return None


def token_of(secret: str, salt: str) -> str:
    """Subsonic's token: the MD5 of the secret and the salt, in lowercase hex."""
    return hashlib.md5((secret + salt).encode(), usedforsecurity=False).hexdigest()


def _by_token(
    signer: TokenSigner, account: AppAccount, keys: list[AppKey], token: str, salt: str
) -> AppKey | None:
    """The app password of ``keys`` whose token with ``salt`` is ``token``. Every key is
    tried, so how long it takes does not say which one matched."""
    found = None
    for key in keys:
        try:
            secret = app_passwords.unseal(signer, account.id, key.sealed_secret)
        except ValueError:
            continue  # sealed under another server secret: it cannot be used here
        if hmac.compare_digest(token_of(secret, salt), token) and found is None:
            found = key
    return found


def _one(found: AppKeys | None) -> tuple[AppKey, AppAccount] | None:
    return None if found is None else (found[1][0], found[0])


async def _verified(
    principals: Principals, signer: TokenSigner, given: Credentials
) -> tuple[AppKey, AppAccount] | None:
    """The app password and account the credentials prove, or None."""
    if given.api_key is not None:
        if len(given.api_key) > MAX_API_KEY:
            return None
        lookup = app_passwords.lookup_of(signer, given.api_key)
        return _one(await principals.app_keys(KeyBy.LOOKUP, lookup))
    login = given.login or ""
    if len(login) > MAX_LOGIN:
        return None
    if given.password is not None:
        secret = decoded_password(given.password)
        if secret is None or not secret or len(secret) > MAX_SECRET:
            return None
        lookup = app_passwords.lookup_of(signer, secret)
        found = _one(await principals.app_keys(KeyBy.LOOKUP, lookup))
        if found is None or not found[1].named(login):
            return None
        return found
    token, salt = (given.token or "").lower(), given.salt or ""
    if len(token) != 32 or not set(token) <= _HEX or len(salt) > MAX_SALT:
        return None
    name = login.strip().lower()
    owned = await principals.app_keys(key_by_login(name), name)
    if owned is None:
        return None
    account, keys = owned
    key = _by_token(signer, account, keys, token, salt)
    return None if key is None else (key, account)


class _Suspects:
    """The client addresses that failed to authenticate in this process, each until the
    failure budget's period has passed since its last failure."""

    def __init__(self) -> None:
        self._until: OrderedDict[str, float] = OrderedDict()

    def failed(self, address: str, period_s: float) -> None:
        self._until[address] = time.monotonic() + period_s
        self._until.move_to_end(address)
        while len(self._until) > MAX_SUSPECTS:
            self._until.popitem(last=False)

    def __contains__(self, address: str) -> bool:
        until = self._until.get(address)
        if until is None:
            return False
        if until <= time.monotonic():
            del self._until[address]
            return False
        return True


_SUSPECTS = _Suspects()


async def _not_throttled(limiter: RateLimiter, settings: Settings, address: str) -> None:
    if address not in _SUSPECTS:
        return
    verdict = await limiter.check(settings.login_per_client, _BUDGET_NAMESPACE, f"client:{address}")
    if not verdict.allowed:
        raise WrongCredentials(
            "Too many failed sign-ins from your address. "
            f"Try again in {verdict.retry_after} seconds.",
            retry_after=verdict.retry_after,
        )


async def _failed(limiter: RateLimiter, settings: Settings, address: str) -> None:
    _SUSPECTS.failed(address, Rate.parse(settings.login_per_client).period_ms / 1000)
    await limiter.hit(settings.login_per_client, _BUDGET_NAMESPACE, f"client:{address}")


async def _touch(sessionmaker: async_sessionmaker[AsyncSession], key: AppKey) -> None:
    """Record the use, at most once a minute; never fail the request for it."""
    now = utcnow()
    if not app_passwords.due_for_touch(key.last_used_at, now):
        return
    try:
        async with transaction(sessionmaker) as session:
            await app_passwords.touch(session, key.id, now)
    except Exception:
        log.warning("app_password_touch_failed", app_password_id=str(key.id), exc_info=True)


async def authenticate(
    *,
    principals: Principals,
    sessions: async_sessionmaker[AsyncSession],
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    params: Params,
    address: str,
) -> Caller:
    """The caller the request's credentials prove, or the Subsonic error that refuses
    them (10, 40, 43, 44, 50)."""
    given = credentials(params)
    await _not_throttled(limiter, settings, address)
    found = await _verified(principals, signer, given)
    if found is None:
        await _failed(limiter, settings, address)
        error: SubsonicError = InvalidApiKey() if given.api_key is not None else WrongCredentials()
        raise error
    key, account = found
    if account.banned:
        raise NotAuthorized(banned(account).message)
    await _touch(sessions, key)
    return Caller(
        user_id=account.id,
        username=account.username,
        fullname=account.fullname,
        email=account.email,
        role=account.role,
        avatar_key=account.avatar_key,
        key_id=key.id,
        hides_songs=account.hides_songs,
    )
