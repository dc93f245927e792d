"""The song page: a song with its waveform (the stored peaks) and its comments, and what a
listener does there: comment (at a moment), reply, like, add to a playlist, report.

Each route calls the service its JSON counterpart calls (``songs/router.py``,
``comments/router.py``, ``playlists/router.py``, ``moderation/router.py``), with the same
reader for the song (``songs.repository.song``, who may see it), so the page and the API
cannot disagree. A new comment or reply is read back by the listing only once committed,
so those routes redirect to the page; the other actions answer the page with what they
did, or with the service's refusal beside the form (4xx).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from bandstand import db
from bandstand.accounts.deps import MaybePrincipalDep, Principal
from bandstand.comments import listing
from bandstand.comments import service as comments
from bandstand.comments.liked import LikedLookup
from bandstand.comments.recent import Recent
from bandstand.comments.schemas import CommentCreate
from bandstand.comments.views import page_view as comments_view
from bandstand.config import Settings
from bandstand.engagement import repository as engagement_repo
from bandstand.engagement import service as engagement
from bandstand.engagement.counters import Counters
from bandstand.engagement.likes import Likes
from bandstand.errors import AppError, BadRequest, NotFound
from bandstand.media.links import Links
from bandstand.models import ReportReason, Song, TargetType
from bandstand.moderation import service as moderation
from bandstand.moderation.schemas import ReportCreate
from bandstand.playlists import service as playlists
from bandstand.playlists.deps import must_own, visible_to
from bandstand.resources import (
    CommentAnswersDep,
    CountersDep,
    LikedCommentsDep,
    LikesDep,
    LinksDep,
    ReadSessionsDep,
    Sessions,
    SettingsDep,
)
from bandstand.songs import repository as songs_repo
from bandstand.songs import service as songs
from bandstand.songs.cards import read_card
from bandstand.songs.views import song_view
from bandstand.web.auth import ViewerRequired
from bandstand.web.csrf import CSRF
from bandstand.web.templating import render

router = APIRouter()
COMMENTS_PER_PAGE = 20
REPLIES_PER_PAGE = 100
MY_PLAYLISTS = 100


@dataclass(frozen=True)
class Said:
    """What an action answered, shown beside its form (``section``)."""

    section: str
    message: str
    ok: bool = True
    # The song's like as the like or unlike left it (the page cannot read it otherwise).
    liked: bool | None = None


@dataclass(frozen=True)
class Kit:
    """What the song page is rendered from, gathered once per request."""

    request: Request
    settings: Settings
    session: AsyncSession
    read_sessions: Sessions
    counters: Counters
    liked_comments: LikedLookup
    recent: Recent
    links: Links
    viewer: Principal | None

    @property
    def reader(self) -> uuid.UUID:
        """Who reads the comments: the viewer, or a listener who wrote and owns nothing."""
        return self.viewer.user_id if self.viewer else listing.EVERYONE.user_id


async def _kit(
    request: Request,
    settings: SettingsDep,
    session: db.SessionDep,
    read_sessions: ReadSessionsDep,
    counters: CountersDep,
    liked_comments: LikedCommentsDep,
    recent: CommentAnswersDep,
    links: LinksDep,
    viewer: MaybePrincipalDep,
) -> Kit:
    return Kit(
        request, settings, session, read_sessions, counters, liked_comments, recent, links, viewer
    )


KitDep = Annotated[Kit, Depends(_kit)]
Text = Annotated[str, Form()]


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _song(kit: Kit, song_id: str) -> Song:
    """The song if the viewer may see it (the JSON ``GET /songs/{songId}``'s reader)."""
    ident = _uuid(song_id)
    viewer_id = kit.viewer.user_id if kit.viewer else None
    song = await songs_repo.song(kit.session, ident, viewer_id) if ident else None
    if song is None:
        raise NotFound("This song does not exist, or is no longer available.")
    return song


async def _peaks(session: AsyncSession, song: Song) -> list[float] | None:
    try:
        return [round(peak, 3) for peak in await songs.waveform(session, song)]
    except NotFound:
        return None


def _marks(docs: list[dict[str, Any]], duration: float | None) -> list[dict[str, Any]]:
    """The timestamped comments among ``docs`` (replies too), as marks on the waveform."""
    found, stack = [], list(docs)
    while stack:
        doc = stack.pop()
        stack.extend(doc["replies"])
        if doc["timestamp"] is not None and duration:
            left = min(100.0, 100 * doc["timestamp"] / duration)
            found.append({"doc": doc, "left": round(left, 2)})
    return sorted(found, key=lambda mark: mark["doc"]["timestamp"])


async def _comments(kit: Kit, song_id: uuid.UUID, cursor: str | None) -> dict[str, Any]:
    found = await listing.page(
        kit.read_sessions,
        kit.counters,
        kit.liked_comments,
        kit.recent,
        song_id,
        kit.reader,
        number=1,
        limit=COMMENTS_PER_PAGE,
        cursor=cursor,
    )
    return comments_view(kit.links, found, 1, COMMENTS_PER_PAGE)


async def _thread(kit: Kit, song_id: uuid.UUID, top_id: uuid.UUID) -> dict[str, Any]:
    """All of one thread's replies (``GET /comments/{commentId}/replies``), flat."""
    top = await comments.visible_comment(kit.session, top_id, kit.reader)
    if top.song_id != song_id or top.root_id is not None:
        raise NotFound("Comment not found.")
    found = await listing.thread_page(
        kit.read_sessions,
        kit.counters,
        kit.liked_comments,
        kit.recent,
        top,
        kit.reader,
        limit=REPLIES_PER_PAGE,
        cursor=None,
    )
    return {"id": str(top_id), "docs": comments_view(kit.links, found, 1, REPLIES_PER_PAGE)["docs"]}


async def _my_playlists(kit: Kit) -> list[dict[str, Any]]:
    if kit.viewer is None:
        return []
    mine = await playlists.newest_page(
        kit.session,
        viewer_id=kit.viewer.user_id,
        owner_id=kit.viewer.user_id,
        page=1,
        limit=MY_PLAYLISTS,
    )
    return [{"id": str(card.id), "name": card.name} for card in mine.cards]


async def _page(
    kit: Kit,
    song_id: str,
    *,
    status: int = 200,
    said: Said | None = None,
    draft: str = "",
    thread: uuid.UUID | None = None,
    cursor: str | None = None,
) -> Response:
    song = await _song(kit, song_id)
    shown = song_view(kit.links, await read_card(kit.counters, song))
    found = await _comments(kit, song.id, cursor)
    expanded = await _thread(kit, song.id, thread) if thread else None
    marks = _marks(found["docs"] + (expanded["docs"] if expanded else []), song.duration)
    return render(
        kit.request,
        kit.settings,
        "song.html",
        kit.viewer,
        status=status,
        song=shown,
        peaks=await _peaks(kit.session, song),
        comments=found,
        thread=expanded,
        marks=marks,
        playlists=await _my_playlists(kit),
        reasons=[reason.value for reason in ReportReason],
        link=f"{kit.settings.public_url.rstrip('/')}/songs/{song.id}",
        said=said,
        draft=draft,
        liked=said.liked if said and said.liked is not None else await _likes(kit, song),
    )


async def _likes(kit: Kit, song: Song) -> bool:
    """Whether the viewer likes the song (as a like or unlike just left it, in the
    Likes store's rows)."""
    return kit.viewer is not None and await engagement_repo.likes(
        kit.session, kit.viewer.user_id, song.id
    )


def _refusal(exc: AppError | ValidationError) -> tuple[int, str]:
    if isinstance(exc, AppError):
        details = "; ".join(error["message"] for error in exc.errors)
        return exc.status_code, f"{exc.message} {details}".strip()
    first = exc.errors()[0]
    return 400, str(first["msg"]).removeprefix("Value error, ")


def _error_page(kit: Kit, exc: AppError) -> Response:
    heading = "Song not found" if exc.status_code == 404 else "Something is not right"
    return render(
        kit.request,
        kit.settings,
        "error.html",
        kit.viewer,
        status=exc.status_code,
        heading=heading,
        message=exc.message,
    )


Action = Callable[[Principal, Song], Awaitable[Said | Response]]


async def _act(
    kit: Kit, viewer: Principal, song_id: str, section: str, action: Action, draft: str = ""
) -> Response:
    """Run the listener's ``action`` on the song they may see; answer the page with what
    it said, or with its refusal (and nothing it did kept). The routes declare
    ``ViewerRequired``: signed out, a form is sent to sign in, and an htmx one answered
    401, so the page's script renews the login and sends it again."""
    try:
        song = await _song(kit, song_id)
    except NotFound as exc:
        return _error_page(kit, exc)
    try:
        done = await action(viewer, song)
    except (AppError, ValidationError) as exc:
        if not getattr(exc, "keep_changes", False):
            await db.rollback(kit.session)
        status, message = _refusal(exc)
        said = Said(section, message, ok=False)
        answer = await _page(kit, song_id, status=status, said=said, draft=draft)
    else:
        if isinstance(done, Response):
            return done
        answer = await _page(kit, song_id, said=done)
    # The page the form was sent from answers it: its address is the one to keep.
    answer.headers["HX-Replace-Url"] = f"/songs/{song.id}"
    return answer


def _moment(at_moment: str | None, timestamp: str) -> float | None:
    if not at_moment or not timestamp.strip():
        return None
    try:
        return float(timestamp)
    except ValueError:
        raise BadRequest("The moment of the song is not a number of seconds.") from None


def _to_comment(song: Song, comment_id: uuid.UUID) -> RedirectResponse:
    return RedirectResponse(f"/songs/{song.id}#comment-{comment_id}", status_code=303)


@router.get("/songs/{songId}")
async def song_page(
    kit: KitDep, songId: str, thread: str | None = None, cursor: str | None = None
) -> Response:
    try:
        return await _page(kit, songId, thread=_uuid(thread), cursor=cursor)
    except AppError as exc:
        return _error_page(kit, exc)


@router.post("/songs/{songId}/comments", dependencies=[CSRF])
async def comment(
    kit: KitDep,
    viewer: ViewerRequired,
    songId: str,
    content: Text = "",
    timestamp: Text = "",
    at_moment: Annotated[str | None, Form()] = None,
) -> Response:
    async def action(me: Principal, song: Song) -> Response:
        body = CommentCreate(content=content, timestamp=_moment(at_moment, timestamp))
        added = await comments.create(
            kit.session, kit.settings, kit.counters, kit.recent, song, me.user_id, body
        )
        return _to_comment(song, added.id)

    return await _act(kit, viewer, songId, "comment", action, draft=content)


@router.post("/songs/{songId}/comments/{commentId}/replies", dependencies=[CSRF])
async def reply(
    kit: KitDep, viewer: ViewerRequired, songId: str, commentId: str, content: Text = ""
) -> Response:
    async def action(me: Principal, song: Song) -> Response:
        parent = await _comment(kit.session, song, commentId, me)
        body = CommentCreate(content=content)
        added = await comments.create(
            kit.session, kit.settings, kit.counters, kit.recent, song, me.user_id, body, parent
        )
        return _to_comment(song, added.id)

    return await _act(kit, viewer, songId, f"reply-{commentId}", action, draft=content)


async def _comment(
    session: AsyncSession, song: Song, comment_id: str, me: Principal
) -> comments.CommentRef:
    ident = _uuid(comment_id)
    found = await comments.visible_comment(session, ident, me.user_id) if ident else None
    if found is None or found.song_id != song.id:
        raise NotFound("Comment not found.")
    return found


def _comment_liking(read_session: AsyncSession, kit: Kit, comment_id: str, like: bool) -> Action:
    async def action(me: Principal, song: Song) -> Said:
        found = await _comment(read_session, song, comment_id, me)
        change = comments.like if like else comments.unlike
        await change(read_session, kit.counters, kit.recent, found, me.user_id)
        return Said(f"comment-{comment_id}", "Liked." if like else "Like withdrawn.")

    return action


@router.post("/songs/{songId}/comments/{commentId}/like", dependencies=[CSRF])
async def like_comment(
    kit: KitDep,
    viewer: ViewerRequired,
    read_session: db.ReadSessionDep,
    songId: str,
    commentId: str,
) -> Response:
    action = _comment_liking(read_session, kit, commentId, True)
    return await _act(kit, viewer, songId, f"comment-{commentId}", action)


@router.post("/songs/{songId}/comments/{commentId}/unlike", dependencies=[CSRF])
async def unlike_comment(
    kit: KitDep,
    viewer: ViewerRequired,
    read_session: db.ReadSessionDep,
    songId: str,
    commentId: str,
) -> Response:
    action = _comment_liking(read_session, kit, commentId, False)
    return await _act(kit, viewer, songId, f"comment-{commentId}", action)


def _song_liking(likes: Likes, like: bool) -> Action:
    async def action(me: Principal, song: Song) -> Said:
        change = engagement.like if like else engagement.unlike
        await change(likes, me.user_id, song.id)
        return Said("like", "You like this song." if like else "Like withdrawn.", liked=like)

    return action


@router.post("/songs/{songId}/like", dependencies=[CSRF])
async def like_song(kit: KitDep, viewer: ViewerRequired, likes: LikesDep, songId: str) -> Response:
    return await _act(kit, viewer, songId, "like", _song_liking(likes, True))


@router.post("/songs/{songId}/unlike", dependencies=[CSRF])
async def unlike_song(
    kit: KitDep, viewer: ViewerRequired, likes: LikesDep, songId: str
) -> Response:
    return await _act(kit, viewer, songId, "like", _song_liking(likes, False))


@router.post("/songs/{songId}/playlist", dependencies=[CSRF])
async def add_to_playlist(
    kit: KitDep, viewer: ViewerRequired, songId: str, playlist: Text = ""
) -> Response:
    async def action(me: Principal, song: Song) -> Said:
        ident = _uuid(playlist)
        if ident is None:
            raise BadRequest("Choose one of your playlists.")
        mine = must_own(await visible_to(kit.session, me, ident), me)
        await playlists.add_songs(kit.session, kit.counters, mine, [song.id])
        return Said("playlist", f"Added to {mine.name}.")

    return await _act(kit, viewer, songId, "playlist", action)


@router.post("/songs/{songId}/report", dependencies=[CSRF])
async def report(
    kit: KitDep, viewer: ViewerRequired, songId: str, reason: Text = "", note: Text = ""
) -> Response:
    async def action(me: Principal, song: Song) -> Said:
        body = ReportCreate.model_validate(
            {"targetType": TargetType.SONG, "targetId": song.id, "reason": reason, "note": note}
        )
        await moderation.file_report(kit.session, me.user_id, body)
        return Said("report", "Thank you: a moderator will look at this song.")

    return await _act(kit, viewer, songId, "report", action)
