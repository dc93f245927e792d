"""Search queries, one interface over two engines: pg_trgm on PostgreSQL, FTS5 trigram
tables on SQLite (migration 0002). The query is always data, never a pattern."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute, joinedload
from sqlalchemy.orm.interfaces import ORMOption
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


@dataclass(frozen=True)
class _Match:
    conditions: list[ColumnElement[bool]]
    # Similarity to rank by, best first; None for prefix matches, which rank newest first.
    score: ColumnElement[float] | None


def _match(
    session: AsyncSession, table: str, query: str, columns: Sequence[QueryableAttribute[Any]]
) -> _Match:
    if len(query) <= 2:
        pattern = like_prefix(query)
        return _Match([or_(*(c.ilike(pattern, escape="\\") for c in columns))], None)
    if session.get_bind().dialect.name == "postgresql":
        score = func.greatest(*(func.word_similarity(query, func.coalesce(c, "")) for c in columns))
        # ``column %> query`` is ``query <% column`` with the indexed column first: the form
        # the index condition takes, so PostgreSQL checks each row once instead of twice.
        return _Match([or_(*(c.op("%>")(query) for c in columns))], score)
    score = func.max(*(func.bandstand_word_similarity(query, c) for c in columns))
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(f"search_{table}"))
        .where(text(f"search_{table} MATCH :match").bindparams(match=fts_match(query)))
    )
    rowid: ColumnClause[Any] = literal_column(f"{table}.rowid")
    return _Match([rowid.in_(candidates), score >= THRESHOLD], score)


async def _search(
    session: AsyncSession,
    model: type[Song] | type[User],
    match: _Match,
    limit: int,
    offset: int,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    options: Sequence[ORMOption] = (),
) -> Hits:
    """One page of ``model`` rows, best first, and how many match in all — from one pass
    over the matches: their ids, scores and count first, then the page's rows by id."""
    ident: InstrumentedAttribute[Any] = model.id
    conditions = [*where, *match.conditions]
    columns: list[ColumnElement[Any]] = [ident.label("id"), func.count().over().label("total")]
    order: list[ColumnElement[Any]] = [ident.desc()]
    if match.score is not None:
        columns.append(match.score.label("score"))
        order.insert(0, match.score.desc())
    ranked = (
        select(*columns).where(*conditions).order_by(*order).limit(limit).offset(offset)
    ).subquery("ranked")
    ranked_order = [ranked.c.id.desc()]
    if match.score is not None:
        ranked_order.insert(0, ranked.c.score.desc())
    stmt = (
        select(model, ranked.c.total)
        .join(ranked, ident == ranked.c.id)
        .options(*options)
        .order_by(*ranked_order)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        return Hits(items=[row[0] for row in rows], total=int(rows[0][1]))
    if not offset:
        return Hits(items=[], total=0)
    # Past the last page: nothing to rank, but the total is still wanted.
    counted = select(func.count()).select_from(model).where(*conditions)
    return Hits(items=[], total=int((await session.execute(counted)).scalar_one()))


async def use_threshold(session: AsyncSession) -> None:
    """pg_trgm's ``<%`` (which its GIN index serves) reads its threshold from a setting."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {THRESHOLD}"))


async def songs(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    match = _match(session, "songs", query, [Song.title, Song.genre])
    return await _search(session, Song, match, limit, offset, options=[joinedload(Song.owner)])


async def users(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    match = _match(session, "users", query, [User.username, User.fullname])
    return await _search(session, User, match, limit, offset, where=[User.banned_at.is_(None)])
