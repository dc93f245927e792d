"""Covers for what an import brings in: a picture in the files, one in their folder, or
one made from the title, so that every song and release has a cover.

Blocking (Pillow): a thread or a worker process.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

from bandstand.media.images import COVER_SIZES, InvalidImage, cover_sizes, picture_sizes

# Picture files a folder of music keeps its cover in, most telling first (as players
# look for them: Foobar2000, MusicBee, Kodi, Windows Media Player's folder.jpg).
FOLDER_IMAGE_NAMES = ("cover", "folder", "front", "album", "albumart", "albumartsmall")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
GENERATED_PX = max(COVER_SIZES)
_FONT_SHARE = 0.42  # of the side, for the initials
_MASK_PX = 64


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def folder_image(images: Iterable[Path]) -> Path | None:
    """Of the pictures in one folder, the one that is its cover, if any is named so."""
    by_stem: dict[str, Path] = {}
    for path in sorted(images):
        by_stem.setdefault(path.stem.lower(), path)
    for name in FOLDER_IMAGE_NAMES:
        if name in by_stem:
            return by_stem[name]
    return None


def encoded(data: bytes) -> dict[int, bytes] | None:
    """The picture as a cover is stored (a WebP per size), or None if it is not a picture
    we take."""
    try:
        return cover_sizes(data, COVER_SIZES)
    except InvalidImage:
        return None


def generated(title: str) -> dict[int, bytes]:
    """A cover made from ``title``: two colours and its initials. The same title always
    gives the same picture."""
    return picture_sizes(generated_image(title), COVER_SIZES)


def initials(title: str) -> str:
    """The first letter or digit of the title's first two words, upper case."""
    words = ["".join(ch for ch in word if ch.isalnum()) for word in title.split()]
    letters = [word[0] for word in words if word][:2]
    return "".join(letters).upper() or "#"


def generated_image(title: str) -> Image.Image:
    side = GENERATED_PX
    seed = hashlib.sha256(title.strip().casefold().encode()).digest()
    hue = seed[0] / 255
    top = _colour(hue, 0.55 + seed[1] / 255 * 0.25, 0.45 + seed[2] / 255 * 0.15)
    bottom = _colour((hue + 0.08 + seed[3] / 255 * 0.2) % 1, 0.6, 0.22 + seed[4] / 255 * 0.1)
    # A diagonal blend of the two colours, from one of the four corners: made small and
    # scaled up (a gradient loses nothing by it, and costs a hundredth).
    down = Image.linear_gradient("L").resize((_MASK_PX, _MASK_PX))
    across = down.transpose(Image.Transpose.ROTATE_90)
    mask = ImageChops.add(down, across, scale=2.0)
    if seed[5] % 2:
        mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mask = mask.resize((side, side), Image.Resampling.BILINEAR)
    image = Image.composite(
        Image.new("RGB", (side, side), bottom), Image.new("RGB", (side, side), top), mask
    )
    draw = ImageDraw.Draw(image)
    font = _font(int(side * _FONT_SHARE))
    text = initials(title)
    box = draw.textbbox((0, 0), text, font=font)
    x = (side - (box[2] - box[0])) / 2 - box[0]
    y = (side - (box[3] - box[1])) / 2 - box[1]
    draw.text((x + side * 0.01, y + side * 0.01), text, font=font, fill=(0, 0, 0))
    draw.text((x, y), text, font=font, fill=(255, 255, 255))
    return image


def _colour(hue: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own font, scalable where Pillow has FreeType: no font file to ship.
    return ImageFont.load_default(size)
