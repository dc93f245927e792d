"""What the web tests share over HTTP: a client as a browser is one (a CSRF cookie, the
login's access cookie) and its form posts, the CSRF token a page's form carries, a
two-factor code, and songs made and played through the API. (A browser tab is signed
in with ``conftest.sign_in``.)"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pyotp

from bandstand.accounts.cookies import ACCESS_COOKIE
from bandstand.web import csrf as page_csrf
from tests.audio import tone
from tests.conftest import Harness
from tests.songs.support import SONGS, Artist, uploaded

# The token ``browser``'s cookie holds, which ``post`` sends with every form.
TOKEN = "test-csrf-token-0123456789"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def browser(harness: Harness, who: Artist | None = None) -> httpx.AsyncClient:
    """A client as a browser is one: asking for pages, holding a CSRF cookie and, for
    ``who``, their access cookie."""
    client = harness.client()
    client.headers["accept"] = "text/html"
    client.cookies.set(page_csrf.COOKIE, TOKEN)
    if who is not None:
        client.cookies.set(ACCESS_COOKIE, (await harness.tokens(who.user))["accessToken"])
    return client


async def post(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """A form post from ``browser``'s client, with the form's CSRF token."""
    return await client.post(path, data={"csrf_token": TOKEN, **fields})


async def csrf(client: httpx.AsyncClient, page: str = "/signin") -> str:
    """Open ``page`` as a browser would and read the form's CSRF token."""
    found = _FORM_TOKEN.search((await client.get(page)).text)
    assert found, page
    return found.group(1)


def totp(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def song(
    harness: Harness, owner: Artist, title: str = "First light", seconds: float = 0.5
) -> dict[str, Any]:
    """A song of ``owner``'s, processed."""
    found = await uploaded(owner, tone("mp3", seconds), title=title)
    await harness.settle()
    return found


async def played(who: Artist, song_id: str) -> None:
    """``who`` played the song, and the play counted."""
    response = await who.client.post(f"{SONGS}/{song_id}", headers=who.auth)
    assert response.status_code == 200 and response.json()["data"]["viewCounted"], response.text
