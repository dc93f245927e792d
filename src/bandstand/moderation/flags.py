"""Comments the abuse filter flagged go to the moderators' queue as reports the instance
itself raised (no reporter), beside the reports of users."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.models import Comment, Report, ReportReason, TargetType


def flag_comment(session: AsyncSession, comment: Comment, why: str) -> None:
    """Queue ``comment`` (flushed, so it has its id) for the moderators, in the caller's
    transaction: it is in the queue if and only if the comment exists."""
    session.add(
        Report(
            reporter_id=None,
            target_type=TargetType.COMMENT,
            target_id=comment.id,
            target_owner_id=comment.user_id,
            reason=ReportReason.OFFENSIVE,
            note=why,
        )
    )
