"""media processing: what the worker makes of a song, and its waveform

Plain ADD COLUMN on both dialects (no SQLite batch), so the search triggers of 0002 stay.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:00:00

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("failure_reason", sa.String(length=300)),
    ("hls_key", sa.String(length=200)),
    ("progressive_key", sa.String(length=200)),
    ("loudness_lufs", sa.Double()),
    ("true_peak_dbtp", sa.Double()),
    ("gain_db", sa.Double()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("songs", sa.Column(name, type_, nullable=True))
    op.create_table(
        "song_waveforms",
        sa.Column("song_id", sa.Uuid(), nullable=False),
        sa.Column("peaks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["song_id"],
            ["songs.id"],
            name=op.f("fk_song_waveforms_song_id_songs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("song_id", name=op.f("pk_song_waveforms")),
    )


def downgrade() -> None:
    op.drop_table("song_waveforms")
    for name, _ in reversed(COLUMNS):
        op.drop_column("songs", name)
