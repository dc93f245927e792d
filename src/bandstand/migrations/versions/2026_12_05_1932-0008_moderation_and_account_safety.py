"""moderation and account safety: reports, the audit log, bans, takedowns, hidden
comments and playlists, mutes, comments turned off, two-factor login, email changes

Every new column is nullable or has a default, so existing rows need nothing. Columns are
added by plain ALTER TABLE on both dialects: SQLite's batch mode would rebuild songs,
users and playlists, and drop their search triggers with them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 19:32:30

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NEW_COLUMNS: tuple[tuple[str, sa.Column[Any]], ...] = (
    ("comments", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True)),
    ("playlists", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True)),
    ("songs", sa.Column("taken_down_at", sa.DateTime(timezone=True), nullable=True)),
    ("songs", sa.Column("takedown_reason", sa.Text(), nullable=True)),
    ("songs", sa.Column("comments_off", sa.Boolean(), server_default=sa.false(), nullable=False)),
    ("users", sa.Column("ban_reason", sa.Text(), nullable=True)),
    ("users", sa.Column("banned_until", sa.DateTime(timezone=True), nullable=True)),
    ("users", sa.Column("totp_secret", sa.String(length=300), nullable=True)),
    ("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True)),
    ("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True)),
    (
        "users",
        sa.Column("storage_used", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    ),
    ("users", sa.Column("uploads_day", sa.Date(), nullable=True)),
    (
        "users",
        sa.Column("uploads_today", sa.Integer(), server_default=sa.text("0"), nullable=False),
    ),
)
SONG_KEY_INDEXES = (
    ("ix_songs_audio_key", "audio_key"),
    ("ix_songs_thumbnail_key", "thumbnail_key"),
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_log",
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "email_changes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_email_changes")),
    )
    op.create_table(
        "mutes",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_mutes_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mutes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner_id", "user_id", name=op.f("pk_mutes")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "reports",
        sa.Column("reporter_id", sa.Uuid(), nullable=True),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("target_owner_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_reports_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_owner_id"],
            ["users.id"],
            name=op.f("fk_reports_target_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_reporter_id_id"), ["reporter_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reports_status_id"), ["status", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reports_target_owner_id_action"),
            ["target_owner_id", "action"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reports_target_type_target_id_status"),
            ["target_type", "target_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "uq_reports_open_per_reporter",
            ["reporter_id", "target_type", "target_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    # Plain ADD COLUMN, not batch mode: rebuilding songs, users or playlists on SQLite
    # would drop their search triggers.
    for table, column in NEW_COLUMNS:
        op.add_column(table, column)
    op.execute(
        "UPDATE users SET storage_used = COALESCE("
        "(SELECT SUM(audio_size) FROM songs WHERE songs.owner_id = users.id), 0)"
    )
    op.create_index("ix_audit_log_actor_id_id", "audit_log", ["actor_id", "id"])
    op.create_index("ix_audit_log_target_id_id", "audit_log", ["target_id", "id"])
    # Media routes find a song by its files' keys. On PostgreSQL built CONCURRENTLY, outside
    # the migration's transaction, as 0007 does: a live catalogue keeps taking writes.
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, key in SONG_KEY_INDEXES:
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON songs ({key})")
    else:
        for name, key in SONG_KEY_INDEXES:
            op.create_index(name, "songs", [key])


def downgrade() -> None:
    """Downgrade schema."""
    for name, _ in SONG_KEY_INDEXES:
        op.drop_index(name, table_name="songs")
    op.drop_index("ix_audit_log_target_id_id", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id_id", table_name="audit_log")
    for table, column in reversed(NEW_COLUMNS):
        op.drop_column(table, column.name)

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reports_open_per_reporter",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_reports_target_type_target_id_status"))
        batch_op.drop_index(batch_op.f("ix_reports_target_owner_id_action"))
        batch_op.drop_index(batch_op.f("ix_reports_status_id"))
        batch_op.drop_index(batch_op.f("ix_reports_reporter_id_id"))

    op.drop_table("reports")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    op.drop_table("mutes")
    op.drop_table("email_changes")
    op.drop_table("audit_log")
