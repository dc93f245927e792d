"""What the comments API takes and gives."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.kit.text import plain

MAX_CONTENT = 1000


def _something_to_read(value: str) -> str:
    # Zero-width and other format characters survive strip(): "\u200b" alone is blank.
    if all(unicodedata.category(ch)[0] in "CZ" for ch in value):
        raise ValueError("Write something.")
    return value


# Strict: an object, a list or a number where text belongs is refused, not coerced.
Content = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT),
    AfterValidator(plain),
    AfterValidator(_something_to_read),
]
Timestamp = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]


class CommentCreate(BaseModel):
    """A comment or a reply; ``timestamp`` anchors it to a moment of the song (seconds)."""

    model_config = ConfigDict(extra="forbid")

    content: Content
    timestamp: Timestamp | None = None


class CommentRead(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    content: str
    song: uuid.UUID
    owner: UserPublic = Field(description="The author's public summary")
    parentComment: uuid.UUID | None
    timestamp: float | None = Field(description="Seconds into the song, if anchored")
    sentimentScore: float = Field(description="VADER compound score, -1..1")
    isFlagged: bool
    isHeld: bool = Field(
        description="Waiting for the song owner's approval; only its author and the song's "
        "owner see such a comment"
    )
    hiddenReason: str | None = Field(
        description="Set when a moderator hid it (it is then held): their reason, for its "
        "author and the song's owner, who alone see it"
    )
    likeCount: int = Field(description="Likes of this comment (by anyone)")
    likedByMe: bool
    replyCount: int = Field(
        description="Replies beneath this comment, at every depth, that the caller can see "
        "(a held reply, and everything below it, only by its author and the song's owner). "
        "For a top-level comment: its whole thread, the totalDocs of "
        "GET /comments/{commentId}/replies"
    )
    replies: list[CommentRead] = Field(
        description="Replies, oldest first, nested: in a listing the oldest 3 of the thread "
        "(the rest from GET /comments/{commentId}/replies), in a page of replies none"
    )
    createdAt: datetime
    updatedAt: datetime


class CommentPage(PageMeta):
    commentsOff: bool = Field(
        description="The song's comments are turned off: no new comment or reply is taken"
    )
    docs: list[CommentRead]


class CommentLikes(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    likeCount: int
    likedByMe: bool


class CommentsDeleted(BaseModel):
    deleted: int = Field(description="Comments deleted: the comment and every reply beneath it")


class Breakdown(BaseModel):
    """How a song's comments read: those its ``commentCount`` counts (comments and replies
    not held), so ``Total`` is the song's ``commentCount``."""

    Total: int = Field(
        description="Comments and replies not held, by authors not banned: the song's commentCount"
    )
    Positive: int = Field(description="Of those, scored at least 0.05")
    Negative: int = Field(description="Of those, scored at most -0.05")
    Neutral: int = Field(description="Of those, scored between")


class SentimentReport(BaseModel):
    Payload: Breakdown


class MuteRead(BaseModel):
    """A listener muted on my songs: their new comments and replies on any of them wait
    for my approval."""

    user: UserPublic
    muted: bool
    mutedAt: datetime | None = Field(description="When they were muted; null if they are not")


class MutePage(PageMeta):
    docs: list[MuteRead]


class CommentsSwitch(BaseModel):
    songId: uuid.UUID
    commentsOff: bool = Field(description="No new comment or reply is taken while true")
