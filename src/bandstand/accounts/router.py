"""HTTP for ``/api/v1/users``: parse, call one service function, answer in the envelope."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import profiles, sessions, signups
from bandstand.accounts.cookies import (
    ACCESS_COOKIE,
    DEVICE_COOKIE,
    REFRESH_COOKIE,
    SIGNUP_COOKIE,
    clear_cookie,
    set_cookie,
)
from bandstand.accounts.deps import (
    AuthDep,
    ClientDep,
    CurrentUser,
    MaybePrincipalDep,
    PrincipalDep,
)
from bandstand.accounts.schemas import (
    ChangePasswordIn,
    ContentOut,
    LoginIn,
    LoginOut,
    ProfileOut,
    RefreshIn,
    RegisterForm,
    ResendOtpIn,
    SignupStarted,
    TokensOut,
    UpdateAccountIn,
    UserPrivate,
    VerifyOtpIn,
)
from bandstand.accounts.tokens import InvalidToken
from bandstand.accounts.views import private_view, profile_view
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement import service as engagement
from bandstand.engagement.schemas import HistoryPage
from bandstand.engagement.views import history_view
from bandstand.errors import BadRequest
from bandstand.kit.envelope import Envelope, envelope
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.pagination import Paging, PagingDep
from bandstand.playlists import service as playlists_service
from bandstand.playlists.views import cards_view as playlist_cards_view
from bandstand.runtime import Runtime, RuntimeDep
from bandstand.songs import service as songs_service
from bandstand.songs.views import song_view

router = APIRouter(prefix="/users")
# Tags are per route: /watchHistory is here with the rest of /users, and the API docs list
# it with the other engagement routes.
USERS: list[str | Enum] = ["users"]
ENGAGEMENT: list[str | Enum] = ["engagement"]
REFRESH_PATH = "/api/v1/users"
# A profile shows this many of the user's newest songs and playlists; /content pages on.
PROFILE_SHELF = 10


def _set_session_cookies(
    rt: Runtime, response: JSONResponse, tokens: sessions.IssuedTokens
) -> None:
    s = rt.settings
    set_cookie(response, s, ACCESS_COOKIE, tokens.access, s.access_token_ttl_s)
    set_cookie(response, s, REFRESH_COOKIE, tokens.refresh, s.refresh_token_ttl_s, REFRESH_PATH)


def _signup_handle(rt: Runtime, request: Request, given: uuid.UUID | None) -> uuid.UUID:
    """The sign-up a code is for: ``registrationId`` in the body, or the signed cookie."""
    if given is not None:
        return given
    cookie = request.cookies.get(SIGNUP_COOKIE)
    if cookie:
        try:
            return uuid.UUID(rt.signer.read(cookie, "signup").sub)
        except (InvalidToken, ValueError) as exc:
            raise BadRequest("The sign-up cookie is not valid. Register again.") from exc
    raise BadRequest(
        "Which sign-up? Send registrationId, or keep the emailForOTP cookie.",
        errors=[{"field": "registrationId", "message": "This field is required."}],
    )


@router.post(
    "/register",
    response_model=Envelope[SignupStarted],
    dependencies=[MULTIPART_BODY],
    tags=USERS,
    summary="Start a sign-up; emails a 6-digit code",
)
async def register(
    rt: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    form: Annotated[RegisterForm, Form()],
    avatar: Annotated[UploadFile, File()],
) -> JSONResponse:
    signup = await signups.register(rt, session, form, await avatar.read(), client)
    data = SignupStarted(
        registrationId=signup.id, email=signup.email, expiresIn=rt.settings.otp_ttl_s
    ).model_dump(mode="json")
    response = envelope(data, "OTP sent to your email.")
    handle = rt.signer.issue("signup", str(signup.id), rt.settings.signup_ttl_s)
    set_cookie(response, rt.settings, SIGNUP_COOKIE, handle, rt.settings.signup_ttl_s)
    return response


@router.post(
    "/resend-otp",
    response_model=Envelope[SignupStarted],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Email a fresh code for a pending sign-up",
)
async def resend_otp(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    body: Annotated[ResendOtpIn | None, Body()] = None,
) -> JSONResponse:
    signup_id = _signup_handle(rt, request, body.registrationId if body else None)
    signup = await signups.resend_code(rt, session, signup_id, client)
    data = SignupStarted(
        registrationId=signup.id, email=signup.email, expiresIn=rt.settings.otp_ttl_s
    ).model_dump(mode="json")
    return envelope(data, "A new OTP was sent to your email.")


@router.post(
    "/verify-otp",
    response_model=Envelope[UserPrivate],
    status_code=201,
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Finish a sign-up with the emailed code",
)
async def verify_otp(
    request: Request, rt: RuntimeDep, session: SessionDep, client: ClientDep, body: VerifyOtpIn
) -> JSONResponse:
    signup_id = _signup_handle(rt, request, body.registrationId)
    user = await signups.verify_code(rt, session, signup_id, body.otp, client, body.email)
    response = envelope(private_view(rt.links, user), "User registered successfully.", 201)
    clear_cookie(response, rt.settings, SIGNUP_COOKIE)
    return response


@router.post(
    "/login",
    response_model=Envelope[LoginOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Log in with email or username",
)
async def login(
    rt: RuntimeDep, session: SessionDep, client: ClientDep, body: LoginIn
) -> JSONResponse:
    user, tokens = await sessions.login(rt, session, body, client)
    data = {
        "user": private_view(rt.links, user),
        "accessToken": tokens.access,
        "refreshToken": tokens.refresh,
    }
    response = envelope(data, "User logged in successfully.")
    _set_session_cookies(rt, response, tokens)
    set_cookie(response, rt.settings, DEVICE_COOKIE, sessions.device_token(rt, user), 365 * 86400)
    return response


@router.post(
    "/refresh-token",
    response_model=Envelope[TokensOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Rotate the refresh token (cookie or body)",
)
async def refresh_token(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> JSONResponse:
    token = (body.refreshToken if body else None) or request.cookies.get(REFRESH_COOKIE)
    tokens = await sessions.refresh(rt, session, token, client)
    response = envelope(
        {"accessToken": tokens.access, "refreshToken": tokens.refresh}, "Access token refreshed."
    )
    _set_session_cookies(rt, response, tokens)
    return response


@router.post(
    "/logout",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="End this login (by access token, or by refresh token once that has expired)",
)
async def logout(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    principal: MaybePrincipalDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> JSONResponse:
    if principal is not None:
        await sessions.logout(session, principal.session_id)
    else:
        token = (body.refreshToken if body else None) or request.cookies.get(REFRESH_COOKIE)
        await sessions.logout_by_refresh(rt, session, token)
    response = envelope(None, "User logged out.")
    clear_cookie(response, rt.settings, ACCESS_COOKIE)
    clear_cookie(response, rt.settings, REFRESH_COOKIE, REFRESH_PATH)
    return response


@router.get("/current-user", response_model=Envelope[UserPrivate], tags=USERS, summary="Who am I")
async def current_user(rt: RuntimeDep, principal: PrincipalDep) -> JSONResponse:
    return envelope(private_view(rt.links, principal.account), "Current user fetched.")


@router.post(
    "/change-password",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Change password; ends every other login",
)
async def change_password(
    rt: RuntimeDep, session: SessionDep, auth: AuthDep, client: ClientDep, body: ChangePasswordIn
) -> JSONResponse:
    await profiles.change_password(rt, session, auth.user, auth.session_id, body, client)
    return envelope(None, "Password changed successfully.")


@router.patch(
    "/update-account",
    response_model=Envelope[UserPrivate],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Change fullname, email or username",
)
async def update_account(
    rt: RuntimeDep, session: SessionDep, user: CurrentUser, client: ClientDep, body: UpdateAccountIn
) -> JSONResponse:
    user = await profiles.update_account(rt, session, user, body, client)
    return envelope(private_view(rt.links, user), "Account details updated.")


@router.patch(
    "/update-avatar",
    response_model=Envelope[UserPrivate],
    dependencies=[MULTIPART_BODY],
    tags=USERS,
    summary="Replace the avatar",
)
async def update_avatar(
    rt: RuntimeDep, session: SessionDep, user: CurrentUser, avatar: Annotated[UploadFile, File()]
) -> JSONResponse:
    user = await profiles.update_avatar(rt, session, user, await avatar.read())
    return envelope(private_view(rt.links, user), "Avatar updated.")


async def _shelves(
    rt: Runtime, session: AsyncSession, user_id: uuid.UUID, viewer_id: uuid.UUID, paging: Paging
) -> dict[str, list[dict[str, object]]]:
    """A page of the user's songs and of their playlists, newest first: the public ones,
    and their private ones too when they look at their own."""
    songs = await songs_service.newest_page(
        session, rt.counters, page=paging.page, limit=paging.limit, cursor=None, owner_id=user_id
    )
    playlists = await playlists_service.newest_page(
        session, viewer_id=viewer_id, owner_id=user_id, page=paging.page, limit=paging.limit
    )
    return {
        "songs": [song_view(rt.links, card) for card in songs.songs],
        "playlists": playlist_cards_view(rt, playlists),
    }


@router.get(
    "/get/{userId}",
    response_model=Envelope[ProfileOut],
    tags=USERS,
    summary="A user's public profile",
)
async def profile(
    rt: RuntimeDep, session: SessionDep, me: CurrentUser, userId: uuid.UUID
) -> JSONResponse:
    """With the user's newest songs and playlists (``/content`` pages through them)."""
    user = await profiles.public_user(session, userId)
    data = {
        **profile_view(rt.links, user),
        **await _shelves(rt, session, user.id, me.id, Paging(page=1, limit=PROFILE_SHELF)),
    }
    return envelope(data, "User profile fetched.")


@router.get(
    "/{userId}/content",
    response_model=Envelope[ContentOut],
    tags=USERS,
    summary="A user's songs and public playlists",
)
async def content(
    rt: RuntimeDep, session: SessionDep, me: CurrentUser, userId: uuid.UUID, paging: PagingDep
) -> JSONResponse:
    """``page`` and ``limit`` page through both lists at once, each newest first; the
    caller's own private playlists are listed only to the caller."""
    user = await profiles.public_user(session, userId)
    return envelope(await _shelves(rt, session, user.id, me.id, paging), "User content fetched.")


@router.get(
    "/watchHistory",
    response_model=Envelope[HistoryPage],
    tags=ENGAGEMENT,
    summary="My listening history",
)
@router.post(
    "/watchHistory",
    response_model=Envelope[HistoryPage],
    tags=ENGAGEMENT,
    summary="My listening history",
)
async def watch_history(
    rt: RuntimeDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    """Each song once, at its latest play, newest first: the last 30 days, at most 500."""
    listing = await engagement.history(
        rt, session, principal.user_id, page=paging.page, limit=paging.limit, cursor=cursor
    )
    return envelope(history_view(rt, listing, paging.page, paging.limit), "Watch history fetched.")
