"""HTTP for ``/api/v1/songs/search``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bandstand.accounts.deps import PrincipalDep
from bandstand.accounts.views import public_view
from bandstand.db import SessionDep
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.pagination import PagingDep, page_of
from bandstand.runtime import RuntimeDep
from bandstand.search import service
from bandstand.songs.views import song_view

router = APIRouter(prefix="/songs", tags=["search"])


@router.get(
    "/search",
    response_model=Envelope[dict[str, Any]],
    summary="Search songs, people and public playlists (typo-tolerant)",
)
async def search(
    rt: RuntimeDep, session: SessionDep, _: PrincipalDep, paging: PagingDep, q: str | None = None
) -> JSONResponse:
    found = await service.search(session, q, paging.page, paging.limit)

    def page(docs: list[dict[str, Any]], total: int) -> dict[str, Any]:
        return page_of(docs, page=paging.page, limit=paging.limit, total=total)

    data = {
        "songs": page([song_view(rt, s) for s in found.songs.items], found.songs.total),
        "users": page([public_view(rt, u) for u in found.users.items], found.users.total),
        "playlists": page([], found.playlists.total),
    }
    return envelope(data, "Search results fetched.")
