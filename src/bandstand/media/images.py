"""Images are judged by their bytes, never their names, and always re-encoded."""

from __future__ import annotations

import asyncio
import io

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# 16 megapixels (4096 × 4096) decode to ~64 MB; larger pictures gain nothing at 640 px.
MAX_PIXELS = 16_777_216
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
    square = ImageOps.fit(
        upright.convert("RGBA" if has_alpha else "RGB"),
        (size, size),
        method=Image.Resampling.LANCZOS,
    )
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


async def square_webp(data: bytes, size: int) -> bytes:
    """``reencode_square`` in a worker thread, a bounded number at a time."""
    async with _CONCURRENT:
        return await asyncio.to_thread(reencode_square, data, size)
