"""The avatar a sign-up without a picture gets: initials on a colour of its own.

The API asks every sign-up for an avatar; the web form leaves it optional and makes this
one instead, which then goes through the same checks and re-encoding as any upload."""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io

from PIL import Image, ImageDraw, ImageFont

SIZE_PX = 256


def initials(fullname: str, username: str) -> str:
    """Two letters: of the first and last names, else the first two of the name or username."""
    words = [w for w in fullname.split() if w[:1].isalnum()]
    letters = words[0][0] + words[-1][0] if len(words) > 1 else (words or [username])[0][:2]
    return letters.upper() or "?"


def _colour(username: str) -> tuple[int, int, int]:
    # The same username always gets the same hue; dark enough for white letters.
    hue = hashlib.sha256(username.lower().encode()).digest()[0] / 255
    red, green, blue = colorsys.hls_to_rgb(hue, 0.38, 0.55)
    return round(red * 255), round(green * 255), round(blue * 255)


def _draw(fullname: str, username: str) -> bytes:
    image = Image.new("RGB", (SIZE_PX, SIZE_PX), _colour(username))
    font = ImageFont.load_default(size=SIZE_PX * 0.42)
    middle = SIZE_PX / 2
    ImageDraw.Draw(image).text(
        (middle, middle), initials(fullname, username), fill="white", font=font, anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def default_avatar(fullname: str, username: str) -> bytes:
    """A PNG of the initials (drawn in a thread: image work never blocks the loop)."""
    return await asyncio.to_thread(_draw, fullname, username)
