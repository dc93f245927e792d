"""What the catalogue importer calls (``create_release``, ``place_songs``): the same
rules as the API, in the caller's transaction."""

from __future__ import annotations

import uuid

import pytest

from bandstand.db import transaction
from bandstand.errors import AppError, BadRequest, Conflict, Forbidden, NotFound
from bandstand.releases.service import create_release, place_songs
from tests.conftest import Harness
from tests.releases.support import created, ids, read, songs, tracks
from tests.songs.support import artist


async def test_the_importer_makes_a_release_and_places_songs_after_the_last(
    harness: Harness,
) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    a, b, c = await songs(harness, jane, "A", "B", "C")
    (bobs,) = await songs(harness, bob, "Bob's")
    elsewhere = await created(jane, "Elsewhere")
    (on_it,) = await songs(harness, jane, "On it")
    rt = harness.app.state.runtime
    owner = uuid.UUID(jane.id)

    async with transaction(rt.sessionmaker) as session:
        release = await create_release(
            session, owner_id=owner, title=" Tagged ", kind="ep", year=1999, thumbnail_key=None
        )
        await place_songs(session, release, [uuid.UUID(b)])
        await place_songs(session, release, [uuid.UUID(c), uuid.UUID(a), uuid.UUID(b)])
        assert (release.title, release.kind, release.year) == ("Tagged", "ep", 1999)
    made = (await read(jane, str(release.id))).json()["data"]
    assert ids(made) == [b, c, a] and tracks(made) == [1, 2, 3]

    refusals: list[tuple[list[str], type[AppError]]] = [
        ([bobs], Forbidden),
        ([str(uuid.uuid4())], NotFound),
    ]
    async with transaction(rt.sessionmaker) as session:
        other = await create_release(
            session, owner_id=owner, title="Other", kind="album", year=None, thumbnail_key=None
        )
        await place_songs(session, other, [uuid.UUID(on_it)])
    refusals.append(([on_it], Conflict))
    for wanted, error in refusals:
        with pytest.raises(error):
            async with transaction(rt.sessionmaker) as session:
                await place_songs(session, release, [uuid.UUID(i) for i in wanted])
    assert ids((await read(jane, str(release.id))).json()["data"]) == [b, c, a]
    assert (await read(jane, elsewhere["_id"])).json()["data"]["songs"] == []


@pytest.mark.parametrize(
    ("title", "kind", "year", "field"),
    [
        ("", "album", None, "title"),
        ("a\x00b", "album", None, "title"),
        ("x" * 201, "album", None, "title"),
        ("Fine", "boxset", None, "kind"),
        ("Fine", "album", 0, "year"),
        ("Fine", "album", 12345, "year"),
    ],
)
async def test_the_importer_is_told_which_field_is_wrong(
    harness: Harness, title: str, kind: str, year: int | None, field: str
) -> None:
    jane = await artist(harness)
    rt = harness.app.state.runtime
    with pytest.raises(BadRequest) as refused:
        async with transaction(rt.sessionmaker) as session:
            await create_release(
                session,
                owner_id=uuid.UUID(jane.id),
                title=title,
                kind=kind,
                year=year,
                thumbnail_key=None,
            )
    assert [e["field"] for e in refused.value.errors] == [field]
    assert (await harness.sql("SELECT count(*) FROM releases"))[0][0] == 0
