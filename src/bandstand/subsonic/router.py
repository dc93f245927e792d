"""HTTP for ``/rest``: every method at ``/rest/<method>`` and ``/rest/<method>.view``, by GET
or by POST with a form body (``formPost``), answered in the ``subsonic-response``.

One route takes every call: it merges the parameters (``params.py``), picks the format
(``f=json``, else XML), finds the method by name (``registry.py``), authenticates
(``auth.py``), spends the method's write budget, and runs it in a session. Every answer is
a ``subsonic-response`` with HTTP 200, as the apps expect, a refusal included (``failed``
with its Subsonic code); a method that answers bytes (a stream) returns its own response.
An unknown method is error 0 with HTTP 200 too: apps probing for what a server offers
show an error answer as "not supported", and some treat an HTTP error as the server
being down. Nothing here answers a stack trace: a fault is error 0 naming the request id.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from bandstand.accounts.principals import Principals
from bandstand.accounts.tokens import TokenSigner
from bandstand.budgets import Family, client_key
from bandstand.db import transaction
from bandstand.errors import RETRY_AFTER_S, AppError, unreachable
from bandstand.kit.ratelimit import Rate
from bandstand.subsonic import auth, registry
from bandstand.subsonic import methods as _methods  # noqa: F401  (registers every method)
from bandstand.subsonic.errors import (
    ClientMustUpgrade,
    ServerMustUpgrade,
    SubsonicError,
    from_app_error,
)
from bandstand.subsonic.params import MAX_FIELDS, BadParameter, Params
from bandstand.subsonic.registry import Call, Caller, Parts
from bandstand.subsonic.render import Format, Payload, format_of, rendered

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/rest", include_in_schema=False)
FORM = "application/x-www-form-urlencoded"
# Web apps on other sites call /rest too; the credentials travel in the parameters, never
# in cookies, so any site may read what it has the credentials for.
OPEN_TO_ALL_SITES = {"access-control-allow-origin": "*"}


async def _params(request: Request) -> Params:
    """The query string's parameters, then the form body's (formPost), every value kept."""
    items = list(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method == "POST" and content_type == FORM:
        try:
            text = (await request.body()).decode("utf-8")
            items += parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except UnicodeDecodeError as exc:
            raise SubsonicError("The form body is not UTF-8 text.") from exc
        except ValueError as exc:
            raise SubsonicError(f"The form body has more than {MAX_FIELDS} fields.") from exc
    if len(items) > MAX_FIELDS:
        raise SubsonicError(f"More than {MAX_FIELDS} parameters.")
    return Params(items)


def _check_version(version: str | None) -> None:
    """``v``, the protocol version the app speaks: refused only when its major version is
    not ours (1). A newer minor version asks for nothing this server refuses to answer."""
    if version is None or version == "":
        return
    major = version.strip().split(".", 1)[0]
    if not (major.isascii() and major.isdigit() and len(major) <= 4):
        raise BadParameter("v", "a version such as 1.16.1")
    if int(major) < 1:
        raise ClientMustUpgrade
    if int(major) > 1:
        raise ServerMustUpgrade


@functools.lru_cache(maxsize=64)
def _rate(limit: str) -> Rate:
    return Rate.parse(limit)


async def _spend(parts: Parts, family: Family, caller: Caller, address: str) -> None:
    """The method's budget per user and per client, under the keys the REST API's
    routes of the same family spend (``budgets.py``)."""
    settings = parts.settings
    per_user = _rate(getattr(settings, f"limit_{family}_per_user"))
    per_client = _rate(getattr(settings, f"limit_{family}_per_client"))
    verdict = await parts.limiter.spend(
        [
            (per_client, f"{family}:c:{client_key(address)}"),
            (per_user, f"{family}:u:{caller.user_id}"),
        ]
    )
    if not verdict.allowed:
        seconds = verdict.retry_after
        raise SubsonicError(
            f"Too many requests of this kind ({family}). Try again in {seconds} s.",
            retry_after=seconds,
        )


@dataclass(frozen=True, slots=True)
class _Edge:
    """What a call needs besides its method's parts: the request and its credentials'
    checkers."""

    request: Request
    parts: Parts
    signer: TokenSigner
    principals: Principals
    read_sessions: async_sessionmaker[AsyncSession]

    @property
    def address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"


def _edge(request: Request) -> _Edge:
    """The parts methods use, read off the runtime at once: ``/rest`` answers every method
    through this one route, at the rate apps call, where solving a dependency for each
    part cost more than most methods take (the REST API's routes ask for parts one by
    one, ``resources.py``)."""
    runtime = request.app.state.runtime
    parts = Parts(
        runtime.settings,
        runtime.links,
        runtime.counters,
        runtime.likes,
        runtime.storage,
        runtime.queue,
        runtime.limiter,
        runtime.sessionmaker,
        runtime.catalogue,
    )
    return _Edge(request, parts, runtime.signer, runtime.principals, runtime.read_sessionmaker)


async def _call(edge: _Edge, name: str, params: Params) -> Payload | Response:
    found = registry.find(name.removesuffix(".view"))
    if found is None:
        raise SubsonicError(f"Unknown method: {name[:64]}.")
    _check_version(params.get("v"))
    caller = None
    if found.auth:
        caller = await auth.authenticate(
            principals=edge.principals,
            sessions=edge.parts.sessionmaker,
            signer=edge.signer,
            limiter=edge.parts.limiter,
            settings=edge.parts.settings,
            params=params,
            address=edge.address,
        )
        if found.budget is not None:
            await _spend(edge.parts, found.budget, caller, edge.address)
    client = params.get("c") or ""
    if found.writes:
        async with transaction(edge.parts.sessionmaker) as session:
            return await found.handler(
                Call(edge.request, params, session, edge.parts, caller, client)
            )
    async with edge.read_sessions() as session:
        return await found.handler(Call(edge.request, params, session, edge.parts, caller, client))


def _answer(fmt: Format, status: str, payload: Payload, headers: dict[str, str]) -> Response:
    return Response(rendered(fmt, status, payload), media_type=fmt.media_type, headers=headers)


def _failed(fmt: Format, exc: SubsonicError) -> Response:
    headers = dict(OPEN_TO_ALL_SITES)
    if exc.retry_after is not None:
        headers["retry-after"] = str(max(1, exc.retry_after))
    error = {"code": exc.code, "message": exc.message}
    return _answer(fmt, "failed", {"error": error}, headers)


def _fault(exc: Exception) -> SubsonicError:
    """An exception no method meant: a dependency out of reach, or a fault of ours."""
    dependency = unreachable(exc)
    if dependency is not None:
        log.warning("dependency_unavailable", dependency=dependency, error=str(exc)[:300])
        return SubsonicError(
            "A service Bandstand depends on is unavailable. Try again shortly.",
            retry_after=RETRY_AFTER_S,
        )
    log.exception("rest_method_failed")
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    return SubsonicError(f"Internal server error. Quote request id {request_id} when reporting it.")


@router.api_route("/{name:path}", methods=["GET", "POST"])
async def rest(request: Request, name: str) -> Response:
    """Any method, by name."""
    fmt = format_of(request.query_params.get("f"))
    try:
        params = await _params(request)
        fmt = format_of(params.get("f"))
        result = await _call(_edge(request), name, params)
    except SubsonicError as exc:
        return _failed(fmt, exc)
    except AppError as exc:
        return _failed(fmt, from_app_error(exc))
    except Exception as exc:
        return _failed(fmt, _fault(exc))
    if isinstance(result, Response):
        result.headers.update(OPEN_TO_ALL_SITES)
        return result
    return _answer(fmt, "ok", result, dict(OPEN_TO_ALL_SITES))
