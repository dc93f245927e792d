"""Every page route, gathered: one router per area of the site."""

from __future__ import annotations

from fastapi import APIRouter

from bandstand.web import (
    account,
    auth,
    catalogue,
    library,
    moderation,
    people,
    releases,
    songs,
    studio,
)

web_router = APIRouter(include_in_schema=False)
for area in (catalogue, songs, people, library, studio, releases, auth, account, moderation):
    web_router.include_router(area.router)
