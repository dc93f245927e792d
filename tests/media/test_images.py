"""Cover art in several square sizes from one decode."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bandstand.media.images import COVER_SIZES, InvalidImage, cover_sizes
from tests.images import jpeg_with_exif, png_bytes

pytestmark = pytest.mark.backend_free


def _webp(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP"
    return image


def test_every_size_is_a_square_webp() -> None:
    covers = cover_sizes(png_bytes((1600, 1200)))

    assert list(covers) == list(COVER_SIZES)
    for size, data in covers.items():
        assert _webp(data).size == (size, size)


def test_a_small_picture_is_not_enlarged() -> None:
    covers = cover_sizes(png_bytes((400, 250)), sizes=(64, 300, 640))

    assert _webp(covers[64]).size == (64, 64)
    # Its shorter side is 250: the two larger sizes get that, and share the bytes.
    assert _webp(covers[300]).size == (250, 250)
    assert covers[640] is covers[300]


def test_the_crop_is_centred() -> None:
    picture = Image.new("RGB", (300, 100), (255, 0, 0))
    picture.paste((0, 0, 255), (100, 0, 200, 100))  # a blue square in the middle
    out = io.BytesIO()
    picture.save(out, format="PNG")

    cover = _webp(cover_sizes(out.getvalue(), sizes=(64,))[64]).convert("RGB")
    red, _, blue = cover.getpixel((32, 32))  # type: ignore[misc]
    assert blue > 200 and red < 50


def test_metadata_is_dropped() -> None:
    for data in cover_sizes(jpeg_with_exif((700, 700))).values():
        image = _webp(data)
        assert not image.getexif()
        assert "exif" not in image.info


@pytest.mark.parametrize("data", [b"", b"not an image", png_bytes()[:40]])
def test_what_is_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        cover_sizes(data)
