"""The long-lived parts a running Bandstand shares: built once at start-up, closed at exit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bandstand.accounts.principals import Principals, build_principals
from bandstand.accounts.tokens import TokenSigner
from bandstand.comments.liked import LikedLookup
from bandstand.comments.recent import Recent
from bandstand.config import Settings
from bandstand.db import create_engine, create_read_sessionmaker, create_sessionmaker
from bandstand.engagement.counters import Counters, build_counters
from bandstand.engagement.likes import Likes, build_likes
from bandstand.kit.cache import RecentAnswers
from bandstand.kit.pgpool import DriverPool, driver_pool
from bandstand.kit.ratelimit import RateLimiter
from bandstand.kit.signing import UrlSigner, media_url_key
from bandstand.mail import Mailer, build_mailer
from bandstand.media.links import Links
from bandstand.storage import Storage, build_storage
from bandstand.worker.queue import Queue


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    # The raw driver pool the login check and the likes' writer share (None on SQLite).
    driver_pool: DriverPool | None
    principals: Principals
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    mailer: Mailer
    storage: Storage
    signer: TokenSigner
    url_signer: UrlSigner
    # How answers name files (stored URLs, signed media links).
    links: Links
    catalogue: RecentAnswers
    queue: Queue
    # Views, likes and comment counts on their way to the database (engagement/counters/).
    # ``likes`` and the flush write to it: replacing it means building ``likes`` anew.
    counters: Counters
    # Song likes are written here, in batches (engagement/likes.py).
    likes: Likes
    # Recent comment listings and counts, per song (comments/recent.py).
    comment_answers: Recent
    # Which comments of a page its reader likes, looked up in batches (comments/liked.py).
    liked_comments: LikedLookup
    # FFmpeg jobs at once in this process; the rest wait their turn.
    processing_slots: asyncio.Semaphore

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.effective_database_url)
        secret = settings.signing_secret()
        signer = TokenSigner(secret)
        read_sessionmaker = create_read_sessionmaker(engine)
        pool = driver_pool(settings.effective_database_url)
        principals = build_principals(settings.effective_database_url, pool)
        sessionmaker = create_sessionmaker(engine)
        counters = build_counters(settings)
        storage = build_storage(settings)
        url_signer = UrlSigner(media_url_key(secret))
        return cls(
            settings=settings,
            engine=engine,
            driver_pool=pool,
            principals=principals,
            sessionmaker=sessionmaker,
            read_sessionmaker=read_sessionmaker,
            limiter=RateLimiter(settings.redis_url, prefix=f"{settings.redis_namespace}:rl"),
            mailer=build_mailer(settings),
            storage=storage,
            signer=signer,
            url_signer=url_signer,
            links=Links(settings, storage, url_signer),
            catalogue=RecentAnswers(settings.catalogue_cache_s),
            queue=Queue(settings),
            counters=counters,
            likes=build_likes(pool, sessionmaker, counters),
            comment_answers=Recent(),
            liked_comments=LikedLookup(read_sessionmaker),
            processing_slots=asyncio.Semaphore(settings.processing_concurrency),
        )

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, settings: Settings) -> AsyncIterator[Runtime]:
        """Built for one command (``cli.py``), and closed after it however it ends."""
        runtime = cls.build(settings)
        try:
            yield runtime
        finally:
            await runtime.close()

    async def close(self) -> None:
        await self.queue.stop()
        await self.likes.close()
        await self.liked_comments.close()
        await self.counters.close()
        await self.limiter.close()
        await self.engine.dispose()
        await self.principals.close()
        if self.driver_pool is not None:
            await self.driver_pool.close()
