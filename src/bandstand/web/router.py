"""Every page route: one router per area of the site."""

from __future__ import annotations

from fastapi import FastAPI

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

AREAS = (catalogue, songs, people, library, studio, releases, auth, account, moderation)


def include_pages(app: FastAPI) -> None:
    """Include every area's router in ``app``, in this order. One by one, not through a
    router of routers: FastAPI builds each route of a router it includes without a prefix
    once more, to check its path, and an area's routes would be built twice."""
    for area in AREAS:
        app.include_router(area.router, include_in_schema=False)
