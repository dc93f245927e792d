"""releases and music apps: releases (album, EP, single) with their songs in order, the
content hash an import matches on, app passwords for the /rest API, ratings and what each
listener is playing now

The song columns are added by plain ALTER TABLE on both dialects (SQLite's batch mode
would rebuild songs and drop its search triggers); SQLite takes the foreign key inline.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:13:38

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(table: str, column: str = "user_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "app_passwords",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sealed_secret", sa.String(length=300), nullable=False),
        sa.Column("lookup", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _user_fk("app_passwords"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_passwords")),
        sa.UniqueConstraint("lookup", name=op.f("uq_app_passwords_lookup")),
    )
    op.create_index(op.f("ix_app_passwords_user_id"), "app_passwords", ["user_id"])
    op.create_table(
        "releases",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("releases", "owner_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
    )
    op.create_index(op.f("ix_releases_created_at_id"), "releases", ["created_at", "id"])
    op.create_index(op.f("ix_releases_owner_id_id"), "releases", ["owner_id", "id"])
    op.create_table(
        "now_playing",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("song_id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_now_playing_song_id_songs"), ondelete="CASCADE"
        ),
        _user_fk("now_playing"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_now_playing")),
    )
    op.create_index(op.f("ix_now_playing_started_at"), "now_playing", ["started_at"])
    op.create_table(
        "song_ratings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("song_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["song_id"],
            ["songs.id"],
            name=op.f("fk_song_ratings_song_id_songs"),
            ondelete="CASCADE",
        ),
        _user_fk("song_ratings"),
        sa.PrimaryKeyConstraint("user_id", "song_id", name=op.f("pk_song_ratings")),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE songs ADD COLUMN release_id CHAR(32) "
            "CONSTRAINT fk_songs_release_id_releases REFERENCES releases (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("songs", sa.Column("release_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_songs_release_id_releases"),
            "songs",
            "releases",
            ["release_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("songs", sa.Column("track", sa.Integer(), nullable=True))
    op.add_column("songs", sa.Column("content_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_songs_owner_id_content_hash"), "songs", ["owner_id", "content_hash"])
    op.create_index(op.f("ix_songs_release_id_track"), "songs", ["release_id", "track"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_songs_release_id_track"), "songs")
    op.drop_index(op.f("ix_songs_owner_id_content_hash"), "songs")
    op.drop_column("songs", "content_hash")
    op.drop_column("songs", "track")
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_songs_release_id_releases"), "songs", type_="foreignkey")
    op.drop_column("songs", "release_id")
    for table in ("song_ratings", "now_playing", "releases", "app_passwords"):
        op.drop_table(table)
