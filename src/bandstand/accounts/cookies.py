"""The cookies accounts set: HttpOnly, SameSite=Lax, Secure in production."""

from __future__ import annotations

from starlette.responses import Response

from bandstand.config import Settings

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"
SIGNUP_COOKIE = "emailForOTP"
DEVICE_COOKIE = "bandstandDevice"
AUTH_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE, SIGNUP_COOKIE)


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
