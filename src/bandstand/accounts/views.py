"""How accounts appear in answers: to their owner, and to everyone else."""

from __future__ import annotations

from typing import Any

from bandstand.accounts.logins import Login
from bandstand.accounts.principals import Account
from bandstand.accounts.schemas import (
    AccountUpdated,
    ContentOut,
    CurrentUserOut,
    LoginRead,
    ProfileOut,
    SignupStarted,
    UserPrivate,
)
from bandstand.media.links import Links
from bandstand.models import PendingSignup, User
from bandstand.songs.quota import Usage
from bandstand.songs.quota_view import QuotaRead


def _private_fields(links: Links, user: User | Account) -> dict[str, Any]:
    two_factor = user.two_factor if isinstance(user, Account) else user.totp_enabled_at is not None
    return {
        "id": user.id,
        "username": user.username,
        "fullname": user.fullname,
        "avatar": links.avatar(user.avatar_key),
        "email": user.email,
        "role": user.role,
        "twoFactor": two_factor,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
    }


def private_user(links: Links, user: User | Account) -> UserPrivate:
    return UserPrivate(**_private_fields(links, user))


def private_view(links: Links, user: User | Account) -> dict[str, Any]:
    """``private_user`` as JSON (the test suite's factories answer with it)."""
    return private_user(links, user).model_dump(mode="json", by_alias=True)


def current_user_view(links: Links, account: Account, usage: Usage) -> dict[str, Any]:
    """``CurrentUserOut`` as JSON, for ``/current-user``, which writes its answer by hand
    (the busiest authenticated read, bench/RESULTS.md)."""
    out = CurrentUserOut(**_private_fields(links, account), quota=QuotaRead.of(usage))
    return out.model_dump(mode="json", by_alias=True)


def account_updated(links: Links, user: User, pending_email: str | None) -> AccountUpdated:
    return AccountUpdated(**_private_fields(links, user), pendingEmail=pending_email)


def profile_view(links: Links, user: User, shelves: ContentOut) -> ProfileOut:
    """The public summary, when the user joined, and their newest songs and playlists."""
    return ProfileOut(
        id=user.id,
        username=user.username,
        fullname=user.fullname,
        avatar=links.avatar(user.avatar_key),
        createdAt=user.created_at,
        songs=shelves.songs,
        playlists=shelves.playlists,
    )


def public_view(links: Links, user: User) -> dict[str, Any]:
    """``UserPublic`` as JSON, built by hand: lists show one per row (the search answer,
    written by hand)."""
    return {
        "_id": str(user.id),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": links.avatar(user.avatar_key),
    }


def signup_view(signup: PendingSignup, expires_in: int) -> SignupStarted:
    return SignupStarted(registrationId=signup.id, email=signup.email, expiresIn=expires_in)


def login_view(login: Login) -> LoginRead:
    return LoginRead(
        id=login.id, createdAt=login.created_at, userAgent=login.user_agent, current=login.current
    )
