"""Every write has a budget: per user and per client, by the family its route is in.

One middleware spends them, before the request's body is read (a flood of uploads is
refused before it is received) and before any route runs. A route's family follows from
its method and declared path, found once per route when the app is built; a route added
later falls into ``writes``. The user is the access token's subject, checked by its
signature only: the route still authenticates in full, and a forged token cannot name
someone else, so no database read is added here. Both budgets are spent in one step
(``RateLimiter.spend``: one Redis round trip), and a refusal spends neither.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from bandstand.accounts.deps import bearer_or_cookie
from bandstand.accounts.tokens import InvalidToken, TokenSigner
from bandstand.config import Settings
from bandstand.errors import ServiceUnavailable, unreachable
from bandstand.kit.ratelimit import Rate, RateLimiter
from bandstand.middleware import UNSAFE_METHODS, send_envelope

log = structlog.get_logger(__name__)


class Family(StrEnum):
    LIKES = "likes"
    PLAYS = "plays"
    COMMENTS = "comments"
    UPLOADS = "uploads"
    PLAYLISTS = "playlists"
    REPORTS = "reports"
    ACCOUNT = "account"
    WRITES = "writes"
    SEARCH = "search"


# Budgeted elsewhere (sign-up and login: accounts/throttle.py and accounts/signups.py),
# or never refused: a user must always be able to log out.
EXEMPT = re.compile(r"^/users/(register|verify-otp|login|refresh-token|logout)$")
# (family, the declared path under /api/v1), tried in order; the first that matches wins.
_FAMILIES: tuple[tuple[Family, re.Pattern[str]], ...] = (
    (Family.LIKES, re.compile(r"^/(songs|comments)/\{[^}]+\}/(like|unlike)$")),
    (Family.PLAYS, re.compile(r"^/songs/\{[^}]+\}$|^/users/watchHistory$")),
    (Family.UPLOADS, re.compile(r"^/songs/upload$")),
    (Family.COMMENTS, re.compile(r"^/comments/\{songId\}(/reply/\{parentId\})?$")),
    (Family.PLAYLISTS, re.compile(r"^/playlist(/|$)")),
    (Family.REPORTS, re.compile(r"^/reports(/|$)")),
    (Family.ACCOUNT, re.compile(r"^/users/")),
)
SEARCH_PATH = "/songs/search"

# The web app's pages (bandstand/web/) spend the same budgets as the JSON routes they
# stand for; signing up, in and out are budgeted by the accounts services, as above.
PAGE_EXEMPT = re.compile(r"^/(signin|signout|signup(/code(/resend)?)?)$")
_PAGE_FAMILIES: tuple[tuple[Family, re.Pattern[str]], ...] = (
    (Family.LIKES, re.compile(r"^/songs/\{[^}]+\}/(comments/\{[^}]+\}/)?(like|unlike)$")),
    (Family.COMMENTS, re.compile(r"^/songs/\{[^}]+\}/comments(/\{[^}]+\}/replies)?$")),
    (Family.PLAYLISTS, re.compile(r"^/playlists(/|$)|^/songs/\{[^}]+\}/playlist$")),
    (Family.REPORTS, re.compile(r"^/songs/\{[^}]+\}/report$")),
    (Family.ACCOUNT, re.compile(r"^/account/")),
)
PAGE_SEARCH_PATH = "/search"
# The OpenSubsonic API (bandstand/subsonic/) authenticates by its parameters, which this
# middleware does not read: each of its methods spends its family's budgets itself, once
# the caller is known (subsonic/router.py), under the same keys.
REST_PREFIX = "/rest/"


def page_family_of(method: str, path: str) -> Family | None:
    """The budget a request to the page route declared as ``method path`` spends."""
    if method == "GET" and path == PAGE_SEARCH_PATH:
        return Family.SEARCH
    if method not in UNSAFE_METHODS or PAGE_EXEMPT.match(path) or path.startswith(REST_PREFIX):
        return None
    for family, pattern in _PAGE_FAMILIES:
        if pattern.match(path):
            return family
    return Family.WRITES


def family_of(method: str, path: str) -> Family | None:
    """The budget a request to the route declared as ``method path`` (under /api/v1)
    spends; None when it spends none here (reads, sign-up and login)."""
    if method == "GET" and path == SEARCH_PATH:
        return Family.SEARCH
    if method not in UNSAFE_METHODS or EXEMPT.match(path):
        return None
    for family, pattern in _FAMILIES:
        if pattern.match(path):
            return family
    return Family.WRITES


@dataclass(frozen=True, slots=True)
class Budget:
    """What a request to one route spends: its family's rates per user and per client."""

    family: Family
    per_user: Rate
    per_client: Rate


# A route's path as the router matches it, and its budget (None: it spends none).
Routes = dict[str, list[tuple[re.Pattern[str], Budget | None]]]


def budgeted_routes(routes: Iterable[BaseRoute], prefix: str, settings: Settings) -> Routes:
    """Per method, the app's routes (the API's under ``prefix``, and the pages) in the
    order the app tries them (the likes first), up to the last that spends a budget: a
    request spends the budget of the first route that matches it, as the app picks the
    route (GET has one: search, on the API and as a page)."""
    budgets = {
        family: Budget(
            family,
            Rate.parse(getattr(settings, f"limit_{family}_per_user")),
            Rate.parse(getattr(settings, f"limit_{family}_per_client")),
        )
        for family in Family
    }
    table: Routes = {}
    for route in iter_route_contexts(list(routes)):
        path = route.path or ""
        api = path.startswith(f"{prefix}/")
        for method in sorted(route.methods or ()):
            if api:
                family = family_of(method, path.removeprefix(prefix))
            else:
                family = page_family_of(method, path)
            entry = (route.path_regex, budgets[family] if family else None)
            table.setdefault(method, []).append(entry)
    for method, entries in list(table.items()):
        last = max((i for i, (_, b) in enumerate(entries) if b), default=-1)
        if last < 0:
            del table[method]
        else:
            del entries[last + 1 :]
    return table


def client_key(address: str) -> str:
    """An IPv6 client is its /64: a host is given a whole /64 and may use any of it."""
    if ":" not in address:
        return address
    try:
        network = ipaddress.IPv6Network(f"{address}/64", strict=False)
    except ValueError:
        return address
    return str(network.network_address) + "/64"


class WriteBudgetMiddleware:
    """Spends the request's budgets, or answers 429 with ``Retry-After``. Middleware is
    built before the lifespan makes the runtime, so the limiter and the signer are read
    off the app's runtime at each request (as ``carries_access_token`` does)."""

    def __init__(self, app: ASGIApp, routes: Routes) -> None:
        self.app = app
        self.routes = routes

    def _budget(self, scope: Scope) -> Budget | None:
        path = scope["path"]
        for pattern, budget in self.routes.get(scope["method"], ()):
            if pattern.match(path):
                return budget
        return None

    @staticmethod
    def _user(scope: Scope, signer: TokenSigner) -> str | None:
        token = bearer_or_cookie(Request(scope))
        if not token:
            return None
        try:
            return signer.read(token, "access").sub
        except InvalidToken:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (budgeted := self._budget(scope)) is None:
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        client = scope.get("client")
        address = client_key(client[0]) if client else "unknown"
        family = budgeted.family
        budgets = [(budgeted.per_client, f"{family}:c:{address}")]
        user = self._user(scope, runtime.signer)
        if user is not None:
            budgets.append((budgeted.per_user, f"{family}:u:{user}"))
        limiter: RateLimiter = runtime.limiter
        try:
            verdict = await limiter.spend(budgets)
        except Exception as exc:
            dependency = unreachable(exc)
            if dependency is None:
                raise
            log.warning("dependency_unavailable", dependency=dependency, error=str(exc)[:300])
            down = ServiceUnavailable()
            await send_envelope(send, down.status_code, down.message, down.headers)
            return
        if not verdict.allowed:
            seconds = verdict.retry_after
            headers = {"retry-after": str(seconds)}
            if family is Family.UPLOADS:
                headers["connection"] = "close"  # rather than receive the file for nothing
            await send_envelope(
                send,
                429,
                f"Too many requests of this kind ({family}). Try again in {seconds} s.",
                headers,
            )
            return
        await self.app(scope, receive, send)
