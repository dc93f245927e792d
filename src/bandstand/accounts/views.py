"""How accounts appear in answers: to their owner, and to everyone else."""

from __future__ import annotations

from typing import Any

from bandstand.accounts.principals import Account
from bandstand.accounts.schemas import ContentOut, ProfileOut, SignupStarted, UserPrivate
from bandstand.media.links import Links
from bandstand.models import PendingSignup, User


def private_user(links: Links, user: User | Account) -> UserPrivate:
    return UserPrivate(
        id=user.id,
        username=user.username,
        fullname=user.fullname,
        avatar=links.avatar(user.avatar_key),
        email=user.email,
        role=user.role,
        createdAt=user.created_at,
        updatedAt=user.updated_at,
    )


def private_view(links: Links, user: User | Account) -> dict[str, Any]:
    """``private_user`` as JSON, for ``/current-user``, which writes its answer by hand
    (the busiest authenticated read, bench/RESULTS.md)."""
    return private_user(links, user).model_dump(mode="json", by_alias=True)


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
