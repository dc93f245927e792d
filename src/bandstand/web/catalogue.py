"""Pages anyone may open: the newest songs and search. (What the catalogue holds is the
same for everyone, as on the API: a song taken down, or a banned user's, is in none.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse

from bandstand.accounts.deps import MaybePrincipalDep
from bandstand.accounts.views import public_view
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.pagination import page_of
from bandstand.playlists.views import cards_view
from bandstand.resources import CatalogueDep, CountersDep, LinksDep, SettingsDep
from bandstand.search import service as search_service
from bandstand.songs import service as songs
from bandstand.songs.views import page_view, song_view
from bandstand.web.templating import ENV, render

router = APIRouter()
PER_PAGE = 24
PageNumber = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    settings: SettingsDep,
    session: ReadSessionDep,
    catalogue: CatalogueDep,
    counters: CountersDep,
    links: LinksDep,
    viewer: MaybePrincipalDep,
    page: PageNumber = 1,
) -> HTMLResponse:
    """The feed is the same for every listener: its list is rendered once and kept with
    the JSON feed's answers (``catalogue_cache_s``, dropped when the catalogue changes)."""

    async def feed() -> Markup:
        found = await songs.newest_page(session, counters, page=page, limit=PER_PAGE, cursor=None)
        shaped = page_view(links, found, page, PER_PAGE)
        # Rendered by the autoescaping environment: safe to insert as it is.
        return Markup(ENV.get_template("home_songs.html").render(songs=shaped))  # noqa: S704

    listed = await catalogue.fetch(("page", page), feed)
    return render(request, settings, "home.html", viewer, feed=listed)


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    viewer: MaybePrincipalDep,
    q: Annotated[str, Query(max_length=200)] = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    results: dict[str, Any] | None = None
    if q.strip():
        found = await search_service.search(session, counters, q, page, PER_PAGE)
        results = {
            "songs": page_of(
                [song_view(links, s) for s in found.songs.items],
                page=page,
                limit=PER_PAGE,
                total=found.songs.total,
            ),
            "users": [public_view(links, u) for u in found.users.items],
            "playlists": cards_view(links, found.playlists.listing),
        }
    return render(request, settings, "search.html", viewer, query=q, results=results)
