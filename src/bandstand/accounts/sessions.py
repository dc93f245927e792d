"""Logins: checking credentials, issuing and rotating tokens, ending a login.

A login is a ``LoginSession`` row; its refresh tokens hang off it, stored by hash, and its
access tokens name it, so ending the row ends them all at once. A refresh token is good for
one rotation: one that comes back after the grace for two racing tabs was stolen or leaked,
and ends its whole login. A device token marks a browser that logged in before: it spends
a password budget of its own (``throttle``), so attacks on the account from elsewhere, or
from its own address, never lock it out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import passwords, twofactor
from bandstand.accounts import repository as repo
from bandstand.accounts.schemas import LoginIn
from bandstand.accounts.throttle import (
    Client,
    account_key,
    password_succeeded,
    spend_password_attempt,
)
from bandstand.accounts.tokens import InvalidToken, TokenSigner, token_hash
from bandstand.config import Settings
from bandstand.db import after_commit
from bandstand.errors import Forbidden, Unauthorized
from bandstand.kit.ids import new_id
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.time import utcnow
from bandstand.models import LoginSession, RefreshToken, User
from bandstand.observability.metrics import on_commit

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    session_id: uuid.UUID


class RefreshReuse(Unauthorized):
    """A rotated refresh token came back: the revocation of its login must stand."""

    keep_changes = True


def _known_device(signer: TokenSigner, client: Client, user: User | None) -> str | None:
    """The key of the browser's device mark, if it marks a login to ``user`` before: an
    attacker cannot lock a real user out of their own device (``throttle``)."""
    if client.device_token is None or user is None:
        return None
    try:
        claims = signer.read(client.device_token, "device")
    except InvalidToken:
        return None
    return token_hash(client.device_token)[:32] if claims.sub == str(user.id) else None


class BanNotice(Protocol):
    """What a ban says: the moderators' reason, and until when (a ``User``, or the
    account a music app signs in to)."""

    @property
    def ban_reason(self) -> str | None: ...

    @property
    def banned_until(self) -> datetime | None: ...


def banned(user: BanNotice) -> Forbidden:
    """The 403 a banned user's login and refresh get: the moderators' reason, and until when."""
    message = "This account is banned"
    message += f": {user.ban_reason.strip()}" if user.ban_reason and user.ban_reason.strip() else ""
    message = message.rstrip(".") + "."
    if user.banned_until is not None:
        message += f" The ban ends {user.banned_until:%Y-%m-%d %H:%M} UTC."
    return Forbidden(message)


async def issue_tokens(
    session: AsyncSession,
    signer: TokenSigner,
    settings: Settings,
    user: User,
    login: LoginSession | None,
    client: Client,
) -> IssuedTokens:
    """A fresh access and refresh token on ``login``, or on a new login when it is None."""
    now = utcnow()
    if login is None:
        login = LoginSession(
            id=new_id(), user_id=user.id, created_at=now, user_agent=(client.user_agent or "")[:200]
        )
        session.add(login)
        after_commit(session, on_commit("login"))
    refresh = signer.issue(
        "refresh", str(user.id), settings.refresh_token_ttl_s, session_id=login.id, now=now
    )
    session.add(
        RefreshToken(
            session_id=login.id,
            token_hash=token_hash(refresh),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    access = signer.issue(
        "access", str(user.id), settings.access_token_ttl_s, session_id=login.id, now=now
    )
    await session.flush()
    return IssuedTokens(access=access, refresh=refresh, session_id=login.id)


async def login(
    session: AsyncSession,
    signer: TokenSigner,
    limiter: RateLimiter,
    settings: Settings,
    data: LoginIn,
    client: Client,
) -> tuple[User, IssuedTokens]:
    """Check credentials; unknown user and wrong password look the same from outside.

    Only once the password is right does the answer say more: that the account is banned
    and why (403), or that it needs its two-factor code (401 naming ``totp``)."""
    identifier = data.identifier
    user = await repo.user_by_login(session, identifier)
    account = account_key(identifier, user)
    device = _known_device(signer, client, user)
    await spend_password_attempt(limiter, settings, account, client, device=device)
    cost = settings.password_hash_cost
    ok = await passwords.verify_password(cost, user.password_hash if user else None, data.password)
    if user is None or not ok:
        raise Unauthorized("Invalid credentials.")
    await password_succeeded(limiter, settings.login_per_pair, account, client, device)
    if user.banned_at is not None:
        raise banned(user)
    if user.totp_enabled_at is not None:
        await twofactor.check_login(session, signer, limiter, settings, user, data.totp)
    if passwords.needs_rehash(cost, user.password_hash):
        user.password_hash = await passwords.hash_password(cost, data.password)
    tokens = await issue_tokens(session, signer, settings, user, None, client)
    log.info("login", user_id=str(user.id), session_id=str(tokens.session_id))
    return user, tokens


def device_token(signer: TokenSigner, user: User) -> str:
    """The year-long mark a browser keeps once it has logged in to ``user``."""
    return signer.issue("device", str(user.id), 365 * 24 * 3600)


async def refresh(
    session: AsyncSession,
    signer: TokenSigner,
    settings: Settings,
    token: str | None,
    client: Client,
) -> IssuedTokens:
    """Rotate a refresh token. A token that was already rotated ends its whole login,
    unless it comes back within a few seconds (two tabs refreshing at once)."""
    if not token:
        raise Unauthorized("Refresh token required.")
    try:
        claims = signer.read(token, "refresh")
    except InvalidToken as exc:
        raise Unauthorized("Invalid refresh token.") from exc
    now = utcnow()
    stored = await repo.refresh_token_by_hash(session, token_hash(token))
    if stored is None or stored.expires_at <= now:
        raise Unauthorized("Invalid refresh token.")
    login = await repo.login_session(session, stored.session_id)
    user = await repo.user_by_id(session, login.user_id) if login is not None else None
    if login is None or user is None or str(user.id) != claims.sub:
        raise Unauthorized("Invalid refresh token.")
    if user.banned_at is not None:
        raise banned(user)
    if login.revoked_at is not None:
        raise Unauthorized("This login has ended. Log in again.")
    if not await repo.mark_rotated(session, stored.id, now):
        await session.refresh(stored)
        rotated_at = stored.rotated_at
        if rotated_at is None or now - rotated_at > timedelta(
            seconds=settings.refresh_reuse_grace_s
        ):
            await repo.revoke_sessions(session, now, session_id=login.id)
            log.warning("refresh_token_reuse", session_id=str(login.id), user_id=str(user.id))
            raise RefreshReuse("This refresh token was already used. Log in again.")
    return await issue_tokens(session, signer, settings, user, login, client)


async def logout(session: AsyncSession, session_id: uuid.UUID) -> None:
    """End the login: its refresh tokens and access tokens stop working now."""
    await repo.revoke_sessions(session, utcnow(), session_id=session_id)


async def logout_by_refresh(session: AsyncSession, signer: TokenSigner, token: str | None) -> None:
    """End the login a refresh token belongs to — for a client whose access token ran out."""
    try:
        signer.read(token or "", "refresh")
    except InvalidToken as exc:
        raise Unauthorized("Authentication required.") from exc
    stored = await repo.refresh_token_by_hash(session, token_hash(token or ""))
    if stored is None:
        raise Unauthorized("Authentication required.")
    await logout(session, stored.session_id)
