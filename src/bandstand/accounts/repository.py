"""Every accounts query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import (
    EmailChange,
    LoginSession,
    PendingSignup,
    RecoveryCode,
    RefreshToken,
    User,
)


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def user_by_login(session: AsyncSession, identifier: str) -> User | None:
    column = User.email if "@" in identifier else User.username_key
    return (await session.execute(select(User).where(column == identifier))).scalar_one_or_none()


async def taken_fields(
    session: AsyncSession,
    *,
    email: str | None,
    username_key: str | None,
    exclude: uuid.UUID | None = None,
) -> set[str]:
    """Which of ``email`` / ``username`` already belong to another user."""
    conditions = []
    if email is not None:
        conditions.append(User.email == email)
    if username_key is not None:
        conditions.append(User.username_key == username_key)
    if not conditions:
        return set()
    stmt = select(User.email, User.username_key).where(or_(*conditions))
    if exclude is not None:
        stmt = stmt.where(User.id != exclude)
    taken: set[str] = set()
    for found_email, found_key in (await session.execute(stmt)).all():
        if email is not None and found_email == email:
            taken.add("email")
        if username_key is not None and found_key == username_key:
            taken.add("username")
    return taken


async def live_signup(
    session: AsyncSession, signup_id: uuid.UUID, now: datetime
) -> PendingSignup | None:
    stmt = select(PendingSignup).where(
        PendingSignup.id == signup_id, PendingSignup.expires_at > now
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def spend_code_attempt(session: AsyncSession, signup_id: uuid.UUID, limit: int) -> bool:
    """Take one guess from the sign-up's allowance; false when none is left.

    A conditional UPDATE, so parallel guesses cannot exceed the allowance."""
    stmt = (
        update(PendingSignup)
        .where(PendingSignup.id == signup_id, PendingSignup.otp_attempts < limit)
        .values(otp_attempts=PendingSignup.otp_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def signups_for_email(session: AsyncSession, email: str) -> Sequence[PendingSignup]:
    stmt = select(PendingSignup).where(PendingSignup.email == email)
    return (await session.execute(stmt)).scalars().all()


async def expired_signups(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[PendingSignup]:
    stmt = select(PendingSignup).where(PendingSignup.expires_at <= now).limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def delete_signups(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await session.execute(delete(PendingSignup).where(PendingSignup.id.in_(ids)))


async def refresh_token_by_hash(session: AsyncSession, digest: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == digest)
    return (await session.execute(stmt)).scalar_one_or_none()


async def login_session(session: AsyncSession, session_id: uuid.UUID) -> LoginSession | None:
    return await session.get(LoginSession, session_id)


async def mark_rotated(session: AsyncSession, token_id: uuid.UUID, now: datetime) -> bool:
    """Mark a refresh token used; false if another request used it first."""
    stmt = (
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def revoke_sessions(
    session: AsyncSession,
    now: datetime,
    *,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> None:
    stmt = update(LoginSession).where(LoginSession.revoked_at.is_(None)).values(revoked_at=now)
    if session_id is not None:
        stmt = stmt.where(LoginSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(LoginSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    await session.execute(stmt.execution_options(synchronize_session=False))


async def advance_totp_step(session: AsyncSession, user_id: uuid.UUID, step: int) -> bool:
    """Record that a code of time step ``step`` was used; false if one of that step or a
    later one already was. A conditional UPDATE, so two requests cannot both use one code."""
    stmt = (
        update(User)
        .where(
            User.id == user_id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def replace_recovery_codes(
    session: AsyncSession, user_id: uuid.UUID, digests: Sequence[str]
) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=d) for d in digests)


async def use_recovery_code(
    session: AsyncSession, user_id: uuid.UUID, digest: str, now: datetime
) -> bool:
    """Spend the unused recovery code ``digest``; false if there is none."""
    stmt = (
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def email_change(session: AsyncSession, user_id: uuid.UUID) -> EmailChange | None:
    return await session.get(EmailChange, user_id)


async def spend_email_change_attempt(session: AsyncSession, user_id: uuid.UUID, limit: int) -> bool:
    """Take one guess from the pending change's allowance; false when none is left."""
    stmt = (
        update(EmailChange)
        .where(EmailChange.user_id == user_id, EmailChange.attempts < limit)
        .values(attempts=EmailChange.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def delete_email_change(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(EmailChange).where(EmailChange.user_id == user_id))
