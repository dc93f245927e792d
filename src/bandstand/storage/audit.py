"""Stored files against the database: every file must belong to a row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import PendingSignup, Playlist, Release, Song, User
from bandstand.storage import Storage


def _family(key: str) -> str:
    """The folder a key's family lives in (``songs/<id>/``), or the key itself."""
    return key.rsplit("/", 1)[0] + "/" if key.count("/") == 2 else key


async def strangers(storage: Storage, session: AsyncSession) -> list[str]:
    """Stored keys no user, sign-up, song, playlist or release accounts for. A song owns
    the whole folder of its original (renditions, HLS) and of its cover (every size), a
    playlist or a release that of its cover. Files of a request or job still running
    show up here until it commits."""
    owned: set[str] = set()
    for stmt in (
        select(User.avatar_key).where(User.avatar_key.is_not(None)),
        select(PendingSignup.avatar_key),
    ):
        owned.update(key for key in (await session.scalars(stmt)) if key)
    for audio_key, cover_key in await session.execute(select(Song.audio_key, Song.thumbnail_key)):
        owned.add(_family(audio_key))
        owned.add(_family(cover_key))
    for model in (Playlist, Release):
        covers = select(model.thumbnail_key).where(model.thumbnail_key.is_not(None))
        owned.update(_family(key) for key in await session.scalars(covers) if key)
    return [key for key in await storage.keys() if _family(key) not in owned and key not in owned]
