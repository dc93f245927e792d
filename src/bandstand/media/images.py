"""Images are judged by their bytes, never their names, and always re-encoded."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# 16 megapixels (4096 × 4096) decode to ~64 MB; larger pictures gain nothing at 640 px.
MAX_PIXELS = 16_777_216
# Song covers: a list thumbnail, a card, a full-width player (pixels a side).
COVER_SIZES = (64, 300, 640)
# Decoding is CPU- and memory-heavy: this many at once, the rest wait their turn.
_CONCURRENT = asyncio.Semaphore(2)


class InvalidImage(ValueError):
    """The bytes are not an image we accept."""


def reencode_square(data: bytes, size: int) -> bytes:
    """Decode ``data``, crop it square, scale to ``size`` and write a fresh WebP.

    Re-encoding drops every byte of the original that is not pixels: EXIF (GPS
    positions included), comments, and anything smuggled after the image data.
    Blocking: run it in a thread.
    """
    image = _load(data, size)
    return _webp(ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS))


def cover_sizes(data: bytes, sizes: Sequence[int] = COVER_SIZES) -> dict[int, bytes]:
    """A square WebP of the picture for each of ``sizes``, from one decode, re-encoded as
    ``reencode_square`` does. A picture smaller than a size is not enlarged: that size gets
    the picture at its own (shorter) side, so blur is never stored as detail; sizes that
    come out alike share the same bytes. Blocking: run it in a thread.
    """
    if not sizes:
        return {}
    return picture_sizes(_load(data, max(sizes)), sizes)


def picture_sizes(image: Image.Image, sizes: Sequence[int] = COVER_SIZES) -> dict[int, bytes]:
    """``cover_sizes`` of a picture already in memory, upright, in RGB or RGBA: one read
    from a file (``cover_sizes``) or drawn here (a generated cover, which need not go
    through a file format to be read back)."""
    side = min(image.size)
    encoded: dict[int, bytes] = {}
    for pixels in sorted({min(size, side) for size in sizes}, reverse=True):
        square = ImageOps.fit(image, (pixels, pixels), method=Image.Resampling.LANCZOS)
        encoded[pixels] = _webp(square)
    return {size: encoded[min(size, side)] for size in sizes}


def _load(data: bytes, size: int) -> Image.Image:
    """``data`` decoded and checked, upright, in RGB or RGBA, shrunk on the way in (where
    that is cheap) to no less than twice ``size``."""
    if not data:
        raise InvalidImage("The file is empty.")
    try:
        probe = Image.open(io.BytesIO(data))
        if probe.format not in ACCEPTED_FORMATS:
            raise InvalidImage("Only JPEG, PNG, WebP and GIF images are accepted.")
        width, height = probe.size
        if width * height > MAX_PIXELS:
            raise InvalidImage("The image has too many pixels.")
        probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        # JPEG can decode straight at a fraction of its size; others shrink right after.
        image.draft("RGB", (size * 2, size * 2))
        image.load()
        factor = min(image.size) // (size * 2)
        if factor > 1:
            image = image.reduce(factor)
    except InvalidImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise InvalidImage("The file is not a valid image.") from exc
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
    return upright.convert("RGBA" if has_alpha else "RGB")


def _webp(square: Image.Image) -> bytes:
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


async def square_webp(data: bytes, size: int) -> bytes:
    """``reencode_square`` in a worker thread, a bounded number at a time."""
    async with _CONCURRENT:
        return await asyncio.to_thread(reencode_square, data, size)


async def square_webps(data: bytes, sizes: Sequence[int]) -> dict[int, bytes]:
    """``cover_sizes`` in a worker thread, a bounded number at a time."""
    async with _CONCURRENT:
        return await asyncio.to_thread(cover_sizes, data, sizes)
