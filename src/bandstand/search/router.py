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
from bandstand.playlists.views import cards_view
from bandstand.runtime import RuntimeDep
from bandstand.search import service
from bandstand.search.schemas import SearchResults
from bandstand.songs.views import song_view

router = APIRouter(prefix="/songs", tags=["search"])


@router.get(
    "/search",
    response_model=Envelope[SearchResults],
    summary="Search songs, people and public playlists (typo-tolerant)",
)
async def search(
    rt: RuntimeDep, session: SessionDep, _: PrincipalDep, paging: PagingDep, q: str | None = None
) -> JSONResponse:
    """Each kind is a page of its own, through at most its best 1,000 matches.
    ``totalExact`` is false when the search stopped before it saw every match (it reads
    only as far as the page needs): ``totalDocs`` is then a lower bound, at most 1,000."""
    found = await service.search(session, rt.counters, q, paging.page, paging.limit)

    def page(docs: list[dict[str, Any]], total: int, exact: bool) -> dict[str, Any]:
        shaped = page_of(docs, page=paging.page, limit=paging.limit, total=total)
        return {**shaped, "totalExact": exact}

    songs, users, playlists = found.songs, found.users, found.playlists
    data = {
        "songs": page([song_view(rt, s) for s in songs.items], songs.total, songs.exact),
        "users": page([public_view(rt, u) for u in users.items], users.total, users.exact),
        "playlists": page(
            cards_view(rt, playlists.listing), playlists.listing.total, playlists.exact
        ),
    }
    return envelope(data, "Search results fetched.")
