"""The comments a route may act on, and who may act on them.

A comment the caller may not see (held, and neither theirs nor on their song) is 404 to
every route, before any 403: refusing it would say that it exists.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bandstand.accounts.deps import PrincipalDep
from bandstand.comments import service
from bandstand.comments.service import CommentRef
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.errors import BadRequest, Forbidden
from bandstand.kit.pagination import paging


async def _likeable(
    session: ReadSessionDep, principal: PrincipalDep, commentId: uuid.UUID
) -> CommentRef:
    # Likes are single statements in the autocommit session, like this look-up.
    return await service.visible_comment(session, commentId, principal.user_id)


async def _visible(
    session: SessionDep, principal: PrincipalDep, commentId: uuid.UUID
) -> CommentRef:
    return await service.visible_comment(session, commentId, principal.user_id)


async def _parent(session: SessionDep, principal: PrincipalDep, parentId: uuid.UUID) -> CommentRef:
    return await service.visible_comment(session, parentId, principal.user_id)


async def _thread(
    session: ReadSessionDep, principal: PrincipalDep, commentId: uuid.UUID
) -> CommentRef:
    # A read, as the listing's: the autocommit session.
    comment = await service.visible_comment(session, commentId, principal.user_id)
    if comment.root_id is not None:
        message = "A reply: its thread is paged from the thread's top-level comment."
        raise BadRequest("Invalid input.", errors=[{"field": "commentId", "message": message}])
    return comment


async def _limit(limit: int = 10) -> int:
    """``limit`` checked and clamped as for pages by number, for a list paged by cursor
    only (no ``page``)."""
    return (await paging(limit=limit)).limit


async def _authored(
    comment: Annotated[CommentRef, Depends(_visible)], principal: PrincipalDep
) -> CommentRef:
    if comment.author_id != principal.user_id:
        raise Forbidden("Only the comment's author can do this.")
    return comment


async def _on_my_song(
    comment: Annotated[CommentRef, Depends(_visible)], principal: PrincipalDep
) -> CommentRef:
    # Decided by the comment's own song, never by anything else the request carries.
    if comment.song_owner_id != principal.user_id:
        raise Forbidden("Only the owner of the comment's song can do this.")
    return comment


LikeableComment = Annotated[CommentRef, Depends(_likeable)]
ReplyParent = Annotated[CommentRef, Depends(_parent)]
ThreadTop = Annotated[CommentRef, Depends(_thread)]
CursorLimit = Annotated[int, Depends(_limit)]
AuthoredComment = Annotated[CommentRef, Depends(_authored)]
CommentOnMySong = Annotated[CommentRef, Depends(_on_my_song)]
