"""Sign-up by emailed code: a pending sign-up becomes a user only when its code comes back.

The sign-up (its password already hashed, its avatar already stored) waits server-side as a
``PendingSignup``, so an address nobody proved they own never holds a user row, and never
blocks the real owner. Emailing a code and guessing one each spend a budget; expired
sign-ups are purged with their avatars, by the periodic job or ``bandstand cleanup``."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandstand.accounts import otp, passwords
from bandstand.accounts import repository as repo
from bandstand.accounts.avatars import delete_after_commit, store_avatar
from bandstand.accounts.otp import WrongCode
from bandstand.accounts.profiles import taken_conflict
from bandstand.accounts.schemas import RegisterForm
from bandstand.accounts.throttle import Client
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.db import after_commit, transaction
from bandstand.errors import BadRequest, TooManyRequests
from bandstand.kit.ids import new_id
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.time import utcnow
from bandstand.models import PendingSignup, User
from bandstand.observability.metrics import on_commit
from bandstand.storage import Storage
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)


async def _spend_code_email(
    limiter: RateLimiter, settings: Settings, email: str, client: Client
) -> None:
    """Spend one emailed code from every budget it counts against, before sending it.

    Per address and client, so a client cannot flood an inbox; per client, so one client
    cannot spray many addresses; per address in all, so a crowd cannot flood an inbox
    either. The last is soft: once a crowd has spent it, a client that has had no code for
    the address in a while still gets one, so strangers cannot block the owner's sign-up."""
    s = settings
    budgets = (
        (s.otp_send_per_address_client, f"pair:{email}:{client.address}"),
        (s.otp_send_per_client, f"client:{client.address}"),
    )
    for limit, key in budgets:
        verdict = await limiter.hit(limit, "otp-send", key)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after, "Too many codes requested. Try again later.")
    if (await limiter.hit(s.otp_send_per_address, "otp-send", f"addr:{email}")).allowed:
        return
    late = f"late:{email}:{client.address}"
    verdict = await limiter.hit(s.otp_send_per_address_new_client, "otp-send", late)
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after, "Too many codes requested. Try again later.")


def _email_code(
    session: AsyncSession, queue: Queue, ttl_s: int, signup: PendingSignup, code: str
) -> None:
    """Queue the code's email for once the sign-up is committed."""
    minutes = ttl_s // 60
    text = (
        f"Your Bandstand verification code is {code}\n\n"
        f"It is valid for {minutes} minutes. If you did not sign up, ignore this email.\n"
    )
    subject = "Your Bandstand verification code"
    queue.enqueue_after_commit(session, "mail.send", signup.email, subject, text)


def _set_code(signer: TokenSigner, ttl_s: int, signup: PendingSignup) -> str:
    code = otp.new_code()
    signup.otp_hash = otp.code_hash(signer.key("otp"), signup.id, code)
    signup.otp_expires_at = utcnow() + timedelta(seconds=ttl_s)
    signup.otp_attempts = 0
    return code


async def register(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    signer: TokenSigner,
    queue: Queue,
    storage: Storage,
    form: RegisterForm,
    avatar: bytes,
    client: Client,
) -> PendingSignup:
    """Hold a sign-up server-side and email it a code. Nothing becomes a user yet."""
    await purge_expired_signups(session, storage)
    # Spent before the look-up: the answer says whether an address has an account.
    lookup = await limiter.hit(settings.signup_lookups_per_client, "signup-lookup", client.address)
    if not lookup.allowed:
        raise TooManyRequests(lookup.retry_after, "Too many sign-up attempts. Try again later.")
    username_key = form.username.lower()
    taken = await repo.taken_fields(session, email=form.email, username_key=username_key)
    if taken:
        raise taken_conflict(taken)
    await _spend_code_email(limiter, settings, form.email, client)
    avatar_key = await store_avatar(session, storage, settings, avatar)
    now = utcnow()
    signup = PendingSignup(
        id=new_id(),
        email=form.email,
        username=form.username,
        username_key=username_key,
        fullname=form.fullname,
        password_hash=await passwords.hash_password(settings.password_hash_cost, form.password),
        avatar_key=avatar_key,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.signup_ttl_s),
    )
    code = _set_code(signer, settings.otp_ttl_s, signup)
    session.add(signup)
    await session.flush()
    _email_code(session, queue, settings.otp_ttl_s, signup, code)
    log.info("signup_started", signup_id=str(signup.id))
    return signup


async def resend_code(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    signer: TokenSigner,
    queue: Queue,
    signup_id: uuid.UUID,
    client: Client,
) -> PendingSignup:
    """A fresh code for a live sign-up; the old code dies and the tries start again."""
    signup = await repo.live_signup(session, signup_id, utcnow())
    if signup is None:
        raise BadRequest("Sign-up not found or expired. Register again.")
    await _spend_code_email(limiter, settings, signup.email, client)
    code = _set_code(signer, settings.otp_ttl_s, signup)
    await session.flush()
    _email_code(session, queue, settings.otp_ttl_s, signup, code)
    return signup


async def verify_code(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    signer: TokenSigner,
    storage: Storage,
    signup_id: uuid.UUID,
    code: str,
    client: Client,
    email: str | None = None,
) -> User:
    """Turn the sign-up into a user if ``code`` is the one emailed to it."""
    verdict = await limiter.hit(settings.otp_verify_per_client, "otp-verify", client.address)
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after, "Too many attempts. Try again later.")
    now = utcnow()
    signup = await repo.live_signup(session, signup_id, now)
    if signup is None or (email is not None and email != signup.email):
        raise BadRequest("Sign-up not found or expired. Register again.")
    if not await repo.spend_code_attempt(session, signup.id, settings.otp_max_attempts):
        raise BadRequest("Too many wrong codes. Request a new code.")
    if signup.otp_expires_at <= now:
        raise WrongCode("The code has expired. Request a new code.")
    if not otp.code_matches(signer.key("otp"), signup.id, code, signup.otp_hash):
        raise WrongCode("The code is not correct.")

    username_key = signup.username_key
    taken = await repo.taken_fields(session, email=signup.email, username_key=username_key)
    if taken:
        raise taken_conflict(taken)
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
            delete_after_commit(session, storage, other.avatar_key)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise taken_conflict({"email", "username"}) from exc
    log.info("user_registered", user_id=str(user.id))
    after_commit(session, on_commit("signup"))
    return user


async def purge_all_expired_signups(
    sessions: async_sessionmaker[AsyncSession], storage: Storage, batch: int = 500
) -> int:
    """Every expired sign-up, a batch per transaction (the periodic clean-up job)."""
    total = 0
    while True:
        async with transaction(sessions) as session:
            removed = await purge_expired_signups(session, storage, limit=batch)
        total += removed
        if removed < batch:
            return total


async def purge_expired_signups(session: AsyncSession, storage: Storage, limit: int = 100) -> int:
    """Drop sign-ups nobody verified in time, and their avatars once that commits."""
    expired = await repo.expired_signups(session, utcnow(), limit)
    await repo.delete_signups(session, [s.id for s in expired])
    for signup in expired:
        delete_after_commit(session, storage, signup.avatar_key)
    return len(expired)
