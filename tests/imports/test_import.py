"""A folder brought in as songs and releases: grouped and ordered by their tags, each with a
cover, checked as uploads are, idempotent (run twice, or stopped and run again), and every
file that is left out told why."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bandstand.imports import service
from bandstand.imports.covers import encoded, generated
from bandstand.models import Release, Song, SongStatus
from bandstand.songs.service import cover_folder
from tests.audio import tone
from tests.conftest import Harness
from tests.imports.support import album, flac, jpeg, mp3, run_import
from tests.songs.support import artist, audit, upload


class Stopped(Exception):
    pass


async def _releases(harness: Harness) -> dict[str, tuple[Release, list[Song]]]:
    """Each release by title, with its songs in track order."""
    rt = harness.app.state.runtime
    async with rt.sessionmaker() as session:
        releases = (await session.execute(select(Release))).scalars().all()
        found = {}
        for release in releases:
            stmt = select(Song).where(Song.release_id == release.id).order_by(Song.track)
            found[release.title] = (release, list((await session.execute(stmt)).scalars()))
        return found


async def _songs(harness: Harness) -> list[Song]:
    rt = harness.app.state.runtime
    async with rt.sessionmaker() as session:
        return list((await session.execute(select(Song).order_by(Song.title))).scalars())


async def _cover(harness: Harness, key: str) -> dict[int, bytes]:
    storage = harness.app.state.runtime.storage
    folder = cover_folder(key)
    return {int(Path(k).stem): await storage.get(k) for k in await storage.keys(folder)}


async def test_tags_make_releases_in_track_order_each_with_a_cover(
    harness: Harness, tmp_path: Path
) -> None:
    jane = await artist(harness)
    art = jpeg((200, 20, 20))
    # An album with its picture in every file, an EP with a cover.jpg beside it, a
    # two-disc album in CD1/CD2 with no album artist, a single with no album.
    album(
        tmp_path / "Night Drive",
        "Night Drive",
        7,
        album_artist="Jane",
        date="2019-05-01",
        picture=art,
    )
    album(tmp_path / "Seeds", "Seeds", 2, date="2021")
    (tmp_path / "Seeds" / "cover.jpg").write_bytes(jpeg((20, 20, 200)))
    for disc in (1, 2):
        for n in (2, 1):
            mp3(
                tmp_path / "Double" / f"CD{disc}" / f"{n}.mp3",
                title=f"Double {disc}.{n}",
                artist=f"Guest {n}",
                album="Double",
                track=str(n),
                disc=str(disc),
                frequency=600 + 10 * n + disc,
            )
    mp3(tmp_path / "loose" / "odd_one_out.mp3", title=None, genre="Ambient")
    # Discs in folders of their own, the cover beside them.
    boxed_art = jpeg((90, 0, 90))
    for disc in (1, 2):
        mp3(
            tmp_path / "Boxed" / f"Disc {disc}" / "1.mp3",
            album="Boxed",
            disc=str(disc),
            frequency=900 + disc,
        )
    (tmp_path / "Boxed" / "folder.png").write_bytes(boxed_art)

    summary = await run_import(harness, jane.id, tmp_path)
    assert len(summary.imported) == 16 and summary.skipped == [] and summary.already_there == []
    assert summary.releases_created == 4

    releases = await _releases(harness)
    assert set(releases) == {"Night Drive", "Seeds", "Double", "Boxed"}
    boxed, _ = releases["Boxed"]
    assert await _cover(harness, boxed.thumbnail_key or "") == encoded(boxed_art)
    night, songs = releases["Night Drive"]
    assert (night.kind, night.year) == ("album", 2019)
    assert [s.title for s in songs] == [f"Night Drive {n}" for n in range(1, 8)]
    assert [s.track for s in songs] == list(range(1, 8))
    seeds, songs = releases["Seeds"]
    assert (seeds.kind, seeds.year, [s.title for s in songs]) == (
        "ep",
        2021,
        ["Seeds 1", "Seeds 2"],
    )
    double, songs = releases["Double"]
    assert double.kind == "ep"  # four tracks, whatever their track artists
    assert [s.title for s in songs] == ["Double 1.1", "Double 1.2", "Double 2.1", "Double 2.2"]

    # Covers: the embedded picture, the folder's, and one made from the title; every
    # song has one of its own (a song's delete removes its own cover's folder).
    night_cover = await _cover(harness, night.thumbnail_key or "")
    seeds_cover = await _cover(harness, seeds.thumbnail_key or "")
    made = await _cover(harness, double.thumbnail_key or "")
    assert made == generated("Double")  # the same title always makes the same picture
    assert len({night_cover[640], seeds_cover[640], made[640]}) == 3
    everything = await _songs(harness)
    assert len({s.thumbnail_key for s in everything}) == 16
    for song in everything:
        cover = await _cover(harness, song.thumbnail_key)
        assert set(cover) == {64, 300, 640}
        if song.release_id == night.id:
            assert cover == night_cover
    (single,) = [s for s in everything if s.release_id is None]
    assert (single.title, single.genre, single.artist) == ("odd one out", "Ambient", "Jane Doe")
    assert await _cover(harness, single.thumbnail_key) == generated("odd one out")

    # Playable at once, as uploaded; processed after, as uploads are.
    assert {s.status for s in everything} == {SongStatus.PROCESSING}
    await harness.settle()
    assert {s.status for s in await _songs(harness)} == {SongStatus.READY}
    assert await audit(harness) == []


async def test_a_tag_names_the_kind_and_flac_tags_are_read(
    harness: Harness, tmp_path: Path
) -> None:
    jane = await artist(harness)
    mp3(tmp_path / "a.mp3", title="Lead", album="Big Single", track="1", kind="single")
    mp3(
        tmp_path / "b.mp3",
        title="B-side",
        album="Big Single",
        track="2",
        kind="single",
        frequency=500,
    )
    flac(
        tmp_path / "f" / "x.flac",
        picture=jpeg((1, 2, 3)),
        title="Vorbis",
        album="Lossless",
        albumartist="Jane",
        tracknumber="1",
        date="2001-02-03",
        genre="Jazz",
    )
    summary = await run_import(harness, jane.id, tmp_path)
    assert len(summary.imported) == 3
    releases = await _releases(harness)
    assert releases["Big Single"][0].kind == "single"
    lossless, (vorbis,) = releases["Lossless"]
    assert (lossless.kind, lossless.year, vorbis.genre) == ("single", 2001, "Jazz")


async def test_an_import_run_twice_brings_nothing_in_twice(
    harness: Harness, tmp_path: Path
) -> None:
    jane = await artist(harness)
    album(tmp_path / "A", "Again", 3)
    # The same bytes twice in one folder: one song.
    (tmp_path / "copy.mp3").write_bytes((tmp_path / "A" / "01.mp3").read_bytes())
    first = await run_import(harness, jane.id, tmp_path)
    assert len(first.imported) == 3
    assert [note for _, note in first.already_there] == [
        f"The same file as {tmp_path / 'A' / '01.mp3'}."
    ]
    second = await run_import(harness, jane.id, tmp_path)
    assert second.imported == [] and second.releases_created == 0
    assert len(second.already_there) == 4
    assert len(await _songs(harness)) == 3 and len(await _releases(harness)) == 1
    # Another owner's songs are not theirs: the same files come in for them.
    bob = await artist(harness, "bobby")
    assert len((await run_import(harness, bob.id, tmp_path)).imported) == 3


async def test_an_import_stopped_midway_resumes_onto_its_releases(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = await artist(harness)
    album(tmp_path / "Long", "Long Player", 9)
    monkeypatch.setattr(service, "BATCH", 4)
    monkeypatch.setattr(service, "FIRST_CHUNK", 4)
    monkeypatch.setattr(service, "CHUNK", 4)
    real = service._import_batch
    batches = 0

    async def killed_in_the_second_batch(*args: Any) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Stopped  # as Ctrl-C stops the command (a kill: see test_cli.py)
        await real(*args)

    monkeypatch.setattr(service, "_import_batch", killed_in_the_second_batch)
    with pytest.raises(Stopped):
        await run_import(harness, jane.id, tmp_path)
    (release, songs) = (await _releases(harness))["Long Player"]
    assert [s.track for s in songs] == [1, 2, 3, 4]
    # The batch that was stopped left no file behind (its transaction rolled back).
    await harness.settle()
    assert await audit(harness) == []

    monkeypatch.setattr(service, "_import_batch", real)
    summary = await run_import(harness, jane.id, tmp_path)
    assert len(summary.imported) == 5 and len(summary.already_there) == 4
    assert (summary.releases_created, summary.releases_added_to) == (0, 1)
    releases = await _releases(harness)
    assert list(releases) == ["Long Player"]
    again, songs = releases["Long Player"]
    assert again.id == release.id and again.kind == "album"
    assert [s.title for s in songs] == [f"Long Player {n}" for n in range(1, 10)]


async def test_files_that_cannot_be_songs_are_skipped_with_why(
    make_harness: Any, tmp_path: Path
) -> None:
    harness = await make_harness(audio_max_duration_s=2)
    jane = await artist(harness)
    mp3(tmp_path / "good.mp3", title="Good")
    (tmp_path / "notes.txt").write_text("not a song")
    (tmp_path / "corrupt.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(2000))
    (tmp_path / "long.wav").write_bytes(tone("wav", 3.0))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: not even looked at
    summary = await run_import(harness, jane.id, tmp_path)
    assert summary.imported == [tmp_path / "good.mp3"]
    reasons = {path.name: why for path, why in summary.skipped}
    assert reasons == {
        "notes.txt": "The file is not MP3, WAV, FLAC, Ogg (Vorbis/Opus) or AAC/M4A audio.",
        "corrupt.mp3": "FFmpeg could not decode the file.",
        "long.wav": "The audio is longer than a song may be.",
    }


async def test_the_quota_counts_an_import_as_uploads(make_harness: Any, tmp_path: Path) -> None:
    harness = await make_harness(uploads_per_day=3)
    jane = await artist(harness)
    album(tmp_path, "Too Many", 5)
    summary = await run_import(harness, jane.id, tmp_path)
    assert len(summary.imported) == 3
    assert [why[:38] for _, why in summary.skipped] == [
        "You have uploaded 3 songs today, as ma"
    ] * 2
    (row,) = await harness.sql("SELECT uploads_today FROM users WHERE username = 'janedoe'")
    assert row[0] == 3
    assert len((await _releases(harness))["Too Many"][1]) == 3


async def test_an_http_upload_records_its_content_hash(harness: Harness, tmp_path: Path) -> None:
    jane = await artist(harness)
    audio = tone("mp3", 0.5, frequency=523.0)
    response = await upload(jane, audio)
    assert response.status_code == 201, response.text
    (song,) = await _songs(harness)
    assert song.content_hash == hashlib.sha256(audio).hexdigest()
    # So an import of the same file knows it is there.
    (tmp_path / "same.mp3").write_bytes(audio)
    summary = await run_import(harness, jane.id, tmp_path)
    assert summary.imported == [] and [p.name for p, _ in summary.already_there] == ["same.mp3"]
