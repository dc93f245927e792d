"""Account rules: sign-up by emailed code, login, token rotation, profile changes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import otp, passwords
from bandstand.accounts import repository as repo
from bandstand.accounts.schemas import (
    ChangePasswordIn,
    LoginIn,
    RegisterForm,
    UpdateAccountIn,
)
from bandstand.accounts.tokens import InvalidToken, token_hash
from bandstand.db import after_commit, on_rollback, transaction
from bandstand.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from bandstand.kit.ids import new_id
from bandstand.kit.time import utcnow
from bandstand.media.images import InvalidImage, square_webp
from bandstand.models import LoginSession, PendingSignup, RefreshToken, User
from bandstand.runtime import Runtime
from bandstand.storage import new_key

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as throttling cares."""

    address: str
    user_agent: str | None = None
    device_token: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    session_id: uuid.UUID


class WrongCode(BadRequest):
    """A wrong code still spends an attempt: keep the transaction's changes."""

    keep_changes = True


class RefreshReuse(Unauthorized):
    """A rotated refresh token came back: the revocation of its login must stand."""

    keep_changes = True


def _conflict(taken: set[str]) -> Conflict:
    errors = [{"field": f, "message": f"This {f} is already taken."} for f in sorted(taken)]
    return Conflict("Email or username already taken.", errors=errors)


# --- avatars -------------------------------------------------------------------------


async def store_avatar(rt: Runtime, session: AsyncSession, data: bytes) -> str:
    """Check, re-encode and store an avatar; the file goes away again if the request fails."""
    if len(data) > rt.settings.image_max_bytes:
        raise PayloadTooLarge(
            f"The avatar is larger than {rt.settings.image_max_bytes // (1024 * 1024)} MB.",
            errors=[_avatar_error("File too large.")],
        )
    if not data:
        raise BadRequest("The avatar file is empty.", errors=[_avatar_error("The file is empty.")])
    try:
        encoded = await square_webp(data, rt.settings.avatar_size_px)
    except InvalidImage as exc:
        raise UnsupportedMediaType(str(exc), errors=[_avatar_error(str(exc))]) from exc
    key = new_key("avatars", "webp")
    await rt.storage.put(key, encoded, "image/webp")
    on_rollback(session, lambda: rt.storage.delete(key))
    return key


def _avatar_error(message: str) -> dict[str, str]:
    return {"field": "avatar", "message": message}


# --- sign-up -------------------------------------------------------------------------


async def _spend_code_email(rt: Runtime, email: str, client: Client) -> None:
    """Spend one emailed code from every budget it counts against, before sending it.

    Per address and client, so a stranger cannot block someone's sign-up; per address in
    all, so a crowd cannot flood an inbox; per client, so one client cannot spray many."""
    s = rt.settings
    budgets = (
        (s.otp_send_per_address_client, f"pair:{email}:{client.address}"),
        (s.otp_send_per_address, f"addr:{email}"),
        (s.otp_send_per_client, f"client:{client.address}"),
    )
    for limit, key in budgets:
        verdict = await rt.limiter.hit(limit, "otp-send", key)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after, "Too many codes requested. Try again later.")


def _email_code(rt: Runtime, session: AsyncSession, signup: PendingSignup, code: str) -> None:
    """Queue the code's email for once the sign-up is committed."""
    minutes = rt.settings.otp_ttl_s // 60
    text = (
        f"Your Bandstand verification code is {code}\n\n"
        f"It is valid for {minutes} minutes. If you did not sign up, ignore this email.\n"
    )
    subject = "Your Bandstand verification code"
    rt.queue.enqueue_after_commit(session, "mail.send", signup.email, subject, text)


def _set_code(rt: Runtime, signup: PendingSignup) -> str:
    code = otp.new_code()
    signup.otp_hash = otp.code_hash(rt.signer.key("otp"), signup.id, code)
    signup.otp_expires_at = utcnow() + timedelta(seconds=rt.settings.otp_ttl_s)
    signup.otp_attempts = 0
    return code


async def register(
    rt: Runtime, session: AsyncSession, form: RegisterForm, avatar: bytes, client: Client
) -> PendingSignup:
    """Hold a sign-up server-side and email it a code. Nothing becomes a user yet."""
    await purge_expired_signups(rt, session)
    username_key = form.username.lower()
    taken = await repo.taken_fields(session, email=form.email, username_key=username_key)
    if taken:
        raise _conflict(taken)
    await _spend_code_email(rt, form.email, client)
    avatar_key = await store_avatar(rt, session, avatar)
    now = utcnow()
    signup = PendingSignup(
        id=new_id(),
        email=form.email,
        username=form.username,
        username_key=username_key,
        fullname=form.fullname,
        password_hash=await passwords.hash_password(form.password),
        avatar_key=avatar_key,
        created_at=now,
        expires_at=now + timedelta(seconds=rt.settings.signup_ttl_s),
    )
    code = _set_code(rt, signup)
    session.add(signup)
    await session.flush()
    _email_code(rt, session, signup, code)
    log.info("signup_started", signup_id=str(signup.id))
    return signup


async def resend_code(
    rt: Runtime, session: AsyncSession, signup_id: uuid.UUID, client: Client
) -> PendingSignup:
    """A fresh code for a live sign-up; the old code dies and the tries start again."""
    signup = await repo.live_signup(session, signup_id, utcnow())
    if signup is None:
        raise BadRequest("Sign-up not found or expired. Register again.")
    await _spend_code_email(rt, signup.email, client)
    code = _set_code(rt, signup)
    await session.flush()
    _email_code(rt, session, signup, code)
    return signup


async def verify_code(
    rt: Runtime,
    session: AsyncSession,
    signup_id: uuid.UUID,
    code: str,
    client: Client,
    email: str | None = None,
) -> User:
    """Turn the sign-up into a user if ``code`` is the one emailed to it."""
    verdict = await rt.limiter.hit(rt.settings.otp_verify_per_client, "otp-verify", client.address)
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after, "Too many attempts. Try again later.")
    now = utcnow()
    signup = await repo.live_signup(session, signup_id, now)
    if signup is None or (email is not None and email != signup.email):
        raise BadRequest("Sign-up not found or expired. Register again.")
    if not await repo.spend_code_attempt(session, signup.id, rt.settings.otp_max_attempts):
        raise BadRequest("Too many wrong codes. Request a new code.")
    if signup.otp_expires_at <= now:
        raise WrongCode("The code has expired. Request a new code.")
    if not otp.code_matches(rt.signer.key("otp"), signup.id, code, signup.otp_hash):
        raise WrongCode("The code is not correct.")

    username_key = signup.username_key
    taken = await repo.taken_fields(session, email=signup.email, username_key=username_key)
    if taken:
        raise _conflict(taken)
    user = User(
        fullname=signup.fullname,
        email=signup.email,
        username=signup.username,
        username_key=username_key,
        avatar_key=signup.avatar_key,
        password_hash=signup.password_hash,
    )
    session.add(user)
    # Every other sign-up for this address is now dead; so are their avatars.
    others = await repo.signups_for_email(session, signup.email)
    await repo.delete_signups(session, [s.id for s in others])
    for other in others:
        if other.id != signup.id:
            after_commit(session, _deleter(rt, other.avatar_key))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _conflict({"email", "username"}) from exc
    log.info("user_registered", user_id=str(user.id))
    return user


def _deleter(rt: Runtime, key: str) -> Callable[[], Awaitable[None]]:
    async def delete() -> None:
        await rt.storage.delete(key)

    return delete


async def purge_all_expired_signups(rt: Runtime, batch: int = 500) -> int:
    """Every expired sign-up, a batch per transaction (the periodic clean-up job)."""
    total = 0
    while True:
        async with transaction(rt.sessionmaker) as session:
            removed = await purge_expired_signups(rt, session, limit=batch)
        total += removed
        if removed < batch:
            return total


async def purge_expired_signups(rt: Runtime, session: AsyncSession, limit: int = 100) -> int:
    """Drop sign-ups nobody verified in time, and their avatars once that commits."""
    expired = await repo.expired_signups(session, utcnow(), limit)
    await repo.delete_signups(session, [s.id for s in expired])
    for signup in expired:
        after_commit(session, _deleter(rt, signup.avatar_key))
    return len(expired)


# --- login and tokens ----------------------------------------------------------------


def _account_key(identifier: str, user: User | None) -> str:
    # By account where there is one, so its email and its username share one budget.
    return f"user:{user.id}" if user is not None else f"login:{identifier}"


async def _spend_password_attempt(
    rt: Runtime, account: str, client: Client, *, trusted: bool = False
) -> None:
    """Spend a password attempt before checking it: per account from this client, per
    client, and per account from anywhere (which a known device of the account skips)."""
    s = rt.settings
    budgets = [(s.login_per_pair, f"pair:{account}:{client.address}")]
    budgets.append((s.login_per_client, f"client:{client.address}"))
    if not trusted:
        budgets.append((s.login_per_account, f"account:{account}"))
    for limit, key in budgets:
        verdict = await rt.limiter.hit(limit, "password", key)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after, "Too many password attempts. Try later.")


async def _password_succeeded(rt: Runtime, account: str, client: Client) -> None:
    await rt.limiter.clear(
        rt.settings.login_per_pair, "password", f"pair:{account}:{client.address}"
    )


async def check_password(rt: Runtime, user: User, password: str, client: Client) -> bool:
    """A password check on a logged-in account spends the same budget a login does."""
    account = _account_key(user.email, user)
    await _spend_password_attempt(rt, account, client)
    ok = await passwords.verify_password(user.password_hash, password)
    if ok:
        await _password_succeeded(rt, account, client)
    return ok


def _trusted_device(rt: Runtime, client: Client, user_hint: User | None) -> bool:
    """A browser this account logged in from before is not held back by attacks on the
    account from elsewhere: an attacker cannot lock a real user out of their own device."""
    if client.device_token is None or user_hint is None:
        return False
    try:
        claims = rt.signer.read(client.device_token, "device")
    except InvalidToken:
        return False
    return claims.sub == str(user_hint.id)


async def issue_tokens(
    rt: Runtime, session: AsyncSession, user: User, login: LoginSession | None, client: Client
) -> IssuedTokens:
    now = utcnow()
    if login is None:
        login = LoginSession(
            id=new_id(), user_id=user.id, created_at=now, user_agent=(client.user_agent or "")[:200]
        )
        session.add(login)
    refresh = rt.signer.issue(
        "refresh", str(user.id), rt.settings.refresh_token_ttl_s, session_id=login.id, now=now
    )
    session.add(
        RefreshToken(
            session_id=login.id,
            token_hash=token_hash(refresh),
            created_at=now,
            expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl_s),
        )
    )
    access = rt.signer.issue(
        "access", str(user.id), rt.settings.access_token_ttl_s, session_id=login.id, now=now
    )
    await session.flush()
    return IssuedTokens(access=access, refresh=refresh, session_id=login.id)


async def login(
    rt: Runtime, session: AsyncSession, data: LoginIn, client: Client
) -> tuple[User, IssuedTokens]:
    """Check credentials; unknown user and wrong password look the same from outside."""
    identifier = data.identifier
    user = await repo.user_by_login(session, identifier)
    account = _account_key(identifier, user)
    trusted = _trusted_device(rt, client, user)
    await _spend_password_attempt(rt, account, client, trusted=trusted)
    ok = await passwords.verify_password(user.password_hash if user else None, data.password)
    if user is None or not ok or user.banned_at is not None:
        raise Unauthorized("Invalid credentials.")
    await _password_succeeded(rt, account, client)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(data.password)
    tokens = await issue_tokens(rt, session, user, None, client)
    log.info("login", user_id=str(user.id), session_id=str(tokens.session_id))
    return user, tokens


def device_token(rt: Runtime, user: User) -> str:
    return rt.signer.issue("device", str(user.id), 365 * 24 * 3600)


async def refresh(
    rt: Runtime, session: AsyncSession, token: str | None, client: Client
) -> IssuedTokens:
    """Rotate a refresh token. A token that was already rotated ends its whole login,
    unless it comes back within a few seconds (two tabs refreshing at once)."""
    if not token:
        raise Unauthorized("Refresh token required.")
    try:
        claims = rt.signer.read(token, "refresh")
    except InvalidToken as exc:
        raise Unauthorized("Invalid refresh token.") from exc
    now = utcnow()
    stored = await repo.refresh_token_by_hash(session, token_hash(token))
    if stored is None or stored.expires_at <= now:
        raise Unauthorized("Invalid refresh token.")
    login = await repo.login_session(session, stored.session_id)
    if login is None or login.revoked_at is not None:
        raise Unauthorized("This login has ended. Log in again.")
    user = await repo.user_by_id(session, login.user_id)
    if user is None or user.banned_at is not None or str(user.id) != claims.sub:
        raise Unauthorized("Invalid refresh token.")
    if not await repo.mark_rotated(session, stored.id, now):
        await session.refresh(stored)
        rotated_at = stored.rotated_at
        if rotated_at is None or now - rotated_at > timedelta(
            seconds=rt.settings.refresh_reuse_grace_s
        ):
            await repo.revoke_sessions(session, now, session_id=login.id)
            log.warning("refresh_token_reuse", session_id=str(login.id), user_id=str(user.id))
            raise RefreshReuse("This refresh token was already used. Log in again.")
    return await issue_tokens(rt, session, user, login, client)


async def logout(session: AsyncSession, session_id: uuid.UUID) -> None:
    """End the login: its refresh tokens and access tokens stop working now."""
    await repo.revoke_sessions(session, utcnow(), session_id=session_id)


async def logout_by_refresh(rt: Runtime, session: AsyncSession, token: str | None) -> None:
    """End the login a refresh token belongs to — for a client whose access token ran out."""
    try:
        rt.signer.read(token or "", "refresh")
    except InvalidToken as exc:
        raise Unauthorized("Authentication required.") from exc
    stored = await repo.refresh_token_by_hash(session, token_hash(token or ""))
    if stored is None:
        raise Unauthorized("Authentication required.")
    await logout(session, stored.session_id)


async def change_password(
    rt: Runtime,
    session: AsyncSession,
    user: User,
    session_id: uuid.UUID,
    data: ChangePasswordIn,
    client: Client,
) -> None:
    """Set a new password and end every other login of this user."""
    if not await check_password(rt, user, data.oldPassword, client):
        raise BadRequest(
            "The old password is not correct.",
            errors=[{"field": "oldPassword", "message": "Incorrect password."}],
        )
    user.password_hash = await passwords.hash_password(data.newPassword)
    await repo.revoke_sessions(session, utcnow(), user_id=user.id, keep=session_id)
    await session.flush()


async def update_account(
    rt: Runtime, session: AsyncSession, user: User, data: UpdateAccountIn, client: Client
) -> User:
    """Change fullname, email or username; a new email needs the current password."""
    new_email = data.email if data.email is not None and data.email != user.email else None
    new_key = data.username.lower() if data.username is not None else None
    if new_key == user.username_key:
        new_key = None
    if new_email is not None:
        if data.currentPassword is None:
            raise BadRequest(
                "Changing your email needs your current password.",
                errors=[{"field": "currentPassword", "message": "This field is required."}],
            )
        if not await check_password(rt, user, data.currentPassword, client):
            raise BadRequest(
                "The current password is not correct.",
                errors=[{"field": "currentPassword", "message": "Incorrect password."}],
            )
    taken = await repo.taken_fields(session, email=new_email, username_key=new_key, exclude=user.id)
    if taken:
        raise _conflict(taken)
    if data.fullname is not None:
        user.fullname = data.fullname
    if new_email is not None:
        user.email = new_email
    if data.username is not None:
        user.username = data.username
        user.username_key = data.username.lower()
    user.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _conflict({f for f, v in (("email", new_email), ("username", new_key)) if v}) from exc
    return user


async def update_avatar(rt: Runtime, session: AsyncSession, user: User, data: bytes) -> User:
    """Replace the avatar; the old file is deleted once the change commits."""
    key = await store_avatar(rt, session, data)
    old = user.avatar_key
    user.avatar_key = key
    user.updated_at = utcnow()
    await session.flush()
    if old:
        after_commit(session, _deleter(rt, old))
    return user


async def public_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repo.user_by_id(session, user_id)
    if user is None or user.banned_at is not None:
        raise NotFound("User not found.")
    return user
