"""durable plays and jobs: every play as a row, pending jobs in the database (the outbox)

``plays`` is the truth a song's views are kept from, as ``song_likes`` is for its likes:
``bandstand counters rebuild`` recomputes views from it. ``pending_jobs`` holds each job
from the transaction that asks for it until the job is done, so a job survives a killed
process or an emptied Redis.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "plays",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("song_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("played_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_plays_song_id_songs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_plays_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plays")),
    )
    op.create_index(
        op.f("ix_plays_song_id_played_at"), "plays", ["song_id", "played_at"], unique=False
    )
    op.create_index(
        op.f("ix_plays_user_id_played_at"), "plays", ["user_id", "played_at"], unique=False
    )
    op.create_table(
        "pending_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_jobs")),
    )
    op.create_index(op.f("ix_pending_jobs_run_after"), "pending_jobs", ["run_after"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_pending_jobs_run_after"), table_name="pending_jobs")
    op.drop_table("pending_jobs")
    op.drop_index(op.f("ix_plays_user_id_played_at"), table_name="plays")
    op.drop_index(op.f("ix_plays_song_id_played_at"), table_name="plays")
    op.drop_table("plays")
