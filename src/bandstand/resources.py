"""The long-lived parts, one dependency each: a route, a job or a service asks for the
resource it uses (``storage: StorageDep``), never for the whole ``Runtime``.

``runtime.py`` builds the parts at start-up and closes them at exit; only the places that
start a process (``app.py``, ``cli.py``) and tests hold it whole. A route reads a part off
``app.state.runtime`` through the dependencies below; a job reads it off taskiq's state
(what the queue was started with) through the ``Job*`` ones.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from taskiq import Context, TaskiqDepends

from bandstand.accounts.principals import Principals
from bandstand.accounts.tokens import TokenSigner
from bandstand.comments.liked import LikedLookup
from bandstand.comments.recent import Recent
from bandstand.config import Settings
from bandstand.engagement.counters import Counters
from bandstand.engagement.likes import Likes
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.signing import UrlSigner
from bandstand.mail import Mailer
from bandstand.media.links import Links
from bandstand.runtime import Runtime
from bandstand.storage import Storage
from bandstand.worker.queue import Queue

Sessions = async_sessionmaker[AsyncSession]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _part(name: str) -> Any:
    """A dependency giving the runtime's part ``name``."""

    # async: FastAPI runs a plain function dependency in a thread pool, per request.
    async def part(request: Request) -> Any:
        return getattr(_runtime(request), name)

    part.__name__ = f"runtime_{name}"
    return Depends(part)


SettingsDep = Annotated[Settings, _part("settings")]
# The engine itself, for what no session should do (the readiness probe's connection).
EngineDep = Annotated[AsyncEngine, _part("engine")]
# Opens transactions of its own (a service that commits in steps, or after the answer).
SessionsDep = Annotated[Sessions, _part("sessionmaker")]
ReadSessionsDep = Annotated[Sessions, _part("read_sessionmaker")]
PrincipalsDep = Annotated[Principals, _part("principals")]
LimiterDep = Annotated[RateLimiter, _part("limiter")]
MailerDep = Annotated[Mailer, _part("mailer")]
StorageDep = Annotated[Storage, _part("storage")]
TokenSignerDep = Annotated[TokenSigner, _part("signer")]
UrlSignerDep = Annotated[UrlSigner, _part("url_signer")]
LinksDep = Annotated[Links, _part("links")]
CatalogueDep = Annotated[RecentAnswers, _part("catalogue")]
QueueDep = Annotated[Queue, _part("queue")]
CountersDep = Annotated[Counters, _part("counters")]
LikesDep = Annotated[Likes, _part("likes")]
CommentAnswersDep = Annotated[Recent, _part("comment_answers")]
LikedCommentsDep = Annotated[LikedLookup, _part("liked_comments")]


def _job_runtime(context: Annotated[Context, TaskiqDepends()]) -> Runtime:
    runtime: Runtime = context.state.runtime
    return runtime


# Jobs: the whole runtime, for a job that hands several parts to one service; prefer the
# parts.
JobRuntime = Annotated[Runtime, TaskiqDepends(_job_runtime)]


def _job_part(name: str) -> Any:
    def part(runtime: JobRuntime) -> Any:
        return getattr(runtime, name)

    part.__name__ = f"job_{name}"
    return TaskiqDepends(part)


JobSettings = Annotated[Settings, _job_part("settings")]
JobSessions = Annotated[Sessions, _job_part("sessionmaker")]
JobStorage = Annotated[Storage, _job_part("storage")]
JobLinks = Annotated[Links, _job_part("links")]
JobQueue = Annotated[Queue, _job_part("queue")]
JobCounters = Annotated[Counters, _job_part("counters")]
JobMailer = Annotated[Mailer, _job_part("mailer")]
JobSlots = Annotated[asyncio.Semaphore, _job_part("processing_slots")]
JobCatalogue = Annotated[RecentAnswers, _job_part("catalogue")]
