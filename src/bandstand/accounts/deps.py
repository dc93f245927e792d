"""Who is calling: the typed dependencies routes declare."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import Scope

from bandstand.accounts.cookies import ACCESS_COOKIE, DEVICE_COOKIE
from bandstand.accounts.principals import Account
from bandstand.accounts.throttle import Client
from bandstand.accounts.tokens import InvalidToken, TokenSigner
from bandstand.db import SessionDep
from bandstand.errors import Unauthorized
from bandstand.models import User
from bandstand.resources import PrincipalsDep, TokenSignerDep


@dataclass(frozen=True)
class Principal:
    """A verified caller: their live login and a read-only view of their account."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    account: Account


@dataclass(frozen=True)
class Auth:
    """A verified caller with their account loaded for change in the request's session."""

    user: User
    session_id: uuid.UUID


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.cookies.get(ACCESS_COOKIE)


def carries_access_token(scope: Scope) -> bool:
    """Whether the request carries a correctly signed, unexpired access token (no
    database look-up: a cheap first gate, not the authentication). Middleware runs before
    dependencies, so it reads the signer off the app's runtime itself."""
    request = Request(scope)
    token = bearer_or_cookie(request)
    if not token:
        return False
    signer: TokenSigner = request.app.state.runtime.signer
    try:
        signer.read(token, "access")
    except InvalidToken:
        return False
    return True


async def _principal(
    request: Request, signer: TokenSignerDep, principals: PrincipalsDep
) -> Principal:
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthorized("Authentication required.")
    try:
        claims = signer.read(token, "access")
        user_id = uuid.UUID(claims.sub)
        session_id = uuid.UUID(claims.sid or "")
    except (InvalidToken, ValueError) as exc:
        raise Unauthorized("Invalid or expired access token.") from exc
    account = await principals.account(user_id, session_id)
    if account is None:
        raise Unauthorized("Invalid or expired access token.")
    return Principal(user_id=user_id, session_id=session_id, account=account)


async def _principal_if_any(
    request: Request, signer: TokenSignerDep, principals: PrincipalsDep
) -> Principal | None:
    try:
        return await _principal(request, signer, principals)
    except Unauthorized:
        return None


PrincipalDep = Annotated[Principal, Depends(_principal)]
MaybePrincipalDep = Annotated[Principal | None, Depends(_principal_if_any)]


async def _auth(principal: PrincipalDep, session: SessionDep) -> Auth:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("Invalid or expired access token.")
    return Auth(user=user, session_id=principal.session_id)


async def _client(request: Request) -> Client:
    return Client(
        address=request.client.host if request.client else "unknown",
        user_agent=request.headers.get("user-agent"),
        device_token=request.cookies.get(DEVICE_COOKIE),
    )


AuthDep = Annotated[Auth, Depends(_auth)]
ClientDep = Annotated[Client, Depends(_client)]


async def _current_user(auth: AuthDep) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(_current_user)]
