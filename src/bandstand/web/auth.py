"""Signing up, in and out in a browser, and what other pages use to ask for a login.

Each form calls the service the JSON route calls (``accounts.signups``, ``sessions``) and
sets the same cookies; a refused form comes back with the service's own words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from bandstand.accounts import sessions, signups
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
from bandstand.accounts.deps import ClientDep, MaybePrincipalDep, Principal
from bandstand.accounts.schemas import LoginIn, RegisterForm, VerifyOtpIn
from bandstand.accounts.throttle import Client
from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.db import SessionDep
from bandstand.errors import AppError, Unauthorized
from bandstand.kit.ratelimit import RateLimiter
from bandstand.models import User
from bandstand.resources import LimiterDep, QueueDep, SettingsDep, StorageDep, TokenSignerDep
from bandstand.web.csrf import CSRF
from bandstand.web.default_avatar import default_avatar
from bandstand.web.forms import field_errors, refusal, text, undo, validated
from bandstand.web.templating import is_partial, render

router = APIRouter()


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site, else ``/``: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def _here(request: Request) -> str:
    """The page to come back to after signing in: this one for a GET, else the page the
    form was sent from."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    current = urlsplit(request.headers.get("hx-current-url", ""))
    return safe_next(current.path + (f"?{current.query}" if current.query else ""))


def signin_url(request: Request) -> str:
    return "/signin?next=" + quote(_here(request), safe="/")


def signin_redirect(request: Request) -> RedirectResponse:
    """303 to the sign-in page, which comes back here once signed in."""
    return RedirectResponse(signin_url(request), status_code=303)


async def _viewer_required(request: Request, viewer: MaybePrincipalDep) -> Principal:
    if viewer is not None:
        return viewer
    if is_partial(request):
        # An htmx request: session.js refreshes the login and tries once more.
        raise Unauthorized("Sign in to continue.")
    raise HTTPException(303, "Sign in to continue.", headers={"Location": signin_url(request)})


# A page that needs a login declares ``viewer: ViewerRequired``: without one, a page load
# is sent to /signin (and back afterwards), an htmx request answered 401.
ViewerRequired = Annotated[Principal, Depends(_viewer_required)]


async def _user_required(viewer: ViewerRequired, session: SessionDep) -> User:
    user = await session.get(User, viewer.user_id)
    if user is None:
        raise Unauthorized("Sign in to continue.")
    return user


# The signed-in user's row, loaded for change in the request's session.
UserRequired = Annotated[User, Depends(_user_required)]

SIGNUP, CODE, SIGNIN = "auth/signup.html", "auth/signup_code.html", "auth/signin.html"
NextPath = Annotated[str, Query(alias="next", max_length=2000)]


@dataclass(frozen=True)
class Kit:
    """What the sign-up and sign-in forms take, gathered once per request."""

    request: Request
    session: AsyncSession
    settings: Settings
    limiter: RateLimiter
    signer: TokenSigner
    client: Client


async def _kit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    client: ClientDep,
) -> Kit:
    return Kit(request, session, settings, limiter, signer, client)


KitDep = Annotated[Kit, Depends(_kit)]


def _signed_in(
    response: Response,
    settings: Settings,
    signer: TokenSigner,
    user: User,
    tokens: sessions.IssuedTokens,
) -> None:
    """The cookies the JSON login sets: the login's tokens, and the mark of a browser
    that has logged in to this account before."""
    set_session_cookies(response, settings, tokens.access, tokens.refresh)
    set_cookie(response, settings, DEVICE_COOKIE, sessions.device_token(signer, user), 365 * 86400)


def _no_store(response: Response) -> Response:
    # The two-factor step carries the password on: no cache keeps that page, nor the
    # back-forward history.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/signup")
async def signup_page(
    request: Request, settings: SettingsDep, viewer: MaybePrincipalDep
) -> Response:
    if viewer is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, settings, SIGNUP, None, values={}, fields={})


async def _avatar(form_value: Any, data: RegisterForm) -> bytes:
    """The picture sent, or one made of the initials when none was chosen."""
    if isinstance(form_value, UploadFile) and form_value.filename:
        return await form_value.read()
    return await default_avatar(data.fullname, data.username)


@router.post("/signup", dependencies=[CSRF])
async def signup(kit: KitDep, queue: QueueDep, storage: StorageDep) -> Response:
    settings, signer = kit.settings, kit.signer
    form = await kit.request.form()
    values = {name: text(form, name) for name in ("email", "username", "fullname")}
    try:
        data = validated(RegisterForm, {**values, "password": text(form, "password")})
        avatar = await _avatar(form.get("avatar"), data)
        started = await signups.register(
            kit.session, settings, kit.limiter, signer, queue, storage, data, avatar, kit.client
        )
    except AppError as exc:
        await undo(kit.session, exc)
        return render(kit.request, settings, SIGNUP, None, values=values, **refusal(exc))
    # As the JSON register route does: the cookie says which sign-up the code is for.
    response = RedirectResponse("/signup/code", status_code=303)
    set_signup_cookie(response, settings, signer, started.id)
    return response


def _code_page(
    request: Request, settings: Settings, exc: AppError | None = None, notice: str | None = None
) -> Response:
    return render(
        request,
        settings,
        CODE,
        None,
        status=exc.status_code if exc else 200,
        error=exc.message if exc else None,
        fields=field_errors(exc) if exc else {},
        notice=notice,
    )


@router.get("/signup/code")
async def signup_code_page(request: Request, settings: SettingsDep, sent: bool = False) -> Response:
    if SIGNUP_COOKIE not in request.cookies:
        return RedirectResponse("/signup", status_code=303)
    return _code_page(request, settings, notice="We sent you a new code." if sent else None)


async def _code_refused(kit: Kit, exc: AppError) -> Response:
    """Undo the refused step (``forms.undo``), then the code's page again with why."""
    await undo(kit.session, exc)
    return _code_page(kit.request, kit.settings, exc)


@router.post("/signup/code", dependencies=[CSRF])
async def signup_code(kit: KitDep, storage: StorageDep) -> Response:
    session, settings, signer = kit.session, kit.settings, kit.signer
    form = await kit.request.form()
    try:
        code = validated(VerifyOtpIn, {"otp": text(form, "otp").strip()}).otp
        signup_id = signup_of(signer, kit.request, None)
        user = await signups.verify_code(
            session, settings, kit.limiter, signer, storage, signup_id, code, kit.client
        )
        tokens = await sessions.issue_tokens(session, signer, settings, user, None, kit.client)
    except AppError as exc:
        return await _code_refused(kit, exc)
    # Signed up: signed in too, with the cookies a login sets.
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, settings, SIGNUP_COOKIE)
    _signed_in(response, settings, signer, user, tokens)
    return response


@router.post("/signup/code/resend", dependencies=[CSRF])
async def resend_code(kit: KitDep, queue: QueueDep) -> Response:
    try:
        signup_id = signup_of(kit.signer, kit.request, None)
        await signups.resend_code(
            kit.session, kit.settings, kit.limiter, kit.signer, queue, signup_id, kit.client
        )
    except AppError as exc:
        return await _code_refused(kit, exc)
    return RedirectResponse("/signup/code?sent=1", status_code=303)


@router.get("/signin")
async def signin_page(
    request: Request, settings: SettingsDep, viewer: MaybePrincipalDep, next_path: NextPath = "/"
) -> Response:
    target = safe_next(next_path)
    if viewer is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, settings, SIGNIN, None, next=target, fields={})


@router.post("/signin", dependencies=[CSRF])
async def signin(kit: KitDep) -> Response:
    request, session, settings, signer = kit.request, kit.session, kit.settings, kit.signer
    form = await request.form()
    target = safe_next(text(form, "next"))
    login, password, totp = text(form, "login").strip(), text(form, "password"), text(form, "totp")
    # One box takes either: the login looks an email up by its "@", as the API does.
    said = "email" if "@" in login else "username"
    try:
        data = validated(LoginIn, {said: login, "password": password, "totp": totp or None})
        user, tokens = await sessions.login(
            session, signer, kit.limiter, settings, data, kit.client
        )
    except AppError as exc:
        await undo(session, exc)
        fields = field_errors(exc)
        if said in fields:
            fields["login"] = fields.pop(said)
        context: dict[str, Any] = {"next": target, "login": login, "fields": fields}
        if "totp" in fields:
            # The password was right; the second step asks for the code (a first ask is
            # no error).
            context.update(step="code", password=password, error=exc.message if totp else None)
            status = exc.status_code if totp else 200
            return _no_store(render(request, settings, SIGNIN, None, status=status, **context))
        return render(
            request, settings, SIGNIN, None, status=exc.status_code, error=exc.message, **context
        )
    response = RedirectResponse(target, status_code=303)
    _signed_in(response, settings, signer, user, tokens)
    return response


@router.post("/signout", dependencies=[CSRF])
async def signout(
    session: SessionDep, settings: SettingsDep, viewer: MaybePrincipalDep
) -> Response:
    """End this login on the server, as the JSON logout does, and forget its cookies."""
    if viewer is not None:
        await sessions.logout(session, viewer.session_id)
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, settings, ACCESS_COOKIE)
    clear_cookie(response, settings, REFRESH_COOKIE, REFRESH_PATH)
    return response
