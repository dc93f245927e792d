from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bandstand.models.base import Base, IdMixin, TimestampMixin


class TargetType(StrEnum):
    SONG = "song"
    COMMENT = "comment"
    USER = "user"
    PLAYLIST = "playlist"


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    ILLEGAL = "illegal"
    COPYRIGHT = "copyright"
    OTHER = "other"


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ReportAction(StrEnum):
    DISMISS = "dismiss"
    HIDE = "hide"
    REMOVE = "remove"
    BAN = "ban"


class Report(IdMixin, TimestampMixin, Base):
    """A user's report of a song, comment, user or playlist, and how a moderator resolved
    it. A flagged comment enters the same queue as a report with no reporter."""

    __tablename__ = "reports"
    __table_args__ = (
        Index(None, "status", "id"),
        Index(None, "target_type", "target_id", "status"),
        Index(None, "reporter_id", "id"),
        Index(None, "target_owner_id", "action"),
        # One open report per reporter and target.
        Index(
            "uq_reports_open_per_reporter",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    # None: raised by the instance itself (a comment its filter flagged).
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[uuid.UUID]
    # Whose content it is (for their history of upheld reports); None once they are gone.
    target_owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN)
    # How it was resolved (None while open); dismiss means not upheld.
    action: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
