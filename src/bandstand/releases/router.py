"""HTTP for ``/api/v1/releases``: parse, call one service function, answer in the envelope.

Who may do what is the routes' dependencies' (``deps.py``): a release the caller may not
see is 404 on every route, even to change it; one they see but do not own is 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from bandstand.accounts.deps import PrincipalDep
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.envelope import Envelope, answer
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.openapi import json_or_form_body
from bandstand.kit.pagination import PagingDep
from bandstand.releases import service
from bandstand.releases.deps import OwnedRelease, VisibleRelease
from bandstand.releases.forms import COVER, CreateBody
from bandstand.releases.schemas import (
    ReleaseCreate,
    ReleasePage,
    ReleaseRead,
    ReleaseUpdate,
    SongsToAdd,
    TrackOrder,
)
from bandstand.releases.views import page_view, release_view
from bandstand.resources import (
    CatalogueDep,
    CountersDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
)

router = APIRouter(prefix="/releases", tags=["releases"])


@router.post(
    "",
    response_model=Envelope[ReleaseRead],
    status_code=201,
    summary="Create a release (JSON, or multipart with a thumbnail)",
    openapi_extra=json_or_form_body(ReleaseCreate, file=COVER, required=True),
)
async def create(
    session: SessionDep,
    storage: StorageDep,
    counters: CountersDep,
    catalogue: CatalogueDep,
    settings: SettingsDep,
    links: LinksDep,
    principal: PrincipalDep,
    body: CreateBody,
) -> Envelope[ReleaseRead]:
    detail = await service.create(
        session,
        storage,
        counters,
        catalogue,
        principal.user_id,
        body.data,
        body.cover,
        settings.image_max_bytes,
    )
    return answer(release_view(links, detail), "Release created successfully.", 201)


@router.get(
    "",
    response_model=Envelope[ReleasePage],
    summary="Releases, newest first: everyone's, or one artist's (owner=<userId>)",
)
async def listed(
    session: ReadSessionDep,
    links: LinksDep,
    principal: PrincipalDep,
    paging: PagingDep,
    owner: uuid.UUID | None = None,
    cursor: str | None = None,
) -> Envelope[ReleasePage]:
    listing = await service.newest_page(
        session,
        viewer_id=principal.user_id,
        owner_id=owner,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    return answer(page_view(links, listing, paging.page, paging.limit), "Releases fetched.")


@router.get(
    "/{releaseId}",
    response_model=Envelope[ReleaseRead],
    summary="One release with its songs in track order",
)
async def get_one(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    principal: PrincipalDep,
    release: VisibleRelease,
) -> Envelope[ReleaseRead]:
    detail = await service.detail(session, counters, release.id, viewer_id=principal.user_id)
    return answer(release_view(links, detail), "Release fetched.")


@router.patch(
    "/{releaseId}",
    response_model=Envelope[ReleaseRead],
    dependencies=[JSON_BODY],
    summary="Change a release's title, kind or year",
)
async def update(
    session: SessionDep,
    counters: CountersDep,
    catalogue: CatalogueDep,
    links: LinksDep,
    release: OwnedRelease,
    body: ReleaseUpdate,
) -> Envelope[ReleaseRead]:
    detail = await service.update(session, counters, catalogue, release, body)
    return answer(release_view(links, detail), "Release updated successfully.")


@router.patch(
    "/{releaseId}/thumbnail",
    response_model=Envelope[ReleaseRead],
    dependencies=[MULTIPART_BODY],
    summary="Replace a release's cover",
)
async def replace_thumbnail(
    session: SessionDep,
    storage: StorageDep,
    queue: QueueDep,
    counters: CountersDep,
    settings: SettingsDep,
    links: LinksDep,
    release: OwnedRelease,
    thumbnail: Annotated[UploadFile, File()],
) -> Envelope[ReleaseRead]:
    max_bytes = settings.image_max_bytes
    cover = await thumbnail.read(max_bytes + 1)
    detail = await service.replace_cover(
        session, storage, queue, counters, release, cover, max_bytes
    )
    return answer(release_view(links, detail), "Thumbnail updated successfully.")


@router.post(
    "/{releaseId}/songs",
    response_model=Envelope[ReleaseRead],
    dependencies=[JSON_BODY],
    summary="Append my songs to a release, in the order given",
)
async def add_songs(
    session: SessionDep,
    counters: CountersDep,
    catalogue: CatalogueDep,
    links: LinksDep,
    release: OwnedRelease,
    body: SongsToAdd,
) -> Envelope[ReleaseRead]:
    detail = await service.add_songs(session, counters, catalogue, release, body.song_ids)
    return answer(release_view(links, detail), "Songs added to release.")


@router.delete(
    "/{releaseId}/songs/{songId}",
    response_model=Envelope[ReleaseRead],
    summary="Take a song off a release (it becomes a single)",
)
async def remove_song(
    session: SessionDep,
    counters: CountersDep,
    catalogue: CatalogueDep,
    links: LinksDep,
    release: OwnedRelease,
    songId: uuid.UUID,
) -> Envelope[ReleaseRead]:
    detail = await service.remove_song(session, counters, catalogue, release, songId)
    return answer(release_view(links, detail), "Song removed from release.")


@router.put(
    "/{releaseId}/order",
    response_model=Envelope[ReleaseRead],
    dependencies=[JSON_BODY],
    summary="Set the track order: every song of the release, in its new order",
)
async def reorder(
    session: SessionDep,
    counters: CountersDep,
    catalogue: CatalogueDep,
    links: LinksDep,
    release: OwnedRelease,
    body: TrackOrder,
) -> Envelope[ReleaseRead]:
    detail = await service.reorder(session, counters, catalogue, release, body.songIds)
    return answer(release_view(links, detail), "Track order saved.")


@router.delete(
    "/{releaseId}",
    response_model=Envelope[None],
    summary="Delete a release (its songs stay, as singles)",
)
async def delete(
    session: SessionDep, queue: QueueDep, catalogue: CatalogueDep, release: OwnedRelease
) -> Envelope[None]:
    await service.remove(session, queue, catalogue, release)
    return answer(None, "Release deleted successfully.")
