"""search: GiST trigram indexes that list the nearest matches first (PostgreSQL only)

The GIN indexes of 0002 find every row above a similarity threshold but cannot say which
are best, so ranking a common word meant scoring every match. A GiST trigram index can
walk the rows nearest to a query first (``ORDER BY lower(title) <->> q LIMIT n``), which
is how search ranks a column with many exact matches (see search/repository.py).

The indexes are on ``lower(column)``, which has the same trigrams as the column (pg_trgm
lower-cases), so only queries that ask for that expression use them: the planner never
swaps one in for the GIN index under ``%>`` or ``ILIKE``, where a GiST bitmap scan is
many times slower. ``siglen=256`` (bytes per signature, default 12) keeps the inner pages
of a million titles selective enough to prune; larger ones were no faster.

Built CONCURRENTLY, outside the migration's transaction, so a live catalogue keeps taking
writes meanwhile: about a minute and 190 MB for a million songs and 100 000 users (an
interrupted build leaves an INVALID index, to drop before migrating again). Writes pay for
them: bulk-loading a million songs took 165 s instead of 47 s. SQLite is unchanged: its
FTS5 tables are scored in full, fine at the sizes an embedded install holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEAREST = (("songs", "title"), ("songs", "genre"), ("users", "username"), ("users", "fullname"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for table, column in NEAREST:
            op.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS search_{table}_{column}_nearest "
                f"ON {table} USING gist (lower({column}) gist_trgm_ops(siglen=256))"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for table, column in NEAREST:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS search_{table}_{column}_nearest")
