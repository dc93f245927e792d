"""The methods of ``/rest`` by name, and what each call is given.

A method is one async function, registered by name with ``@method``::

    @method("getSong")
    async def get_song(call: Call) -> Payload:
        ...
        return {"song": mapping.child(card)}

It returns what goes inside ``subsonic-response`` (``render.py`` writes it as JSON or XML),
or a Starlette ``Response`` of its own (a stream, a cover). It raises ``errors.*`` (or lets
a shared service's ``AppError`` through) to refuse. The router authenticates the caller
first (unless ``auth=False``), spends the method's write budget if it has one, and opens
the database session: read-only for readers, one transaction (committed on success,
rolled back on an error) for ``writes=True``.

OpenSubsonic extensions a module implements are declared beside it with ``extension``;
``getOpenSubsonicExtensions`` lists exactly those.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from bandstand.budgets import Family
from bandstand.config import Settings
from bandstand.engagement.counters import Counters
from bandstand.engagement.likes import Likes
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.ratelimit import RateLimiter
from bandstand.media.links import Links
from bandstand.models import Role
from bandstand.storage import Storage
from bandstand.subsonic.params import Params
from bandstand.subsonic.render import Payload
from bandstand.worker.queue import Queue


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a call is from: the account behind the app password it came with."""

    user_id: uuid.UUID
    username: str
    fullname: str
    email: str
    role: str
    avatar_key: str | None
    # The app password it authenticated with.
    key_id: uuid.UUID
    # Whether a moderator took one of its songs down: what it may see then differs from
    # what everyone else may, so answers made for everyone are not its.
    hides_songs: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class Parts:
    """The runtime's parts a method may use, as the route's dependencies gave them."""

    settings: Settings
    links: Links
    counters: Counters
    likes: Likes
    storage: Storage
    queue: Queue
    limiter: RateLimiter
    sessionmaker: async_sessionmaker[AsyncSession]
    # Answers the same for everyone, kept a moment (as the REST API's newest songs are).
    catalogue: RecentAnswers


@dataclass(slots=True)
class Call:
    """One call of a method: its parameters, its caller, its session and the parts."""

    request: Request
    params: Params
    session: AsyncSession
    parts: Parts
    caller: Caller | None
    # The ``c`` parameter: the app's own name for itself.
    client: str

    @property
    def me(self) -> Caller:
        """The authenticated caller (every method registered with ``auth=True``)."""
        if self.caller is None:
            raise RuntimeError("this method was registered with auth=False")
        return self.caller

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def links(self) -> Links:
        return self.parts.links

    @property
    def counters(self) -> Counters:
        return self.parts.counters


Handler = Callable[[Call], Awaitable[Payload | Response]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    handler: Handler
    # Whether the caller must authenticate (all but getOpenSubsonicExtensions).
    auth: bool = True
    # Whether it changes anything: it then runs in one transaction.
    writes: bool = False
    # The write budget it spends per user and per client, as the REST route it stands for
    # does (``budgets.py``): a like from an app counts against the same budget as one from
    # the web.
    budget: Family | None = None


@dataclass
class _Registry:
    methods: dict[str, Method] = field(default_factory=dict)
    extensions: dict[str, list[int]] = field(default_factory=dict)


_REGISTRY = _Registry()


def method(
    name: str, *, auth: bool = True, writes: bool = False, budget: Family | None = None
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the method ``name`` (answered at ``/rest/<name>`` and
    ``/rest/<name>.view``; the name's case does not matter, as some apps lower it)."""

    def register(handler: Handler) -> Handler:
        key = name.lower()
        if key in _REGISTRY.methods:
            raise RuntimeError(f"the /rest method {name} is registered twice")
        _REGISTRY.methods[key] = Method(name, handler, auth, writes, budget)
        return handler

    return register


def extension(name: str, *versions: int) -> None:
    """Declare an OpenSubsonic extension this server implements (in the module that
    implements it), for ``getOpenSubsonicExtensions`` to list."""
    _REGISTRY.extensions[name] = sorted({*_REGISTRY.extensions.get(name, []), *versions})


def find(name: str) -> Method | None:
    return _REGISTRY.methods.get(name.lower())


def extensions() -> dict[str, list[int]]:
    return dict(sorted(_REGISTRY.extensions.items()))


def names() -> list[str]:
    """Every registered method's name, as registered."""
    return sorted(m.name for m in _REGISTRY.methods.values())
