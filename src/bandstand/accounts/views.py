"""How accounts appear in answers: to their owner, and to everyone else."""

from __future__ import annotations

from typing import Any

from bandstand.accounts.principals import Account
from bandstand.accounts.schemas import UserPrivate
from bandstand.kit.time import timestamp
from bandstand.media.links import Links
from bandstand.models import User


def private_view(links: Links, user: User | Account) -> dict[str, Any]:
    return UserPrivate(
        id=user.id,
        username=user.username,
        fullname=user.fullname,
        avatar=links.avatar(user.avatar_key),
        email=user.email,
        role=user.role,
        createdAt=user.created_at,
        updatedAt=user.updated_at,
    ).model_dump(mode="json", by_alias=True)


def profile_view(links: Links, user: User) -> dict[str, Any]:
    """``ProfileOut`` but its shelves: the public summary and when the user joined."""
    return {**public_view(links, user), "createdAt": timestamp(user.created_at)}


def public_view(links: Links, user: User) -> dict[str, Any]:
    """``UserPublic`` as JSON, built by hand: lists show one per row."""
    return {
        "_id": str(user.id),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": links.avatar(user.avatar_key),
    }
