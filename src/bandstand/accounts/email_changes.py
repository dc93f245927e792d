"""A new email takes effect only once the code sent to it comes back.

Changing the address straight away would let whoever holds a login (and the password)
move the account to an address the owner cannot read, and hold the new address against
its owner. So the new address waits as an ``EmailChange`` (one per user, its code stored
as a keyed hash, with an expiry and an allowance of tries), the code goes to the new
address, the old address is told, and ``confirm`` makes the change — if the address is
still free then."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import otp
from bandstand.accounts import repository as repo
from bandstand.accounts.otp import WrongCode
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.errors import BadRequest, Conflict, TooManyRequests
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.time import utcnow
from bandstand.models import EmailChange, User
from bandstand.worker.queue import Queue

log = structlog.get_logger(__name__)
_KEY = "email-change"


def _taken() -> Conflict:
    error = {"field": "email", "message": "This email is already taken."}
    return Conflict("Email or username already taken.", errors=[error])


def _hash(signer: TokenSigner, user: User, new_email: str, code: str) -> str:
    # The new address is hashed in: a code confirms the address it was sent to, no other.
    return otp.code_hash(signer.key(_KEY), user.id, f"{code}:{new_email}")


async def _spend_send(limiter: RateLimiter, settings: Settings, user: User, new_email: str) -> None:
    """Per user, so an account cannot mail codes without end; per address, so many
    accounts cannot flood one inbox."""
    budgets = (
        (settings.email_change_per_user, f"user:{user.id}"),
        (settings.email_change_per_address, f"addr:{new_email}"),
    )
    for limit, key in budgets:
        verdict = await limiter.hit(limit, "email-change", key)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after, "Too many email changes. Try again later.")


async def request_change(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    signer: TokenSigner,
    queue: Queue,
    user: User,
    new_email: str,
) -> None:
    """Hold ``new_email`` for ``user`` and send it a code; tell the current address.

    A second request replaces the first (its code dies). The caller has checked the
    password and that the address is free."""
    await _spend_send(limiter, settings, user, new_email)
    code = otp.new_code()
    now = utcnow()
    change = await repo.email_change(session, user.id)
    if change is None:
        change = EmailChange(user_id=user.id)
        session.add(change)
    change.new_email = new_email
    change.code_hash = _hash(signer, user, new_email, code)
    change.attempts = 0
    change.created_at = now
    change.expires_at = now + timedelta(seconds=settings.email_change_ttl_s)
    await session.flush()
    minutes = settings.email_change_ttl_s // 60
    to_new = (
        f"Your Bandstand confirmation code is {code}\n\n"
        f"Enter it to make this the email address of the Bandstand account "
        f"{user.username}. It is valid for {minutes} minutes. If you did not ask for this, "
        f"ignore this email: nothing changes without the code.\n"
    )
    to_old = (
        f"Someone asked to change the email address of your Bandstand account "
        f"{user.username} to {new_email}.\n\n"
        f"It changes only once the code sent to the new address is entered. If this was "
        f"not you, log in and change your password now.\n"
    )
    queue.enqueue_after_commit(session, "mail.send", new_email, "Confirm your new email", to_new)
    queue.enqueue_after_commit(session, "mail.send", user.email, "Your email is changing", to_old)
    log.info("email_change_requested", user_id=str(user.id))


async def confirm(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    signer: TokenSigner,
    user: User,
    code: str,
) -> User:
    """Make the waiting address the user's, if ``code`` is the one sent to it."""
    verdict = await limiter.hit(settings.email_confirm_per_user, "email-confirm", str(user.id))
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after, "Too many attempts. Try again later.")
    change = await repo.email_change(session, user.id)
    if change is None:
        raise BadRequest("No email change is waiting. Ask for one first.")
    if not await repo.spend_email_change_attempt(session, user.id, settings.otp_max_attempts):
        raise BadRequest("Too many wrong codes. Ask for the change again.")
    if change.expires_at <= utcnow():
        raise WrongCode("The code has expired. Ask for the change again.")
    if not otp.code_matches(
        signer.key(_KEY), user.id, f"{code}:{change.new_email}", change.code_hash
    ):
        raise WrongCode("The code is not correct.")
    new_email = change.new_email
    if await repo.taken_fields(session, email=new_email, username_key=None, exclude=user.id):
        raise _taken()
    await repo.delete_email_change(session, user.id)
    user.email = new_email
    user.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _taken() from exc
    log.info("email_changed", user_id=str(user.id))
    return user
