"""Tags as an import reads them, and the releases it makes of them (no app needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bandstand.imports import tags
from bandstand.imports.covers import folder_image, generated_image, initials
from bandstand.imports.plan import Member, group, kind_for
from bandstand.imports.scan import walk
from bandstand.imports.tags import Tags
from tests.audio import tone
from tests.imports.support import flac, jpeg, mp3

pytestmark = pytest.mark.backend_free


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3/12", (3, 12)),
        ("03", (3, None)),
        (" 7 of 9", (7, 9)),
        ("0", (None, None)),
        ("A", (None, None)),
    ],
)
def test_track_numbers(value: str, expected: tuple[int | None, int | None]) -> None:
    assert tags.number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-01", 2019),
        ("1999", 1999),
        ("1999/2000", 1999),
        ("May 2003", 2003),
        ("12", None),
        ("0200", None),
    ],
)
def test_years(value: str, expected: int | None) -> None:
    assert tags.year(value) == expected


def test_id3_and_vorbis_tags_are_read_with_their_pictures(tmp_path: Path) -> None:
    art = jpeg((9, 9, 9))
    found = tags.read(
        mp3(
            tmp_path / "a.mp3",
            title="Title",
            album="Album",
            album_artist="Band",
            track="4/10",
            disc="2/2",
            date="2020-01-02",
            genre="(13)",  # ID3v1's number for Pop
            kind="EP",
            picture=art,
        )
    )
    assert found == Tags(
        title="Title",
        artist="Jane Doe",
        album="Album",
        album_artist="Band",
        track=4,
        track_total=10,
        disc=2,
        year=2020,
        genre="Pop",
        kind="ep",
        picture=art,
    )
    vorbis = tags.read(
        flac(
            tmp_path / "b.flac",
            picture=art,
            title="T",
            tracknumber="2",
            tracktotal="5",
            date="1998",
        )
    )
    assert (vorbis.title, vorbis.track, vorbis.track_total, vorbis.year, vorbis.picture) == (
        "T",
        2,
        5,
        1998,
        art,
    )


def test_m4a_tags_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.m4a"
    path.write_bytes(
        tone(
            "m4a", 0.5, tags={"title": "Apple", "album": "Orchard", "track": "3/9", "date": "2011"}
        )
    )
    found = tags.read(path)
    assert (found.title, found.album, found.track, found.track_total, found.year) == (
        "Apple",
        "Orchard",
        3,
        9,
        2011,
    )


def test_unreadable_tags_read_as_none(tmp_path: Path) -> None:
    (tmp_path / "x.mp3").write_bytes(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f garbage")
    (tmp_path / "y.txt").write_text("hello")
    assert tags.read(tmp_path / "x.mp3") == Tags()
    assert tags.read(tmp_path / "y.txt") == Tags()


def test_kinds_follow_the_track_count() -> None:
    assert [kind_for(n) for n in (1, 2, 6, 7, 30)] == ["single", "ep", "ep", "album", "album"]


def test_files_group_by_album_artist_and_album_else_by_folder(tmp_path: Path) -> None:
    def member(path: str, **found: object) -> Member:
        return Member(tmp_path / path, Tags(**found))  # type: ignore[arg-type]

    members = [
        member("x/2.mp3", album="Same", album_artist="A", track=2),
        member("y/1.mp3", album="same", album_artist="a", track=1),  # case aside: one album
        member("p/CD2/1.mp3", album="Discs", disc=2, track=1),
        member("p/CD1/1.mp3", album="Discs", disc=1, track=1),
        member("q/1.mp3", album="Discs"),  # another folder, no album artist: another album
        member("z/single.mp3", title="Alone"),
    ]
    groups, singles = group(members)
    assert [[m.path.relative_to(tmp_path).as_posix() for m in g.members] for g in groups] == [
        ["y/1.mp3", "x/2.mp3"],
        ["p/CD1/1.mp3", "p/CD2/1.mp3"],
        ["q/1.mp3"],
    ]
    assert groups[0].title == "same"  # as its first track names it
    assert [m.path.name for m in singles] == ["single.mp3"]


def test_a_folder_is_walked_in_natural_order_without_hidden_files(tmp_path: Path) -> None:
    for name in ("10 ten.mp3", "2 two.mp3", ".hidden.mp3", "cover.JPG", "Front.png", ".git/x"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = walk(tmp_path)
    assert [p.name for p in found.files] == ["2 two.mp3", "10 ten.mp3"]
    assert folder_image(found.images[tmp_path]) == tmp_path / "cover.JPG"
    (tmp_path / "loop").symlink_to(tmp_path)  # a link back up is not followed
    assert len(walk(tmp_path).files) == 2


def test_a_made_cover_is_the_titles_own() -> None:
    assert initials("the quiet hours") == "TQ" and initials("  !!  ") == "#"
    assert initials("élan vital") == "ÉV"
    night = generated_image("Night Drive").tobytes()
    assert night == generated_image("night drive ").tobytes()
    assert night != generated_image("Day Drive").tobytes()
    assert generated_image("x").size == (640, 640)
