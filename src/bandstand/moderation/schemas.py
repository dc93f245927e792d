"""What the moderation API takes and gives. Inputs refuse unknown fields: a report names
its target and why, never its status or owner; a moderator's action says why, nothing
else."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from bandstand.accounts.schemas import UserPublic
from bandstand.kit.pagination import PageMeta
from bandstand.models import ReportAction, ReportReason, ReportStatus, Role, TargetType

MAX_NOTE, MAX_REASON = 1000, 500

# A note may break lines; neither it nor a reason takes other control characters
# (PostgreSQL cannot store NUL at all).
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _text(value: str) -> str:
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("Control characters are not allowed.")
    return value


Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE), AfterValidator(_text)
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON),
    AfterValidator(_text),
]
OptionalReason = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_REASON), AfterValidator(_text)
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportCreate(Input):
    targetType: TargetType
    targetId: uuid.UUID
    reason: ReportReason
    note: Note = ""


class Resolution(Input):
    action: ReportAction
    note: Note = ""


class RoleChange(Input):
    role: Role


class BanCreate(Input):
    reason: Reason
    # When the ban ends by itself; none: until a moderator lifts it.
    until: datetime | None = None


class WithReason(Input):
    """Why: shown to the owner (a takedown, a ban) and kept in the audit log."""

    reason: Reason


class MaybeReason(Input):
    """Why, if the moderator says (kept in the audit log)."""

    reason: OptionalReason = ""


class ReportRead(BaseModel):
    """A report as its reporter sees it: what they reported and what became of it."""

    id: uuid.UUID = Field(serialization_alias="_id")
    targetType: TargetType
    targetId: uuid.UUID
    reason: ReportReason
    note: str
    status: ReportStatus
    action: ReportAction | None = Field(description="How it was resolved; null while open")
    createdAt: datetime
    resolvedAt: datetime | None


class ReportPage(PageMeta):
    docs: list[ReportRead]


class TargetContent(BaseModel):
    """The reported target as it is now. The fields its type has are set: a song's
    ``title`` and ``artist``; a comment's ``content`` and ``songId``; a user's
    ``username`` and ``fullname``; a playlist's ``name`` and ``description``."""

    title: str | None = None
    artist: str | None = None
    content: str | None = None
    songId: uuid.UUID | None = None
    username: str | None = None
    fullname: str | None = None
    name: str | None = None
    description: str | None = None
    hidden: bool = Field(
        description="Out of sight already: taken down, hidden by a moderator, or banned"
    )


class QueueItem(ReportRead):
    """A report as moderators see it."""

    reporter: UserPublic | None = Field(description="null: the instance's own abuse filter")
    target: TargetContent | None = Field(description="null: the target is gone")
    targetOwner: UserPublic | None
    otherOpenReports: int = Field(description="Other open reports of the same target")
    ownerUpheldReports: int = Field(
        description="Reports of the target owner's content resolved with an action"
    )
    resolutionNote: str | None


class QueuePage(PageMeta):
    docs: list[QueueItem]


class Resolved(BaseModel):
    targetType: TargetType
    targetId: uuid.UUID
    action: ReportAction
    reportsResolved: int


class UserStanding(BaseModel):
    """A user's role and ban, as moderators see them."""

    id: uuid.UUID = Field(serialization_alias="_id")
    username: str
    fullname: str
    role: Role
    bannedAt: datetime | None
    banReason: str | None
    bannedUntil: datetime | None


class SongStanding(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    title: str
    owner: uuid.UUID
    takenDownAt: datetime | None
    takedownReason: str | None


class CommentStanding(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    song: uuid.UUID
    owner: uuid.UUID
    isHeld: bool
    hiddenAt: datetime | None


class PlaylistStanding(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    playlist_name: str
    owner: uuid.UUID
    hiddenAt: datetime | None


class AuditRead(BaseModel):
    id: uuid.UUID = Field(serialization_alias="_id")
    actorId: uuid.UUID | None = Field(description="null: the instance itself, or a gone account")
    actorName: str
    action: str
    targetType: str
    targetId: uuid.UUID
    reason: str
    createdAt: datetime


class AuditPage(PageMeta):
    docs: list[AuditRead]


QueueStatus = Literal["open", "resolved"]
