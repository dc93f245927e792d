"""The account page: profile, picture, password, email (confirmed by code) and two-factor
login. Each form calls the service its JSON route calls (``accounts.profiles``,
``email_changes``, ``twofactor``), checked by the same schema; a refused form comes back
with the service's words beside the form that failed. Only the caller's own account is
ever shown or changed: no route here takes a user's id."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from bandstand.accounts import email_changes, profiles, twofactor
from bandstand.accounts.deps import ClientDep, Principal
from bandstand.accounts.schemas import (
    ChangePasswordIn,
    EmailConfirmIn,
    TwoFactorDisableIn,
    TwoFactorEnableIn,
    TwoFactorSetupIn,
    UpdateAccountIn,
)
from bandstand.accounts.views import private_user
from bandstand.config import Settings
from bandstand.db import SessionDep
from bandstand.errors import AppError, BadRequest
from bandstand.media.links import Links
from bandstand.resources import (
    LimiterDep,
    LinksDep,
    QueueDep,
    SettingsDep,
    StorageDep,
    TokenSignerDep,
)
from bandstand.web.auth import UserRequired, ViewerRequired
from bandstand.web.csrf import CSRF
from bandstand.web.forms import field_errors, text, undo, validated
from bandstand.web.templating import render

router = APIRouter()
PAGE = "account/account.html"
# What a change that went through says when the page comes back (``?saved=``).
SAVED = {
    "profile": "Your profile is saved.",
    "avatar": "Your picture is changed.",
    "password": "Your password is changed. Every other login has ended.",
    "email": "Your email address is changed.",
    "2fa-off": "Two-factor login is off.",
}
# An otpauth URI is short; anything longer sent back in the form is not one of ours.
MAX_URI = 512


def _page(
    request: Request,
    settings: Settings,
    links: Links,
    viewer: Principal,
    *,
    status: int = 200,
    form: str | None = None,
    exc: AppError | None = None,
    **context: Any,
) -> Response:
    """The account as it was when the request came (a refused change left it so)."""
    me = private_user(links, viewer.account)
    context.setdefault("two_factor", me.twoFactor)
    page = render(
        request,
        settings,
        PAGE,
        viewer,
        status=exc.status_code if exc else status,
        me=me,
        form=form,
        error=exc.message if exc else None,
        fields=field_errors(exc) if exc else {},
        **context,
    )
    if form is not None and form.startswith("2fa"):
        page.headers["Cache-Control"] = "no-store"  # a secret, or the recovery codes
    return page


async def _refused(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    links: Links,
    viewer: Principal,
    exc: AppError,
    form: str,
    **context: Any,
) -> Response:
    await undo(session, exc)
    return _page(request, settings, links, viewer, form=form, exc=exc, **context)


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
async def account(
    request: Request,
    settings: SettingsDep,
    links: LinksDep,
    viewer: ViewerRequired,
    saved: str | None = None,
) -> Response:
    return _page(request, settings, links, viewer, notice=SAVED.get(saved or ""))


@router.post("/account/profile", dependencies=[CSRF])
async def update_profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    links: LinksDep,
    client: ClientDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    # Only these two, as the JSON route's schema allows: the email has its own form.
    values = {"fullname": text(form, "fullname"), "username": text(form, "username")}
    try:
        data = validated(UpdateAccountIn, values)
        await profiles.update_account(session, limiter, settings, signer, queue, user, data, client)
    except AppError as exc:
        return await _refused(
            request, session, settings, links, viewer, exc, "profile", values=values
        )
    return _saved("profile")


@router.post("/account/avatar", dependencies=[CSRF])
async def update_avatar(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    links: LinksDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    upload = (await request.form()).get("avatar")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            error = {"field": "avatar", "message": "Choose a picture."}
            raise BadRequest("Choose a picture to upload.", errors=[error])
        await profiles.update_avatar(session, storage, settings, user, await upload.read())
    except AppError as exc:
        return await _refused(request, session, settings, links, viewer, exc, "avatar")
    return _saved("avatar")


@router.post("/account/password", dependencies=[CSRF])
async def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    links: LinksDep,
    client: ClientDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    fields = ("oldPassword", "newPassword", "confirmPassword")
    try:
        data = validated(ChangePasswordIn, {name: text(form, name) for name in fields})
        await profiles.change_password(
            session, limiter, settings, user, viewer.session_id, data, client
        )
    except AppError as exc:
        return await _refused(request, session, settings, links, viewer, exc, "password")
    return _saved("password")


@router.post("/account/email", dependencies=[CSRF])
async def change_email(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    queue: QueueDep,
    links: LinksDep,
    client: ClientDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    """Ask for a new address: it changes once the code sent there comes back."""
    form = await request.form()
    email = text(form, "email").strip()
    password = text(form, "currentPassword") or None
    try:
        data = validated(UpdateAccountIn, {"email": email, "currentPassword": password})
        pending = await profiles.update_account(
            session, limiter, settings, signer, queue, user, data, client
        )
    except AppError as exc:
        return await _refused(
            request, session, settings, links, viewer, exc, "email", values={"email": email}
        )
    if pending is None:
        return _page(request, settings, links, viewer, notice="That is already your address.")
    return _page(request, settings, links, viewer, form="email-code", pending_email=pending)


@router.post("/account/email/confirm", dependencies=[CSRF])
async def confirm_email(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    try:
        code = validated(EmailConfirmIn, {"code": text(form, "code").strip()}).code
        await email_changes.confirm(session, settings, limiter, signer, user, code)
    except AppError as exc:
        pending = text(form, "pending")[:254]
        return await _refused(
            request, session, settings, links, viewer, exc, "email-code", pending_email=pending
        )
    return _saved("email")


@router.post("/account/2fa/setup", dependencies=[CSRF])
async def two_factor_setup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    client: ClientDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    try:
        password = validated(TwoFactorSetupIn, {"password": text(form, "password")}).password
        made = await twofactor.setup(signer, limiter, settings, user, password, client)
    except AppError as exc:
        return await _refused(request, session, settings, links, viewer, exc, "2fa-setup")
    setup = {"secret": made.secret, "uri": made.uri, "qr": _qr(made.uri)}
    return _page(request, settings, links, viewer, form="2fa-enable", setup=setup)


@router.post("/account/2fa/enable", dependencies=[CSRF])
async def two_factor_enable(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    try:
        code = validated(TwoFactorEnableIn, {"code": text(form, "code").strip()}).code
        codes = await twofactor.enable(session, signer, limiter, settings, user, code)
    except AppError as exc:
        # The set-up step again, from what it showed (the secret is the caller's own).
        uri = text(form, "uri")
        uri = uri if uri.startswith("otpauth://") and len(uri) <= MAX_URI else ""
        setup = {"secret": text(form, "secret")[:64], "uri": uri, "qr": _qr(uri)}
        return await _refused(
            request, session, settings, links, viewer, exc, "2fa-enable", setup=setup
        )
    return _page(
        request,
        settings,
        links,
        viewer,
        form="2fa-codes",
        recovery_codes=codes,
        two_factor=True,
        notice="Two-factor login is on.",
    )


@router.post("/account/2fa/disable", dependencies=[CSRF])
async def two_factor_disable(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    signer: TokenSignerDep,
    links: LinksDep,
    client: ClientDep,
    viewer: ViewerRequired,
    user: UserRequired,
) -> Response:
    form = await request.form()
    try:
        data = validated(
            TwoFactorDisableIn, {"password": text(form, "password"), "code": text(form, "code")}
        )
        await twofactor.disable(
            session, signer, limiter, settings, user, data.password, data.code, client
        )
    except AppError as exc:
        return await _refused(request, session, settings, links, viewer, exc, "2fa-disable")
    return _saved("2fa-off")
