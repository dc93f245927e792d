"""The cookies accounts set: HttpOnly, SameSite=Lax, Secure in production. The JSON
routes and the web app's pages set them alike."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from bandstand.accounts.tokens import InvalidToken, TokenSigner
from bandstand.config import Settings
from bandstand.errors import BadRequest

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"
SIGNUP_COOKIE = "emailForOTP"
DEVICE_COOKIE = "bandstandDevice"
AUTH_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE, SIGNUP_COOKIE)
# The refresh token goes only where it is spent (refresh-token) and ended (logout).
REFRESH_PATH = "/api/v1/users"


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
    )


def clear_cookie(response: Response, settings: Settings, name: str, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite="lax", secure=settings.is_production
    )


def set_session_cookies(response: Response, settings: Settings, access: str, refresh: str) -> None:
    """A login's tokens: the access token for every route, the refresh token for its own."""
    s = settings
    set_cookie(response, s, ACCESS_COOKIE, access, s.access_token_ttl_s)
    set_cookie(response, s, REFRESH_COOKIE, refresh, s.refresh_token_ttl_s, REFRESH_PATH)


def set_signup_cookie(
    response: Response, settings: Settings, signer: TokenSigner, signup_id: uuid.UUID
) -> None:
    """Which sign-up the browser's code is for, signed, for as long as a sign-up lasts."""
    handle = signer.issue("signup", str(signup_id), settings.signup_ttl_s)
    set_cookie(response, settings, SIGNUP_COOKIE, handle, settings.signup_ttl_s)


def signup_of(signer: TokenSigner, request: Request, given: uuid.UUID | None) -> uuid.UUID:
    """The sign-up a code is for: ``given`` (the body's ``registrationId``), or the
    signed cookie."""
    if given is not None:
        return given
    cookie = request.cookies.get(SIGNUP_COOKIE)
    if cookie:
        try:
            return uuid.UUID(signer.read(cookie, "signup").sub)
        except (InvalidToken, ValueError) as exc:
            raise BadRequest("The sign-up cookie is not valid. Register again.") from exc
    raise BadRequest(
        "Which sign-up? Send registrationId, or keep the emailForOTP cookie.",
        errors=[{"field": "registrationId", "message": "This field is required."}],
    )
