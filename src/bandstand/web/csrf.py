"""The web forms' CSRF token: a random value kept in a cookie and written into each page
(a hidden field in forms, a header htmx and the app's script send), compared on every
unsafe request to a page route. A page of another site can make the browser send the
cookie but cannot read it, so it cannot send the value back."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from bandstand.accounts.cookies import set_cookie
from bandstand.config import Settings
from bandstand.errors import Forbidden

COOKIE = "bandstand_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"


def token_of(request: Request) -> str:
    """The browser's token, or a new one (``remember`` then sets it on the answer)."""
    found = request.cookies.get(COOKIE)
    if found and 20 <= len(found) <= 100:
        return found
    made: str = request.state.__dict__.setdefault("new_csrf_token", secrets.token_urlsafe(32))
    return made


def remember(request: Request, response: Response, settings: Settings) -> None:
    """Set the token's cookie if this request made one."""
    made = request.state.__dict__.get("new_csrf_token")
    if made is not None:
        set_cookie(response, settings, COOKIE, made, 365 * 86400)


async def _checked(request: Request) -> None:
    expected = request.cookies.get(COOKIE)
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("This form has expired. Reload the page and try again.")


# A page route that changes anything declares it: ``dependencies=[CSRF]``.
CSRF = Depends(_checked)
CsrfChecked = Annotated[None, CSRF]
