"""Rendering a page: the Jinja2 environment, what every page is given, and the headers
every page carries (its Content-Security-Policy above all)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from bandstand.accounts.deps import Principal
from bandstand.config import Settings
from bandstand.web import csrf
from bandstand.web.format import FILTERS


# Only the site itself, and the address its links are made with (BANDSTAND_PUBLIC_URL),
# should a browser have opened it by another (localhost for 127.0.0.1). Styles may also be
# inline: wavesurfer.js styles its waveform in a shadow root with a <style> element.
# Scripts never are (no inline handler either).
@cache
def csp(public_url: str) -> str:
    parts = urlsplit(public_url)
    own = f"'self' {parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {own} data: blob:",
            f"media-src {own} blob:",
            "worker-src 'self' blob:",
            f"connect-src {own}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


STAFF = frozenset({"moderator", "admin"})

ENV = Environment(
    loader=PackageLoader("bandstand", "web/templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(FILTERS)


@cache
def asset(path: str) -> str:
    """``/static/<path>`` with its content's hash: a changed file is a new URL, so every
    file can be cached for good."""
    data = resources.files("bandstand").joinpath("static", path).read_bytes()
    return f"/static/{path}?v={hashlib.sha256(data).hexdigest()[:10]}"


ENV.globals["asset"] = asset


def is_partial(request: Request) -> bool:
    """An htmx navigation wants only ``<main>`` (and the title); a history restore or
    a first load, the whole page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    settings: Settings,
    template: str,
    viewer: Principal | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    account = viewer.account if viewer else None
    html = ENV.get_template(template).render(
        layout="partial.html" if is_partial(request) else "base.html",
        request=request,
        viewer=account,
        staff=account is not None and account.role in STAFF,
        csrf_token=csrf.token_of(request),
        path=request.url.path,
        access_ttl_s=settings.access_token_ttl_s,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = csp(settings.public_url)
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers["Cache-Control"] = "no-cache"
    csrf.remember(request, response, settings)
    return response
