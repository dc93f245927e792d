"""The account page: profile, picture, password, email (confirmed by code), two-factor
login and app passwords for music apps. Each form calls the service its JSON route calls
(``accounts.profiles``, ``email_changes``, ``twofactor``, ``app_passwords``), checked by
the same schema; a refused form comes back with the service's words beside the form that
failed. Only the caller's own account is ever shown or changed: no route here takes a
user's id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from bandstand.accounts import app_passwords, email_changes, logins, profiles, twofactor
from bandstand.accounts.deps import ClientDep, Principal
from bandstand.accounts.schemas import (
    AppPasswordIn,
    ChangePasswordIn,
    EmailConfirmIn,
    TwoFactorDisableIn,
    TwoFactorEnableIn,
    TwoFactorSetupIn,
    UpdateAccountIn,
)
from bandstand.accounts.throttle import Client
from bandstand.accounts.tokens import TokenSigner
from bandstand.accounts.views import private_user
from bandstand.config import Settings
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.errors import AppError, BadRequest
from bandstand.kit.ratelimit import RateLimiter
from bandstand.media.links import Links
from bandstand.models import User
from bandstand.resources import (
    LimiterDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
    TokenSignerDep,
)
from bandstand.storage import Storage
from bandstand.web.auth import UserRequired, ViewerRequired
from bandstand.web.csrf import CSRF
from bandstand.web.forms import field_errors, text, undo, validated
from bandstand.web.templating import render
from bandstand.worker.queue import Queue

router = APIRouter()
PAGE = "account/account.html"
# What a change that went through says when the page comes back (``?saved=``).
SAVED = {
    "profile": "Your profile is saved.",
    "avatar": "Your picture is changed.",
    "password": "Your password is changed. Every other login has ended.",
    "email": "Your email address is changed.",
    "2fa-off": "Two-factor login is off.",
    "login": "That login has ended.",
    "app-password": "That app password is revoked: the app using it is signed out.",
}
# An otpauth URI is short; anything longer sent back in the form is not one of ours.
MAX_URI = 512


@dataclass(frozen=True)
class Page:
    """What the account page is rendered from."""

    request: Request
    settings: Settings
    links: Links
    viewer: Principal


async def _page_dep(
    request: Request, settings: SettingsDep, links: LinksDep, viewer: ViewerRequired
) -> Page:
    return Page(request, settings, links, viewer)


PageDep = Annotated[Page, Depends(_page_dep)]


@dataclass(frozen=True)
class Kit:
    """What the account's forms take, gathered once per request: the page to show again,
    and what the services they call are given."""

    page: Page
    session: AsyncSession
    limiter: RateLimiter
    signer: TokenSigner
    queue: Queue
    storage: Storage
    client: Client
    user: User

    @property
    def settings(self) -> Settings:
        return self.page.settings


async def _kit(
    page: PageDep,
    session: SessionDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    storage: StorageDep,
    client: ClientDep,
    user: UserRequired,
) -> Kit:
    return Kit(page, session, limiter, signer, queue, storage, client, user)


KitDep = Annotated[Kit, Depends(_kit)]


def _page(
    page: Page,
    *,
    status: int = 200,
    form: str | None = None,
    exc: AppError | None = None,
    **context: Any,
) -> Response:
    """The account as it was when the request came (a refused change left it so)."""
    me = private_user(page.links, page.viewer.account)
    context.setdefault("two_factor", me.twoFactor)
    shown = render(
        page.request,
        page.settings,
        PAGE,
        page.viewer,
        status=exc.status_code if exc else status,
        me=me,
        form=form,
        error=exc.message if exc else None,
        fields=field_errors(exc) if exc else {},
        **context,
    )
    if form is not None and form.startswith(("2fa", "app-password")):
        # A secret, or the recovery codes.
        shown.headers["Cache-Control"] = "no-store"
    return shown


async def _refused(kit: Kit, exc: AppError, form: str, **context: Any) -> Response:
    """Undo the refused change (``forms.undo``), then the page again with why, by ``form``."""
    await undo(kit.session, exc)
    return _page(kit.page, form=form, exc=exc, **context)


def _saved(what: str) -> Response:
    return RedirectResponse(f"/account?saved={what}", status_code=303)


def _qr(uri: str) -> Markup | None:
    """The otpauth URI as a QR code, an inline SVG drawn here (no script, no request)."""
    if not uri:
        return None
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, light="#fff", title="QR code of your two-factor secret"
    )
    return Markup(svg)  # noqa: S704 - segno's own SVG; the URI is drawn, not written


@router.get("/account")
async def account(page: PageDep, saved: str | None = None) -> Response:
    return _page(page, notice=SAVED.get(saved or ""))


@router.get("/account/logins")
async def my_logins(page: PageDep, session: ReadSessionDep) -> Response:
    """The account page's list of logins (fetched by the page once it is shown)."""
    viewer = page.viewer
    found = await logins.live(session, viewer.user_id, viewer.session_id)
    return render(page.request, page.settings, "account/_logins.html", viewer, logins=found)


@router.post("/account/logins/{login_id}/end", dependencies=[CSRF])
async def end_login(kit: KitDep, login_id: uuid.UUID) -> Response:
    await logins.end(kit.session, kit.user.id, login_id)
    return _saved("login")


@router.post("/account/profile", dependencies=[CSRF])
async def update_profile(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    # Only these two, as the JSON route's schema allows: the email has its own form.
    values = {"fullname": text(form, "fullname"), "username": text(form, "username")}
    try:
        data = validated(UpdateAccountIn, values)
        await _update_account(kit, data)
    except AppError as exc:
        return await _refused(kit, exc, "profile", values=values)
    return _saved("profile")


async def _update_account(kit: Kit, data: UpdateAccountIn) -> str | None:
    return await profiles.update_account(
        kit.session, kit.limiter, kit.settings, kit.signer, kit.queue, kit.user, data, kit.client
    )


@router.post("/account/avatar", dependencies=[CSRF])
async def update_avatar(kit: KitDep) -> Response:
    upload = (await kit.page.request.form()).get("avatar")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            error = {"field": "avatar", "message": "Choose a picture."}
            raise BadRequest("Choose a picture to upload.", errors=[error])
        picture = await upload.read()
        await profiles.update_avatar(kit.session, kit.storage, kit.settings, kit.user, picture)
    except AppError as exc:
        return await _refused(kit, exc, "avatar")
    return _saved("avatar")


@router.post("/account/password", dependencies=[CSRF])
async def change_password(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    fields = ("oldPassword", "newPassword", "confirmPassword")
    try:
        data = validated(ChangePasswordIn, {name: text(form, name) for name in fields})
        await profiles.change_password(
            kit.session,
            kit.limiter,
            kit.settings,
            kit.user,
            kit.page.viewer.session_id,
            data,
            kit.client,
        )
    except AppError as exc:
        return await _refused(kit, exc, "password")
    return _saved("password")


@router.post("/account/email", dependencies=[CSRF])
async def change_email(kit: KitDep) -> Response:
    """Ask for a new address: it changes once the code sent there comes back."""
    form = await kit.page.request.form()
    email = text(form, "email").strip()
    password = text(form, "currentPassword") or None
    try:
        data = validated(UpdateAccountIn, {"email": email, "currentPassword": password})
        pending = await _update_account(kit, data)
    except AppError as exc:
        return await _refused(kit, exc, "email", values={"email": email})
    if pending is None:
        return _page(kit.page, notice="That is already your address.")
    return _page(kit.page, form="email-code", pending_email=pending)


@router.post("/account/email/confirm", dependencies=[CSRF])
async def confirm_email(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    try:
        code = validated(EmailConfirmIn, {"code": text(form, "code").strip()}).code
        await email_changes.confirm(
            kit.session, kit.settings, kit.limiter, kit.signer, kit.user, code
        )
    except AppError as exc:
        pending = text(form, "pending")[:254]
        return await _refused(kit, exc, "email-code", pending_email=pending)
    return _saved("email")


@router.post("/account/2fa/setup", dependencies=[CSRF])
async def two_factor_setup(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    try:
        password = validated(TwoFactorSetupIn, {"password": text(form, "password")}).password
        made = await twofactor.setup(
            kit.signer, kit.limiter, kit.settings, kit.user, password, kit.client
        )
    except AppError as exc:
        return await _refused(kit, exc, "2fa-setup")
    setup = {"secret": made.secret, "uri": made.uri, "qr": _qr(made.uri)}
    return _page(kit.page, form="2fa-enable", setup=setup)


@router.post("/account/2fa/enable", dependencies=[CSRF])
async def two_factor_enable(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    try:
        code = validated(TwoFactorEnableIn, {"code": text(form, "code").strip()}).code
        codes = await twofactor.enable(
            kit.session, kit.signer, kit.limiter, kit.settings, kit.user, code
        )
    except AppError as exc:
        # The set-up step again, from what it showed (the secret is the caller's own).
        uri = text(form, "uri")
        uri = uri if uri.startswith("otpauth://") and len(uri) <= MAX_URI else ""
        setup = {"secret": text(form, "secret")[:64], "uri": uri, "qr": _qr(uri)}
        return await _refused(kit, exc, "2fa-enable", setup=setup)
    return _page(
        kit.page,
        form="2fa-codes",
        recovery_codes=codes,
        two_factor=True,
        notice="Two-factor login is on.",
    )


@router.post("/account/2fa/disable", dependencies=[CSRF])
async def two_factor_disable(kit: KitDep) -> Response:
    form = await kit.page.request.form()
    password, code = text(form, "password"), text(form, "code")
    try:
        data = validated(TwoFactorDisableIn, {"password": password, "code": code})
        await twofactor.disable(
            kit.session,
            kit.signer,
            kit.limiter,
            kit.settings,
            kit.user,
            data.password,
            data.code,
            kit.client,
        )
    except AppError as exc:
        return await _refused(kit, exc, "2fa-disable")
    return _saved("2fa-off")


@router.get("/account/app-passwords")
async def my_app_passwords(page: PageDep, session: ReadSessionDep) -> Response:
    """The account page's list of app passwords (fetched by the page once it is shown):
    names and dates, never a secret."""
    found = await app_passwords.listed(session, page.viewer.user_id)
    return render(
        page.request, page.settings, "account/_app_passwords.html", page.viewer, keys=found
    )


@router.post("/account/app-passwords", dependencies=[CSRF])
async def create_app_password(kit: KitDep) -> Response:
    """A new app password, shown this once with what to type into the app."""
    name = text(await kit.page.request.form(), "name")
    try:
        data = validated(AppPasswordIn, {"name": name})
        made = await app_passwords.create(kit.session, kit.signer, kit.user.id, data.name)
    except AppError as exc:
        return await _refused(kit, exc, "app-password", values={"name": name[:100]})
    shown = {
        "name": made.app_password.name,
        "secret": made.secret,
        "username": kit.user.username,
        "server": kit.settings.public_url.rstrip("/"),
    }
    return _page(kit.page, form="app-password-made", made=shown)


@router.post("/account/app-passwords/{app_password_id}/revoke", dependencies=[CSRF])
async def revoke_app_password(kit: KitDep, app_password_id: uuid.UUID) -> Response:
    await app_passwords.revoke(kit.session, kit.user.id, app_password_id)
    return _saved("app-password")
