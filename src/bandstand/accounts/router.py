"""HTTP for ``/api/v1/users``: parse, call one service function, answer in the envelope."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.accounts import (
    app_passwords,
    email_changes,
    logins,
    profiles,
    sessions,
    signups,
    twofactor,
)
from bandstand.accounts.cookies import (
    ACCESS_COOKIE,
    DEVICE_COOKIE,
    REFRESH_COOKIE,
    REFRESH_PATH,
    SIGNUP_COOKIE,
    clear_cookie,
    set_cookie,
    set_session_cookies,
    set_signup_cookie,
    signup_of,
)
from bandstand.accounts.deps import (
    AuthDep,
    ClientDep,
    CurrentUser,
    MaybePrincipalDep,
    PrincipalDep,
)
from bandstand.accounts.schemas import (
    AccountUpdated,
    AppPasswordCreated,
    AppPasswordIn,
    AppPasswordRead,
    ChangePasswordIn,
    ContentOut,
    CurrentUserOut,
    EmailConfirmIn,
    LoginIn,
    LoginOut,
    LoginRead,
    ProfileOut,
    RecoveryCodesOut,
    RefreshIn,
    RegisterForm,
    ResendOtpIn,
    SignupStarted,
    TokensOut,
    TwoFactorDisableIn,
    TwoFactorEnableIn,
    TwoFactorSetupIn,
    TwoFactorSetupOut,
    UpdateAccountIn,
    UserPrivate,
    VerifyOtpIn,
)
from bandstand.accounts.views import (
    account_updated,
    current_user_view,
    login_view,
    private_user,
    profile_view,
    signup_view,
)
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.engagement import service as engagement
from bandstand.engagement.counters import Counters
from bandstand.engagement.schemas import HistoryPage
from bandstand.engagement.views import history_view
from bandstand.kit.envelope import Envelope, answer, envelope
from bandstand.kit.http import JSON_BODY, MULTIPART_BODY
from bandstand.kit.pagination import Paging, PagingDep
from bandstand.media.links import Links
from bandstand.models import AppPassword
from bandstand.playlists import service as playlists_service
from bandstand.playlists.views import cards_view as playlist_cards_view
from bandstand.resources import (
    CountersDep,
    LimiterDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
    TokenSignerDep,
)
from bandstand.songs import quota
from bandstand.songs import service as songs_service
from bandstand.songs.views import song_view

router = APIRouter(prefix="/users")
# Tags are per route: /watchHistory is here with the rest of /users, and the API docs list
# it with the other engagement routes.
USERS: list[str | Enum] = ["users"]
ENGAGEMENT: list[str | Enum] = ["engagement"]
# A profile shows this many of the user's newest songs and playlists; /content pages on.
PROFILE_SHELF = 10


@router.post(
    "/register",
    response_model=Envelope[SignupStarted],
    dependencies=[MULTIPART_BODY],
    tags=USERS,
    summary="Start a sign-up; emails a 6-digit code",
)
async def register(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    storage: StorageDep,
    client: ClientDep,
    form: Annotated[RegisterForm, Form()],
    avatar: Annotated[UploadFile, File()],
) -> Envelope[SignupStarted]:
    signup = await signups.register(
        session, settings, limiter, signer, queue, storage, form, await avatar.read(), client
    )
    set_signup_cookie(response, settings, signer, signup.id)
    return answer(signup_view(signup, settings.otp_ttl_s), "OTP sent to your email.")


@router.post(
    "/resend-otp",
    response_model=Envelope[SignupStarted],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Email a fresh code for a pending sign-up",
)
async def resend_otp(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    client: ClientDep,
    body: Annotated[ResendOtpIn | None, Body()] = None,
) -> Envelope[SignupStarted]:
    signup_id = signup_of(signer, request, body.registrationId if body else None)
    signup = await signups.resend_code(session, settings, limiter, signer, queue, signup_id, client)
    return answer(signup_view(signup, settings.otp_ttl_s), "A new OTP was sent to your email.")


@router.post(
    "/verify-otp",
    response_model=Envelope[UserPrivate],
    status_code=201,
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Finish a sign-up with the emailed code",
)
async def verify_otp(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    storage: StorageDep,
    links: LinksDep,
    client: ClientDep,
    body: VerifyOtpIn,
) -> Envelope[UserPrivate]:
    signup_id = signup_of(signer, request, body.registrationId)
    user = await signups.verify_code(
        session, settings, limiter, signer, storage, signup_id, body.otp, client, body.email
    )
    clear_cookie(response, settings, SIGNUP_COOKIE)
    return answer(private_user(links, user), "User registered successfully.", 201)


@router.post(
    "/login",
    response_model=Envelope[LoginOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Log in with email or username",
)
async def login(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    client: ClientDep,
    body: LoginIn,
) -> Envelope[LoginOut]:
    user, tokens = await sessions.login(session, signer, limiter, settings, body, client)
    set_session_cookies(response, settings, tokens.access, tokens.refresh)
    device = sessions.device_token(signer, user)
    set_cookie(response, settings, DEVICE_COOKIE, device, 365 * 86400)
    data = LoginOut(
        user=private_user(links, user), accessToken=tokens.access, refreshToken=tokens.refresh
    )
    return answer(data, "User logged in successfully.")


@router.post(
    "/refresh-token",
    response_model=Envelope[TokensOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Rotate the refresh token (cookie or body)",
)
async def refresh_token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    signer: TokenSignerDep,
    client: ClientDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> Envelope[TokensOut]:
    token = (body.refreshToken if body else None) or request.cookies.get(REFRESH_COOKIE)
    tokens = await sessions.refresh(session, signer, settings, token, client)
    set_session_cookies(response, settings, tokens.access, tokens.refresh)
    data = TokensOut(accessToken=tokens.access, refreshToken=tokens.refresh)
    return answer(data, "Access token refreshed.")


@router.post(
    "/logout",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="End this login (by access token, or by refresh token once that has expired)",
)
async def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    signer: TokenSignerDep,
    principal: MaybePrincipalDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> Envelope[None]:
    if principal is not None:
        await sessions.logout(session, principal.session_id)
    else:
        token = (body.refreshToken if body else None) or request.cookies.get(REFRESH_COOKIE)
        await sessions.logout_by_refresh(session, signer, token)
    clear_cookie(response, settings, ACCESS_COOKIE)
    clear_cookie(response, settings, REFRESH_COOKIE, REFRESH_PATH)
    return answer(None, "User logged out.")


@router.get(
    "/current-user",
    response_model=Envelope[CurrentUserOut],
    tags=USERS,
    summary="Who am I, and what I may still upload",
)
async def current_user(
    settings: SettingsDep, links: LinksDep, principal: PrincipalDep
) -> JSONResponse:
    # Written by hand: the busiest authenticated read (bench/RESULTS.md); a test checks the
    # answer against CurrentUserOut. No query of its own: the login check read the
    # account, quota included.
    account = principal.account
    usage = quota.of_row(settings, account.storage_used, account.uploads_day, account.uploads_today)
    return envelope(current_user_view(links, account, usage), "Current user fetched.")


@router.get(
    "/sessions",
    response_model=Envelope[list[LoginRead]],
    tags=USERS,
    summary="My logins still alive (each device or browser), newest first",
)
async def my_logins(session: SessionDep, principal: PrincipalDep) -> Envelope[list[LoginRead]]:
    found = await logins.live(session, principal.user_id, principal.session_id)
    return answer([login_view(login) for login in found], "Logins fetched.")


@router.delete(
    "/sessions/{sessionId}",
    response_model=Envelope[None],
    tags=USERS,
    summary="End one of my logins (sign that device out)",
)
async def end_login(
    session: SessionDep, principal: PrincipalDep, sessionId: uuid.UUID
) -> Envelope[None]:
    await logins.end(session, principal.user_id, sessionId)
    return answer(None, "Login ended.")


def _app_password_read(found: AppPassword) -> AppPasswordRead:
    return AppPasswordRead(
        id=found.id, name=found.name, createdAt=found.created_at, lastUsedAt=found.last_used_at
    )


@router.post(
    "/app-passwords",
    response_model=Envelope[AppPasswordCreated],
    status_code=201,
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Make a password for a music app (the /rest API); the secret is shown once",
)
async def create_app_password(
    session: SessionDep,
    settings: SettingsDep,
    signer: TokenSignerDep,
    principal: PrincipalDep,
    body: AppPasswordIn,
) -> Envelope[AppPasswordCreated]:
    made = await app_passwords.create(session, signer, principal.user_id, body.name)
    data = AppPasswordCreated(
        **_app_password_read(made.app_password).model_dump(),
        secret=made.secret,
        username=principal.account.username,
        server=settings.public_url.rstrip("/"),
    )
    return answer(
        data,
        "App password made. Type it into your music app now: it is not shown again.",
        201,
    )


@router.get(
    "/app-passwords",
    response_model=Envelope[list[AppPasswordRead]],
    tags=USERS,
    summary="My app passwords, newest first, with when each was last used",
)
async def my_app_passwords(
    session: ReadSessionDep, principal: PrincipalDep
) -> Envelope[list[AppPasswordRead]]:
    found = await app_passwords.listed(session, principal.user_id)
    return answer([_app_password_read(one) for one in found], "App passwords fetched.")


@router.delete(
    "/app-passwords/{appPasswordId}",
    response_model=Envelope[None],
    tags=USERS,
    summary="Revoke one of my app passwords (the app using it is refused from then on)",
)
async def revoke_app_password(
    session: SessionDep, principal: PrincipalDep, appPasswordId: uuid.UUID
) -> Envelope[None]:
    await app_passwords.revoke(session, principal.user_id, appPasswordId)
    return answer(None, "App password revoked.")


@router.post(
    "/change-password",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Change password; ends every other login",
)
async def change_password(
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    auth: AuthDep,
    client: ClientDep,
    body: ChangePasswordIn,
) -> Envelope[None]:
    await profiles.change_password(
        session, limiter, settings, auth.user, auth.session_id, body, client
    )
    return answer(None, "Password changed successfully.")


@router.patch(
    "/update-account",
    response_model=Envelope[AccountUpdated],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Change fullname or username; a new email waits for the code sent to it",
)
async def update_account(
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    links: LinksDep,
    user: CurrentUser,
    client: ClientDep,
    body: UpdateAccountIn,
) -> Envelope[AccountUpdated]:
    pending = await profiles.update_account(
        session, limiter, settings, signer, queue, user, body, client
    )
    message = "Account details updated."
    if pending is not None:
        message += (
            f" Your email changes to {pending} once you enter the code sent there"
            " (POST /api/v1/users/email/confirm)."
        )
    return answer(account_updated(links, user, pending), message)


@router.post(
    "/email/confirm",
    response_model=Envelope[UserPrivate],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Finish an email change with the code sent to the new address",
)
async def confirm_email(
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    user: CurrentUser,
    body: EmailConfirmIn,
) -> Envelope[UserPrivate]:
    user = await email_changes.confirm(session, settings, limiter, signer, user, body.code)
    return answer(private_user(links, user), "Email changed.")


@router.post(
    "/2fa/setup",
    response_model=Envelope[TwoFactorSetupOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Start two-factor login: a secret for an authenticator app",
)
async def two_factor_setup(
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    user: CurrentUser,
    client: ClientDep,
    body: TwoFactorSetupIn,
) -> Envelope[TwoFactorSetupOut]:
    made = await twofactor.setup(signer, limiter, settings, user, body.password, client)
    data = TwoFactorSetupOut(secret=made.secret, uri=made.uri)
    return answer(data, "Add this secret to your authenticator app, then enable with a code.")


@router.post(
    "/2fa/enable",
    response_model=Envelope[RecoveryCodesOut],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Turn two-factor login on; answers the recovery codes, once",
)
async def two_factor_enable(
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    user: CurrentUser,
    body: TwoFactorEnableIn,
) -> Envelope[RecoveryCodesOut]:
    codes = await twofactor.enable(session, signer, limiter, settings, user, body.code)
    return answer(
        RecoveryCodesOut(recoveryCodes=codes),
        "Two-factor login is on. Keep these recovery codes safe: they are shown only once.",
    )


@router.post(
    "/2fa/disable",
    response_model=Envelope[None],
    dependencies=[JSON_BODY],
    tags=USERS,
    summary="Turn two-factor login off (password and a code)",
)
async def two_factor_disable(
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    user: CurrentUser,
    client: ClientDep,
    body: TwoFactorDisableIn,
) -> Envelope[None]:
    await twofactor.disable(
        session, signer, limiter, settings, user, body.password, body.code, client
    )
    return answer(None, "Two-factor login is off.")


@router.patch(
    "/update-avatar",
    response_model=Envelope[UserPrivate],
    dependencies=[MULTIPART_BODY],
    tags=USERS,
    summary="Replace the avatar",
)
async def update_avatar(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    links: LinksDep,
    user: CurrentUser,
    avatar: Annotated[UploadFile, File()],
) -> Envelope[UserPrivate]:
    user = await profiles.update_avatar(session, storage, settings, user, await avatar.read())
    return answer(private_user(links, user), "Avatar updated.")


async def _shelves(
    session: AsyncSession,
    counters: Counters,
    links: Links,
    user_id: uuid.UUID,
    viewer_id: uuid.UUID,
    paging: Paging,
) -> ContentOut:
    """A page of the user's songs and of their playlists, newest first: the public ones,
    and their private ones too when they look at their own."""
    songs = await songs_service.newest_page(
        session,
        counters,
        page=paging.page,
        limit=paging.limit,
        cursor=None,
        owner_id=user_id,
        viewer_id=viewer_id,
    )
    playlists = await playlists_service.newest_page(
        session, viewer_id=viewer_id, owner_id=user_id, page=paging.page, limit=paging.limit
    )
    return ContentOut(
        songs=[song_view(links, card) for card in songs.songs],
        playlists=playlist_cards_view(links, playlists),
    )


@router.get(
    "/get/{userId}",
    response_model=Envelope[ProfileOut],
    tags=USERS,
    summary="A user's public profile",
)
async def profile(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    me: CurrentUser,
    userId: uuid.UUID,
) -> Envelope[ProfileOut]:
    """With the user's newest songs and playlists (``/content`` pages through them)."""
    user = await profiles.public_user(session, userId)
    shelf = Paging(page=1, limit=PROFILE_SHELF)
    shelves = await _shelves(session, counters, links, user.id, me.id, shelf)
    return answer(profile_view(links, user, shelves), "User profile fetched.")


@router.get(
    "/{userId}/content",
    response_model=Envelope[ContentOut],
    tags=USERS,
    summary="A user's songs and public playlists",
)
async def content(
    session: SessionDep,
    counters: CountersDep,
    links: LinksDep,
    me: CurrentUser,
    userId: uuid.UUID,
    paging: PagingDep,
) -> Envelope[ContentOut]:
    """``page`` and ``limit`` page through both lists at once, each newest first; the
    caller's own private playlists are listed only to the caller."""
    user = await profiles.public_user(session, userId)
    shelves = await _shelves(session, counters, links, user.id, me.id, paging)
    return answer(shelves, "User content fetched.")


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
    session: ReadSessionDep,
    counters: CountersDep,
    settings: SettingsDep,
    links: LinksDep,
    principal: PrincipalDep,
    paging: PagingDep,
    cursor: str | None = None,
) -> JSONResponse:
    """Each song once, at its latest play, newest first: the last 30 days, at most 500.
    Written by hand, as every answer of songs is (``songs.views.song_view``)."""
    listing = await engagement.history(
        session,
        counters,
        settings,
        principal.user_id,
        page=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    data = history_view(links, listing, paging.page, paging.limit)
    return envelope(data, "Watch history fetched.")
