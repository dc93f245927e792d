"""hidden reasons: what the moderator said when hiding a comment or a playlist, shown to
its owner as a takedown's reason is

Plain ALTER TABLE on both dialects, as 0008: SQLite's batch mode would rebuild playlists
and drop its search triggers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 22:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("comments", "playlists")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("hidden_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "hidden_reason")
