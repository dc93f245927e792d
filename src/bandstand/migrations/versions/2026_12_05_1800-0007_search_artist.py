"""search: songs are found by their artist too

PostgreSQL gets the two trigram indexes the other searched columns have: GIN (as in 0002)
to find the matches at a similarity, GiST on ``lower(artist)`` (as in 0004) to walk them
nearest first. Built CONCURRENTLY, outside the migration's transaction, so a live
catalogue keeps taking writes meanwhile (an interrupted build leaves an INVALID index, to
drop before migrating again). A song's uploader's names need no new index: songs reach
them through ``ix_songs_owner_id_id`` and the users' indexes of 0002 and 0004.

SQLite's FTS5 table of songs is made again with the artist beside title and genre (its
triggers with it, as in 0002) and rebuilt from the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 18:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("search_songs_artist_trgm", "gin (artist gin_trgm_ops)"),
    ("search_songs_artist_nearest", "gist (lower(artist) gist_trgm_ops(siglen=256))"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, using in INDEXES:
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON songs USING {using}")
    else:
        _songs_fts(("title", "genre", "artist"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, _ in INDEXES:
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    else:
        _songs_fts(("title", "genre"))


def _songs_fts(columns: tuple[str, ...]) -> None:
    """The FTS5 table of songs over ``columns``, its triggers, and its rows, made again."""
    fts = "search_songs"
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {fts}")
    names = ", ".join(columns)
    new = ", ".join(f"coalesce(new.{c}, '')" for c in columns)
    old = ", ".join(f"coalesce(old.{c}, '')" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='songs', "
        "content_rowid='rowid', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON songs BEGIN "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.rowid, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON songs BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON songs BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old}); "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.rowid, {new}); END"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
