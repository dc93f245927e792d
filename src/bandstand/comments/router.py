"""HTTP for ``/api/v1/comments``: parse, call one service function, answer in the envelope."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.responses import Response

from bandstand.accounts.deps import Principal, PrincipalDep
from bandstand.comments import listing, service
from bandstand.comments.deps import (
    AuthoredComment,
    CommentOnMySong,
    CursorLimit,
    LikeableComment,
    ReplyParent,
    ThreadTop,
)
from bandstand.comments.schemas import (
    Breakdown,
    CommentCreate,
    CommentLikes,
    CommentPage,
    CommentRead,
    CommentsDeleted,
    CommentsSwitch,
    MutePage,
    MuteRead,
    SentimentReport,
)
from bandstand.comments.views import likes_view, mute_view, new_view, page_body, shown_view
from bandstand.db import ReadSessionDep, SessionDep
from bandstand.kit.envelope import Envelope, answer, envelope
from bandstand.kit.http import JSON_BODY
from bandstand.kit.pagination import PagingDep, page_of
from bandstand.media.links import Links
from bandstand.models import Comment
from bandstand.resources import (
    CommentAnswersDep,
    CountersDep,
    LikedCommentsDep,
    LinksDep,
    ReadSessionsDep,
    SettingsDep,
)
from bandstand.songs.deps import ExistingSong, OwnedSong

router = APIRouter(prefix="/comments", tags=["comments"])


def _added(links: Links, comment: Comment, principal: Principal, what: str) -> JSONResponse:
    message = (
        f"{what} added; it waits for the song owner's approval."
        if comment.is_held
        else f"{what} added successfully."
    )
    return envelope(new_view(links, comment, principal.account), message, 201)


# Fixed first segments before the ``/{id}/...`` routes, so "analytics", "nuke" and "mutes"
# are never read as ids.
@router.get(
    "/mutes",
    response_model=Envelope[MutePage],
    summary="Listeners I muted on my songs, most recently muted first",
)
async def list_mutes(
    links: LinksDep, session: ReadSessionDep, principal: PrincipalDep, paging: PagingDep
) -> Envelope[MutePage]:
    found, total = await service.mutes(
        session, principal.user_id, offset=(paging.page - 1) * paging.limit, limit=paging.limit
    )
    docs = [mute_view(links, muted) for muted in found]
    shaped = page_of(docs, page=paging.page, limit=paging.limit, total=total)
    return answer(MutePage(**shaped), "Muted listeners fetched.")


@router.post(
    "/mutes/{userId}",
    response_model=Envelope[MuteRead],
    dependencies=[JSON_BODY],
    summary="Mute a listener on my songs: their new comments wait for my approval",
)
async def mute(
    links: LinksDep, session: SessionDep, principal: PrincipalDep, userId: uuid.UUID
) -> Envelope[MuteRead]:
    muted = await service.mute(session, principal.user_id, userId)
    return answer(
        mute_view(links, muted),
        "Listener muted: their new comments on your songs wait for your approval.",
    )


@router.delete(
    "/mutes/{userId}",
    response_model=Envelope[MuteRead],
    dependencies=[JSON_BODY],
    summary="Unmute a listener on my songs (a no-op if not muted)",
)
async def unmute(
    links: LinksDep, session: SessionDep, principal: PrincipalDep, userId: uuid.UUID
) -> Envelope[MuteRead]:
    muted = await service.unmute(session, principal.user_id, userId)
    return answer(mute_view(links, muted), "Listener unmuted.")


@router.get(
    "/analytics/{songId}",
    response_model=Envelope[SentimentReport],
    summary="How a song's comments read (its owner only)",
)
async def analytics(session: SessionDep, song: OwnedSong) -> Envelope[SentimentReport]:
    breakdown = await service.sentiment_breakdown(session, song.id)
    return answer(SentimentReport(Payload=Breakdown(**breakdown)), "Comment analytics fetched.")


@router.delete(
    "/nuke/{commentId}",
    response_model=Envelope[CommentsDeleted],
    dependencies=[JSON_BODY],
    summary="Delete a comment on my song with its replies (the song's owner)",
)
async def nuke(
    counters: CountersDep,
    recent: CommentAnswersDep,
    session: SessionDep,
    comment: CommentOnMySong,
) -> Envelope[CommentsDeleted]:
    deleted = await service.remove(session, counters, recent, comment)
    return answer(CommentsDeleted(deleted=deleted), "Comment deleted successfully.")


@router.get(
    "/{songId}/comments",
    response_model=Envelope[CommentPage],
    summary="A song's comments, newest first, with their replies nested",
)
async def list_comments(
    # No request session: the busiest comments route, mostly answered from what is kept;
    # it reads the database only to make what is not (``listing.page``).
    sessions: ReadSessionsDep,
    counters: CountersDep,
    liked_comments: LikedCommentsDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    principal: PrincipalDep,
    songId: uuid.UUID,
    paging: PagingDep,
    cursor: str | None = None,
) -> Response:
    page = await listing.page(
        sessions,
        counters,
        liked_comments,
        recent,
        songId,
        principal.user_id,
        number=paging.page,
        limit=paging.limit,
        cursor=cursor,
    )
    body = page_body(links, page, paging.page, paging.limit, "Comments fetched.")
    return Response(body, media_type="application/json")


# Told from "/{songId}/comments" by its last segment; after "/analytics/{songId}", which
# answers a GET of "/analytics/replies" ("analytics" is no comment's id).
@router.get(
    "/{commentId}/replies",
    response_model=Envelope[CommentPage],
    summary="A thread's replies, oldest first, flat, each naming its parent",
)
async def list_replies(
    sessions: ReadSessionsDep,
    counters: CountersDep,
    liked_comments: LikedCommentsDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    principal: PrincipalDep,
    thread: ThreadTop,
    limit: CursorLimit,
    cursor: str | None = None,
) -> Response:
    page = await listing.thread_page(
        sessions,
        counters,
        liked_comments,
        recent,
        thread,
        principal.user_id,
        limit=limit,
        cursor=cursor,
    )
    body = page_body(links, page, 1, limit, "Replies fetched.")
    return Response(body, media_type="application/json")


@router.post(
    "/{songId}",
    response_model=Envelope[CommentRead],
    status_code=201,
    dependencies=[JSON_BODY],
    summary="Comment on a song",
)
async def add_comment(
    settings: SettingsDep,
    counters: CountersDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    session: SessionDep,
    principal: PrincipalDep,
    song: ExistingSong,
    body: CommentCreate,
) -> JSONResponse:
    comment = await service.create(
        session, settings, counters, recent, song, principal.user_id, body
    )
    return _added(links, comment, principal, "Comment")


@router.post(
    "/{songId}/reply/{parentId}",
    response_model=Envelope[CommentRead],
    status_code=201,
    dependencies=[JSON_BODY],
    summary="Reply to a comment on the same song",
)
async def reply(
    settings: SettingsDep,
    counters: CountersDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    session: SessionDep,
    principal: PrincipalDep,
    song: ExistingSong,
    parent: ReplyParent,
    body: CommentCreate,
) -> JSONResponse:
    comment = await service.create(
        session, settings, counters, recent, song, principal.user_id, body, parent
    )
    return _added(links, comment, principal, "Reply")


@router.post(
    "/{songId}/close",
    response_model=Envelope[CommentsSwitch],
    dependencies=[JSON_BODY],
    summary="Turn my song's comments off: no new comment or reply is taken",
)
async def close(
    recent: CommentAnswersDep, session: SessionDep, song: OwnedSong
) -> Envelope[CommentsSwitch]:
    await service.set_comments_off(session, recent, song, True)
    return answer(
        CommentsSwitch(songId=song.id, commentsOff=True),
        "Comments turned off: no new comment or reply is taken on this song.",
    )


@router.post(
    "/{songId}/open",
    response_model=Envelope[CommentsSwitch],
    dependencies=[JSON_BODY],
    summary="Turn my song's comments on again",
)
async def open_comments(
    recent: CommentAnswersDep, session: SessionDep, song: OwnedSong
) -> Envelope[CommentsSwitch]:
    await service.set_comments_off(session, recent, song, False)
    return answer(CommentsSwitch(songId=song.id, commentsOff=False), "Comments turned on.")


@router.post(
    "/{commentId}/like",
    response_model=Envelope[CommentLikes],
    dependencies=[JSON_BODY],
    summary="Like a comment (twice is once)",
)
async def like(
    counters: CountersDep,
    recent: CommentAnswersDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    comment: LikeableComment,
) -> Envelope[CommentLikes]:
    likes = await service.like(session, counters, recent, comment, principal.user_id)
    return answer(likes_view(likes), "Comment liked successfully.")


@router.post(
    "/{commentId}/unlike",
    response_model=Envelope[CommentLikes],
    dependencies=[JSON_BODY],
    summary="Unlike a comment (a no-op if not liked)",
)
async def unlike(
    counters: CountersDep,
    recent: CommentAnswersDep,
    session: ReadSessionDep,
    principal: PrincipalDep,
    comment: LikeableComment,
) -> Envelope[CommentLikes]:
    likes = await service.unlike(session, counters, recent, comment, principal.user_id)
    return answer(likes_view(likes), "Comment unliked successfully.")


@router.delete(
    "/{commentId}/delete",
    response_model=Envelope[CommentsDeleted],
    dependencies=[JSON_BODY],
    summary="Delete my comment with its replies (the author)",
)
async def delete_comment(
    counters: CountersDep,
    recent: CommentAnswersDep,
    session: SessionDep,
    comment: AuthoredComment,
) -> Envelope[CommentsDeleted]:
    deleted = await service.remove(session, counters, recent, comment)
    return answer(CommentsDeleted(deleted=deleted), "Comment deleted successfully.")


@router.post(
    "/{commentId}/approve",
    response_model=Envelope[CommentRead],
    summary="Show a held comment to everyone (the song's owner)",
)
async def approve(
    counters: CountersDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    session: SessionDep,
    comment: CommentOnMySong,
) -> JSONResponse:
    shown = await service.approve(session, counters, recent, comment)
    return envelope(shown_view(links, shown), "Comment approved.")
