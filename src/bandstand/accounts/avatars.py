"""Avatar files: checked and re-encoded on the way in, deleted only once a change commits.

Sign-up stores an avatar before there is a user, and a profile change replaces one; the
file is written before its row, so a rolled-back request must take its file away again,
and an old file may go only once no committed row names it any more."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.config import Settings
from bandstand.db import after_commit, on_rollback
from bandstand.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from bandstand.media.images import InvalidImage, square_webp
from bandstand.storage import Storage, new_key


async def store_avatar(
    session: AsyncSession, storage: Storage, settings: Settings, data: bytes
) -> str:
    """Check, re-encode and store an avatar; the file goes away again if the request fails."""
    if len(data) > settings.image_max_bytes:
        raise PayloadTooLarge(
            f"The avatar is larger than {settings.image_max_bytes // (1024 * 1024)} MB.",
            errors=[_avatar_error("File too large.")],
        )
    if not data:
        raise BadRequest("The avatar file is empty.", errors=[_avatar_error("The file is empty.")])
    try:
        encoded = await square_webp(data, settings.avatar_size_px)
    except InvalidImage as exc:
        raise UnsupportedMediaType(str(exc), errors=[_avatar_error(str(exc))]) from exc
    key = new_key("avatars", "webp")
    await storage.put(key, encoded, "image/webp")
    on_rollback(session, lambda: storage.delete(key))
    return key


def delete_after_commit(session: AsyncSession, storage: Storage, key: str) -> None:
    """Delete the avatar file ``key`` once the change that stopped naming it commits."""

    async def delete() -> None:
        await storage.delete(key)

    after_commit(session, delete)


def _avatar_error(message: str) -> dict[str, str]:
    return {"field": "avatar", "message": message}
