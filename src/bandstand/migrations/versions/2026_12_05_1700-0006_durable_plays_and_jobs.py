"""durable plays and jobs: every play as a row, pending jobs in the database (the outbox)

``plays`` is the truth a song's views are kept from, as ``song_likes`` is for its likes:
``bandstand counters rebuild`` recomputes views from it. Views counted before this
revision have no rows: each becomes one row (no listener, ``counted``), on the day
``song_daily`` counted it (at midnight UTC), and any views beyond the daily series at the
song's creation, so that every song's views equal its counted plays from the start. Views
still pending in Redis at the upgrade are not among them: the first rebuild drops
them. ``pending_jobs`` holds each job from the transaction that asks for it until the
job is done, so a job survives a killed process or an emptied Redis. Songs processed
before the gain was limited by the true peak get the limit too: gain never lifts the
true peak past -1 dBTP (media/loudness.normalising_gain).

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
    _plays_for_past_views()
    op.execute(
        # Rounded first, as normalising_gain does: 0.67 * 100 is 66.99999999999999.
        "UPDATE songs SET gain_db = "
        "FLOOR(ROUND(CAST((-1 - true_peak_dbtp) * 100 AS NUMERIC), 6)) / 100.0 "
        "WHERE true_peak_dbtp IS NOT NULL AND gain_db > -1 - true_peak_dbtp"
    )
    # After the backfill: building an index once is cheaper than keeping it per row.
    op.create_index(
        op.f("ix_plays_song_id_counted_played_at"),
        "plays",
        ["song_id", "counted", "played_at"],
        unique=False,
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
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_jobs")),
    )
    op.create_index(op.f("ix_pending_jobs_run_after"), "pending_jobs", ["run_after"], unique=False)


# One row per view already counted: per day from song_daily, the rest at the song's
# creation. ``n`` is a day-row's count of views; ids are random (uuid4), not time-ordered.
# SQLite has no generate_series: each day-row counts itself down to 1, so the work is the
# number of rows written (joining every day-row with one series up to the largest count
# was quadratic: minutes inside ``serve``'s start-up on a large library).
_PAST_VIEWS_POSTGRES = """
WITH days AS (
    SELECT song_id, day::timestamp AT TIME ZONE 'UTC' AS at, plays AS n
    FROM song_daily WHERE plays > 0
    UNION ALL
    SELECT t.song_id, s.created_at, t.views - coalesce(d.plays, 0)
    FROM song_stats t JOIN songs s ON s.id = t.song_id
    LEFT JOIN (SELECT song_id, sum(plays) AS plays FROM song_daily GROUP BY song_id) d
      ON d.song_id = t.song_id
    WHERE t.views > coalesce(d.plays, 0)
)
INSERT INTO plays (id, song_id, user_id, played_at, counted)
SELECT gen_random_uuid(), days.song_id, NULL, days.at, true
FROM days CROSS JOIN LATERAL generate_series(1, days.n::bigint) AS g(n)
"""

_PAST_VIEWS_SQLITE = """
WITH RECURSIVE days(song_id, at, n) AS (
    SELECT song_id, day || ' 00:00:00.000000', plays FROM song_daily WHERE plays > 0
    UNION ALL
    SELECT t.song_id, s.created_at, t.views - coalesce(d.plays, 0)
    FROM song_stats t JOIN songs s ON s.id = t.song_id
    LEFT JOIN (SELECT song_id, sum(plays) AS plays FROM song_daily GROUP BY song_id) d
      ON d.song_id = t.song_id
    WHERE t.views > coalesce(d.plays, 0)
),
countdown(song_id, at, k) AS (
    SELECT song_id, at, n FROM days
    UNION ALL
    SELECT song_id, at, k - 1 FROM countdown WHERE k > 1
)
INSERT INTO plays (id, song_id, user_id, played_at, counted)
SELECT lower(hex(randomblob(16))), song_id, NULL, at, 1
FROM countdown
"""


def _plays_for_past_views() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(sa.text(_PAST_VIEWS_POSTGRES if postgres else _PAST_VIEWS_SQLITE))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_pending_jobs_run_after"), table_name="pending_jobs")
    op.drop_table("pending_jobs")
    op.drop_index(op.f("ix_plays_user_id_played_at"), table_name="plays")
    op.drop_index(op.f("ix_plays_song_id_counted_played_at"), table_name="plays")
    op.drop_table("plays")
