"""A user's logins (each device or browser they signed in on): the ones still alive, and
ending one of them from another, as "sign out of that device"."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import repository as repo
from bandstand.errors import NotFound
from bandstand.kit.time import utcnow
from bandstand.models import LoginSession, RefreshToken


@dataclass(frozen=True)
class Login:
    id: uuid.UUID
    created_at: datetime
    user_agent: str | None
    # The login the caller is using now.
    current: bool


async def live(session: AsyncSession, user_id: uuid.UUID, current: uuid.UUID) -> list[Login]:
    """The user's logins not ended and whose refresh token has not expired, newest first."""
    renewable = exists().where(
        RefreshToken.session_id == LoginSession.id,
        RefreshToken.rotated_at.is_(None),
        RefreshToken.expires_at > utcnow(),
    )
    stmt = (
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None), renewable)
        .order_by(LoginSession.created_at.desc())
    )
    rows: Sequence[LoginSession] = (await session.scalars(stmt)).all()
    return [Login(r.id, r.created_at, r.user_agent, r.id == current) for r in rows]


async def end(session: AsyncSession, user_id: uuid.UUID, login_id: uuid.UUID) -> None:
    """End one of the user's logins now (its tokens stop working at once); 404 if it is
    not theirs, as a missing one."""
    login = await session.get(LoginSession, login_id)
    if login is None or login.user_id != user_id:
        raise NotFound("Login not found.")
    await repo.revoke_sessions(session, utcnow(), session_id=login_id)
