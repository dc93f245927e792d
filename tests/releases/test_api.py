"""Releases through the API: made with their songs in order, read by anyone, changed,
filled, emptied, reordered and deleted by their owner; each song's answer says which
release it is on."""

from __future__ import annotations

import uuid

from tests.conftest import Harness
from tests.images import png_bytes
from tests.releases.support import (
    RELEASE_FIELDS,
    RELEASES,
    SONGS,
    create,
    created,
    db_id,
    ids,
    one,
    order_of,
    read,
    song_json,
    songs,
    songs_of,
    tracks,
)
from tests.schema_check import assert_conforms
from tests.songs.support import artist, assert_error, error_fields, song_files


async def test_a_release_is_made_with_its_songs_in_order_and_read_by_anyone(
    harness: Harness,
) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    first, second, third = await songs(harness, jane, "One", "Two", "Three")
    response = await create(
        jane, title="  Night drive ", kind="EP", year=2024, songIds=[third, first, second]
    )
    assert response.status_code == 201, response.text
    assert_conforms(harness.app, "POST", RELEASES, response.json())
    release = response.json()["data"]
    assert set(release) == RELEASE_FIELDS
    assert (release["title"], release["kind"], release["year"]) == ("Night drive", "ep", 2024)
    assert release["owner"]["_id"] == jane.id and "email" not in release["owner"]
    assert ids(release) == [third, first, second] and tracks(release) == [1, 2, 3]
    assert release["songCount"] == 3 and release["duration"] == 3 * 61.5
    # No cover of its own: its first song's.
    assert release["thumbnail"] == release["songs"][0]["thumbnail"]

    seen = await read(bob, release["_id"])
    assert seen.status_code == 200
    assert_conforms(harness.app, "GET", f"{RELEASES}/{{releaseId}}", seen.json())
    assert ids(seen.json()["data"]) == [third, first, second]

    # Every song answer says where the song is: one song (read as an object) ...
    on = {"_id": release["_id"], "title": "Night drive", "kind": "ep", "year": 2024}
    assert (await song_json(bob, first))["release"] == {**on, "track": 2}
    # ... and lists (read as rows): the catalogue, and the artist's own songs.
    home = (await bob.client.get(f"{SONGS}/home", headers=bob.auth)).json()["data"]["docs"]
    assert {s["_id"]: s["release"]["track"] for s in home} == {third: 1, first: 2, second: 3}
    single = (await songs(harness, jane, "Alone"))[0]
    mine = await jane.client.get(f"{SONGS}/userSongs", headers=jane.auth)
    assert_conforms(harness.app, "GET", f"{SONGS}/userSongs", mine.json())
    assert {s["_id"]: s["release"] for s in mine.json()["data"]["docs"]}[single] is None


async def test_a_cover_comes_with_a_multipart_create_and_is_replaced(harness: Harness) -> None:
    jane = await artist(harness)
    first, second = await songs(harness, jane, "One", "Two")
    response = await jane.client.post(
        RELEASES,
        data={"title": "Covered", "kind": "single", "year": "", "songIds": f"{first},{second}"},
        files={"thumbnail": ("cover.png", png_bytes(), "image/png")},
        headers=jane.auth,
    )
    assert response.status_code == 201, response.text
    release = response.json()["data"]
    assert release["year"] is None and ids(release) == [first, second]
    assert set(release["thumbnails"]) == {"64", "300", "640"}
    assert release["thumbnail"] == release["thumbnails"]["640"]
    assert (await jane.client.get(release["thumbnail"])).status_code == 200

    replaced = await jane.client.patch(
        f"{one(release['_id'])}/thumbnail",
        files={"thumbnail": ("new.png", png_bytes((90, 90), (0, 90, 0)), "image/png")},
        headers=jane.auth,
    )
    assert replaced.status_code == 200, replaced.text
    assert_conforms(harness.app, "PATCH", f"{RELEASES}/{{releaseId}}/thumbnail", replaced.json())
    now = replaced.json()["data"]["thumbnail"]
    assert now != release["thumbnail"]
    # The old cover's files go once the change is committed; the new one's stay.
    names = {p.parent.name for p in await song_files(harness)}
    assert now.split("/")[-2] in names and release["thumbnail"].split("/")[-2] not in names

    not_an_image = await jane.client.patch(
        f"{one(release['_id'])}/thumbnail",
        files={"thumbnail": ("x.png", b"not an image", "image/png")},
        headers=jane.auth,
    )
    assert_error(not_an_image, 415)
    as_json = await jane.client.patch(
        f"{one(release['_id'])}/thumbnail", json={"thumbnail": "x"}, headers=jane.auth
    )
    assert_error(as_json, 415)


async def test_releases_are_listed_newest_first_by_page_and_cursor(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    (song,) = await songs(harness, jane, "One")
    (bobs,) = await songs(harness, bob, "Two")
    made = [await created(jane, f"Jane {n}", songIds=[song] if n == 0 else []) for n in range(3)]
    theirs = await created(bob, "Bob's", songIds=[bobs])

    everyone = await bob.client.get(RELEASES, headers=bob.auth)
    assert_conforms(harness.app, "GET", RELEASES, everyone.json())
    # Jane's empty releases are hers alone to see.
    assert [r["_id"] for r in everyone.json()["data"]["docs"]] == [theirs["_id"], made[0]["_id"]]

    params = {"owner": jane.id, "limit": 2}
    page = (await jane.client.get(RELEASES, params=params, headers=jane.auth)).json()["data"]
    assert [r["_id"] for r in page["docs"]] == [made[2]["_id"], made[1]["_id"]]
    assert (page["totalDocs"], page["totalPages"], page["hasNextPage"]) == (3, 2, True)
    after = await jane.client.get(
        RELEASES, params={**params, "cursor": page["nextCursor"]}, headers=jane.auth
    )
    assert [r["_id"] for r in after.json()["data"]["docs"]] == [made[0]["_id"]]
    assert after.json()["data"]["hasNextPage"] is False
    second = await jane.client.get(RELEASES, params={**params, "page": 2}, headers=jane.auth)
    assert [r["_id"] for r in second.json()["data"]["docs"]] == [made[0]["_id"]]
    far = await jane.client.get(RELEASES, params={**params, "page": 99}, headers=jane.auth)
    assert far.json()["data"]["docs"] == []

    for bad in ({"owner": "nobody"}, {"cursor": "!!"}, {"page": 0}, {"limit": "x"}):
        assert_error(await jane.client.get(RELEASES, params=bad, headers=jane.auth), 400)
    assert_error(await harness.client().get(RELEASES), 401)


async def test_title_kind_and_year_change_and_nothing_else(harness: Harness) -> None:
    jane = await artist(harness)
    (song,) = await songs(harness, jane, "One")
    release = await created(jane, "Draft", year=2020, songIds=[song])
    path = one(release["_id"])

    changed = await jane.client.patch(
        path, json={"title": "Final", "kind": "single"}, headers=jane.auth
    )
    assert changed.status_code == 200, changed.text
    assert_conforms(harness.app, "PATCH", f"{RELEASES}/{{releaseId}}", changed.json())
    data = changed.json()["data"]
    assert (data["title"], data["kind"], data["year"]) == ("Final", "single", 2020)
    assert (await song_json(jane, song))["release"]["title"] == "Final"
    cleared = await jane.client.patch(path, json={"year": None}, headers=jane.auth)
    assert cleared.json()["data"]["year"] is None and cleared.json()["data"]["title"] == "Final"

    for body, field in (
        ({"owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"title": "x", "thumbnail_key": "covers/x"}, "thumbnail_key"),
        ({}, "body"),
        ({"title": None}, "body"),
        ({"title": " "}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"kind": "mixtape"}, "kind"),
        ({"year": 999}, "year"),
        ({"year": 10000}, "year"),
        ({"year": "soon"}, "year"),
        ({"year": True}, "year"),
        ({"year": 2024.5}, "year"),
    ):
        refused = await jane.client.patch(path, json=body, headers=jane.auth)
        assert_error(refused, 400)
        assert field in error_fields(refused), (body, refused.json())
    assert_error(await jane.client.patch(path, content=b"{", headers=jane.auth), 415)
    assert (await read(jane, release["_id"])).json()["data"]["title"] == "Final"


async def test_songs_are_added_in_order_after_the_last_track(harness: Harness) -> None:
    jane, bob = await artist(harness), await artist(harness, "bobby")
    one_, two, three, four = await songs(harness, jane, "1", "2", "3", "4")
    release = await created(jane, "Growing", songIds=[one_])
    added = await jane.client.post(
        songs_of(release["_id"]), json={"songIds": [three, two, three, one_]}, headers=jane.auth
    )
    assert added.status_code == 200, added.text
    assert_conforms(harness.app, "POST", f"{RELEASES}/{{releaseId}}/songs", added.json())
    # Listed twice, added once; already on it, left where it is.
    assert ids(added.json()["data"]) == [one_, three, two] and tracks(added.json()["data"]) == [
        1,
        2,
        3,
    ]

    other = await created(jane, "Other", songIds=[four])
    taken = await jane.client.post(
        songs_of(release["_id"]), json={"songIds": [four]}, headers=jane.auth
    )
    body = assert_error(taken, 409)
    assert "one release at most" in body["message"]
    assert body["errors"] == [
        {"field": "songIds", "message": f"Song {four} is on another release."}
    ]
    (bobs,) = await songs(harness, bob, "Bob's")
    assert_error(
        await jane.client.post(
            songs_of(release["_id"]), json={"songIds": [bobs]}, headers=jane.auth
        ),
        403,
    )
    unknown = str(uuid.uuid4())
    assert_error(
        await jane.client.post(
            songs_of(release["_id"]), json={"songIds": [unknown]}, headers=jane.auth
        ),
        404,
    )
    # All or nothing: a refused request added none of its songs.
    mixed = await jane.client.post(
        songs_of(release["_id"]), json={"songIds": [bobs, four]}, headers=jane.auth
    )
    assert mixed.status_code in (403, 409)
    assert ids((await read(jane, release["_id"])).json()["data"]) == [one_, three, two]
    assert ids((await read(jane, other["_id"])).json()["data"]) == [four]

    for bad in ({}, {"songIds": []}, {"songIds": "x"}, {"songIds": [1]}, {"songId": one_}):
        assert_error(
            await jane.client.post(songs_of(release["_id"]), json=bad, headers=jane.auth), 400
        )
    made_taken = await create(jane, title="Greedy", kind="album", songIds=[four])
    assert_error(made_taken, 409)
    titles = await harness.sql("SELECT title FROM releases")
    assert sorted(t for (t,) in titles) == ["Growing", "Other"]


async def test_a_song_taken_off_is_a_single_and_the_tracks_close_up(harness: Harness) -> None:
    jane = await artist(harness)
    a, b, c = await songs(harness, jane, "A", "B", "C")
    release = await created(jane, "Trio", songIds=[a, b, c])
    removed = await jane.client.delete(f"{songs_of(release['_id'])}/{b}", headers=jane.auth)
    assert removed.status_code == 200, removed.text
    assert_conforms(
        harness.app, "DELETE", f"{RELEASES}/{{releaseId}}/songs/{{songId}}", removed.json()
    )
    assert ids(removed.json()["data"]) == [a, c] and tracks(removed.json()["data"]) == [1, 2]
    assert (await song_json(jane, b))["release"] is None
    rows = await harness.sql(
        "SELECT release_id, track FROM songs WHERE id = :id", id=db_id(harness, b)
    )
    assert list(rows[0]) == [None, None]

    again = await jane.client.delete(f"{songs_of(release['_id'])}/{b}", headers=jane.auth)
    assert_error(again, 404)
    malformed = await jane.client.delete(f"{songs_of(release['_id'])}/nope", headers=jane.auth)
    assert_error(malformed, 400)


async def test_the_track_order_is_set_whole(harness: Harness) -> None:
    jane = await artist(harness)
    a, b, c = await songs(harness, jane, "A", "B", "C")
    (d,) = await songs(harness, jane, "D")
    release = await created(jane, "Trio", songIds=[a, b, c])
    path = order_of(release["_id"])
    ordered = await jane.client.put(path, json={"songIds": [c, a, b]}, headers=jane.auth)
    assert ordered.status_code == 200, ordered.text
    assert_conforms(harness.app, "PUT", f"{RELEASES}/{{releaseId}}/order", ordered.json())
    assert ids(ordered.json()["data"]) == [c, a, b] and tracks(ordered.json()["data"]) == [1, 2, 3]
    assert (await song_json(jane, b))["release"]["track"] == 3

    for body in (
        {"songIds": [c, a]},
        {"songIds": [c, a, b, d]},
        {"songIds": [c, a, a, b]},
        {"songIds": [c, a, str(uuid.uuid4())]},
        {"songIds": None},
        {},
    ):
        refused = await jane.client.put(path, json=body, headers=jane.auth)
        assert_error(refused, 400)
    missing = await jane.client.put(path, json={"songIds": [c, a]}, headers=jane.auth)
    assert missing.json()["errors"] == [{"field": "songIds", "message": f"Song {b} is missing."}]
    assert ids((await read(jane, release["_id"])).json()["data"]) == [c, a, b]


async def test_a_deleted_release_leaves_its_songs_as_singles(harness: Harness) -> None:
    jane = await artist(harness)
    a, b = await songs(harness, jane, "A", "B")
    response = await jane.client.post(
        RELEASES,
        data={"title": "Gone soon", "kind": "album", "songIds": [a, b]},
        files={"thumbnail": ("cover.png", png_bytes(), "image/png")},
        headers=jane.auth,
    )
    release = response.json()["data"]
    deleted = await jane.client.delete(one(release["_id"]), headers=jane.auth)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["message"] == "Release deleted successfully."
    assert_error(await read(jane, release["_id"]), 404)
    assert_error(await jane.client.delete(one(release["_id"]), headers=jane.auth), 404)
    for song in (a, b):
        assert (await song_json(jane, song))["release"] is None
    rows = await harness.sql("SELECT release_id, track FROM songs")
    assert sorted(map(tuple, rows), key=str) == [(None, None), (None, None)]
    # Its cover's files went with it.
    cover = release["thumbnail"].split("/")[-2]
    assert cover not in {p.parent.name for p in await song_files(harness)}


async def test_the_foreign_key_makes_songs_singles_when_a_release_row_goes(
    harness: Harness,
) -> None:
    """The database itself, not only the service, keeps no song pointing at a release
    that is gone (SQLite with its foreign keys on, and PostgreSQL)."""
    jane = await artist(harness)
    a, b = await songs(harness, jane, "A", "B")
    release = await created(jane, "Raw", songIds=[a, b])
    await harness.sql("DELETE FROM releases WHERE id = :id", id=db_id(harness, release["_id"]))
    rows = await harness.sql("SELECT release_id FROM songs")
    assert [r[0] for r in rows] == [None, None]
    assert (await song_json(jane, a))["release"] is None


async def test_malformed_and_unknown_ids(harness: Harness) -> None:
    jane = await artist(harness)
    unknown = str(uuid.uuid4())
    for method, path, body in (
        ("GET", "{}", None),
        ("PATCH", "{}", {"title": "x"}),
        ("DELETE", "{}", None),
        ("POST", "{}/songs", {"songIds": [unknown]}),
        ("PUT", "{}/order", {"songIds": []}),
        ("DELETE", "{}/songs/" + unknown, None),
    ):
        for ident, status in (("not-an-id", 400), (unknown, 404)):
            url = f"{RELEASES}/" + path.format(ident)
            response = await jane.client.request(method, url, json=body, headers=jane.auth)
            assert_error(response, status)
