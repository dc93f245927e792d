"""Search queries, one interface over two engines: pg_trgm on PostgreSQL, FTS5 trigram
tables on SQLite (migration 0002). The query is always data, never a pattern."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, joinedload
from sqlalchemy.sql.elements import ColumnClause

from bandstand.models import Song, User

# Share of the query's trigrams a field must contain: low enough for two typos in a word.
THRESHOLD = 0.4


@dataclass(frozen=True)
class Hits:
    items: Sequence[Any]
    total: int


def like_prefix(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def fts_match(query: str) -> str:
    """An FTS5 query for any trigram of ``query``, each quoted so it is only ever text."""
    lowered = query.lower()
    grams = sorted({lowered[i : i + 3] for i in range(len(lowered) - 2)})
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def _ranked(
    session: AsyncSession,
    stmt: Select[Any],
    table: str,
    query: str,
    columns: Sequence[QueryableAttribute[Any]],
) -> Select[Any]:
    if len(query) <= 2:
        pattern = like_prefix(query)
        return stmt.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    if session.get_bind().dialect.name == "postgresql":
        score = func.greatest(*(func.word_similarity(query, func.coalesce(c, "")) for c in columns))
        matched = or_(*(literal(query).op("<%")(c) for c in columns))
        return stmt.where(matched).order_by(score.desc())
    score = func.max(*(func.bandstand_word_similarity(query, c) for c in columns))
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(f"search_{table}"))
        .where(text(f"search_{table} MATCH :match").bindparams(match=fts_match(query)))
    )
    rowid: ColumnClause[Any] = literal_column(f"{table}.rowid")
    return stmt.where(rowid.in_(candidates), score >= THRESHOLD).order_by(score.desc())


async def _page(session: AsyncSession, stmt: Select[Any], limit: int, offset: int) -> Hits:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await session.execute(counted)).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars().unique().all()
    return Hits(items=rows, total=int(total))


async def use_threshold(session: AsyncSession) -> None:
    """pg_trgm's ``<%`` (which its GIN index serves) reads its threshold from a setting."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {THRESHOLD}"))


async def songs(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    base = select(Song).options(joinedload(Song.owner))
    stmt = _ranked(session, base, "songs", query, [Song.title, Song.genre])
    return await _page(session, stmt.order_by(Song.id.desc()), limit, offset)


async def users(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    base = select(User).where(User.banned_at.is_(None))
    stmt = _ranked(session, base, "users", query, [User.username, User.fullname])
    return await _page(session, stmt.order_by(User.id.desc()), limit, offset)
