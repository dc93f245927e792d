"""Releases a route may act on: one the caller may see, or one the caller owns.

A release the caller may not see (its owner banned, or every song of it hidden from them,
and not theirs) answers 404 whatever the route, before any 403: it cannot be told from a
missing one. One they may see but do not own answers 403 to a change, as songs do."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts.deps import MaybePrincipalDep, PrincipalDep
from bandstand.db import SessionDep
from bandstand.errors import Forbidden, NotFound
from bandstand.models import Release
from bandstand.releases import repository as repo


async def _seen_by(
    session: AsyncSession, release_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Release:
    release = await repo.visible(session, release_id, viewer_id)
    if release is None:
        raise NotFound("Release not found.")
    return release


def must_own(release: Release, viewer_id: uuid.UUID) -> Release:
    """The release, if it is ``viewer_id``'s; 403 if not (they may see it)."""
    if release.owner_id != viewer_id:
        raise Forbidden("Only the release's owner can do this.")
    return release


async def _visible(session: SessionDep, principal: PrincipalDep, releaseId: uuid.UUID) -> Release:
    return await _seen_by(session, releaseId, principal.user_id)


async def _seen(session: SessionDep, viewer: MaybePrincipalDep, releaseId: uuid.UUID) -> Release:
    return await _seen_by(session, releaseId, viewer.user_id if viewer else None)


async def _owned(
    release: Annotated[Release, Depends(_visible)], principal: PrincipalDep
) -> Release:
    return must_own(release, principal.user_id)


VisibleRelease = Annotated[Release, Depends(_visible)]
# For pages anyone may open (bandstand/web/).
SeenRelease = Annotated[Release, Depends(_seen)]
OwnedRelease = Annotated[Release, Depends(_owned)]
