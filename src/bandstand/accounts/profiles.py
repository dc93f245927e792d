"""An account's own details and its public face: name, email, username, avatar, password.

What would hand the account to someone else — a new email, a new password — asks for the
current password, spending the login budget (``throttle``). Email and username stay unique
across users: ``taken_conflict`` is the one answer to a clash, here and at sign-up."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import email_changes, passwords
from bandstand.accounts import repository as repo
from bandstand.accounts.avatars import delete_after_commit, store_avatar
from bandstand.accounts.schemas import ChangePasswordIn, UpdateAccountIn
from bandstand.accounts.throttle import Client, check_password
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.errors import BadRequest, Conflict, NotFound
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.time import utcnow
from bandstand.models import User
from bandstand.storage import Storage
from bandstand.worker.queue import Queue


def taken_conflict(taken: set[str]) -> Conflict:
    """The 409 naming each of ``taken`` (``email``, ``username``) another account holds."""
    errors = [{"field": f, "message": f"This {f} is already taken."} for f in sorted(taken)]
    return Conflict("Email or username already taken.", errors=errors)


async def change_password(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    user: User,
    session_id: uuid.UUID,
    data: ChangePasswordIn,
    client: Client,
) -> None:
    """Set a new password and end every other login of this user."""
    if not await check_password(limiter, settings, user, data.oldPassword, client):
        raise BadRequest(
            "The old password is not correct.",
            errors=[{"field": "oldPassword", "message": "Incorrect password."}],
        )
    user.password_hash = await passwords.hash_password(
        settings.password_hash_cost, data.newPassword
    )
    await repo.revoke_sessions(session, utcnow(), user_id=user.id, keep=session_id)
    await session.flush()


async def update_account(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    signer: TokenSigner,
    queue: Queue,
    user: User,
    data: UpdateAccountIn,
    client: Client,
) -> str | None:
    """Change fullname or username at once; a new email needs the current password and
    waits for the code sent to it (``email_changes``). Returns the address waiting, if any."""
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
        if not await check_password(limiter, settings, user, data.currentPassword, client):
            raise BadRequest(
                "The current password is not correct.",
                errors=[{"field": "currentPassword", "message": "Incorrect password."}],
            )
    taken = await repo.taken_fields(session, email=new_email, username_key=new_key, exclude=user.id)
    if taken:
        raise taken_conflict(taken)
    if data.fullname is not None:
        user.fullname = data.fullname
    if data.username is not None:
        user.username = data.username
        user.username_key = data.username.lower()
    if data.fullname is not None or data.username is not None:
        user.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise taken_conflict({"username"}) from exc
    if new_email is not None:
        await email_changes.request_change(
            session, settings, limiter, signer, queue, user, new_email
        )
    return new_email


async def update_avatar(
    session: AsyncSession, storage: Storage, settings: Settings, user: User, data: bytes
) -> User:
    """Replace the avatar; the old file is deleted once the change commits."""
    key = await store_avatar(session, storage, settings, data)
    old = user.avatar_key
    user.avatar_key = key
    user.updated_at = utcnow()
    await session.flush()
    if old:
        delete_after_commit(session, storage, old)
    return user


async def public_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """A user anyone may look at: a banned account answers as if it did not exist."""
    user = await repo.user_by_id(session, user_id)
    if user is None or user.banned_at is not None:
        raise NotFound("User not found.")
    return user
