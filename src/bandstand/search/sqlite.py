"""Search on SQLite: the FTS5 trigram tables kept by triggers (migrations 0002, 0005, 0007)
give the candidates, rows holding any trigram of the query or of one of its spellings, and
every candidate is scored by ``bandstand_similarity`` (``kit.trigrams.similarity``,
registered on each connection by ``db.py``). Scoring every match is fine at the sizes an
embedded install holds; PostgreSQL reads levels instead (search/postgres.py).

A row matches at ``THRESHOLD`` or above in its best column, a song also by its uploader's
username or full name (at ``NAMED`` or above); matches rank by similarity, then newest
first, through the best ``WINDOW``. One or two characters match the start of a column
instead, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnClause

from bandstand.kit.trigrams import spellings
from bandstand.models import User
from bandstand.search import kinds
from bandstand.search.kinds import THRESHOLD, Hits, Kind, is_prefix, prefix_of


def fts_match(queries: Sequence[str]) -> str:
    """An FTS5 query for any trigram of any of ``queries``, each quoted so it is only ever
    text."""
    grams = sorted(
        {lowered[i : i + 3] for lowered in map(str.lower, queries) for i in range(len(lowered) - 2)}
    )
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def _candidates(table: str, queries: Sequence[str], name: str) -> Select[Any]:
    """The rowids of ``table`` whose FTS5 row holds a trigram of ``queries``."""
    fts = f"search_{table}"
    return (
        select(literal_column("rowid"))
        .select_from(text(fts))
        .where(text(f"{fts} MATCH :{name}").bindparams(**{name: fts_match(queries)}))
    )


def _matching(kind: Kind, query: str) -> tuple[list[ColumnElement[bool]], ColumnElement[float]]:
    """What a match meets, and its score: the best of its columns' (and its owner's
    names'), the query's spellings included."""
    queries = [query, *(spelling for spelling, _ in spellings(query))]
    rowid: ColumnClause[Any] = literal_column(f"{kind.table}.rowid")
    found = [rowid.in_(_candidates(kind.table, queries, "match"))]
    scores = [_similarity(kind, query, column) for column in kind.columns]
    if kind.owner is not None:
        # The people's own table under its plain name, so that it is not correlated with
        # the ``users`` joined for their names.
        people: Select[Any] = (
            select(literal_column("users.id"))
            .select_from(text("users"))
            .where(literal_column("users.rowid").in_(_candidates("users", queries, "people")))
        )
        found.append(kind.owner.in_(people))
        scores += [_named(query, name) for name in kinds.OWNERS]
    # SQLite's max() of several arguments is their greatest (of one, an aggregate).
    score = scores[0] if len(scores) == 1 else func.max(*scores)
    return [or_(*found), score >= THRESHOLD], score


def _similarity(kind: Kind, query: str, column: InstrumentedAttribute[Any]) -> ColumnElement[float]:
    if kind.least(column) > THRESHOLD:
        return _named(query, column)
    return func.bandstand_similarity(query, column)


def _named(query: str, name: InstrumentedAttribute[Any]) -> ColumnElement[float]:
    """A name's similarity, if it is at ``NAMED`` or above (else 0)."""
    similarity = func.bandstand_similarity(query, name)
    return case((similarity >= kinds.NAMED, similarity), else_=0.0)


def _source(kind: Kind, joined: bool) -> FromClause:
    table: FromClause = kind.model.__table__
    if joined and kind.owner is not None:
        return table.join(User.__table__, User.id == kind.owner)
    return table


async def ranked(session: AsyncSession, kind: Kind, query: str, limit: int, offset: int) -> Hits:
    """One page of matching rows, best first, and how many match in all — from one pass
    over the matches: their ids, scores and count first, then the page's rows by id."""
    model, ident = kind.model, kind.ident
    score: ColumnElement[float] | None = None
    if is_prefix(query):
        conditions = [prefix_of(kind, query)]
    else:
        conditions, score = _matching(kind, query)
    conditions = [*kind.where, *conditions]
    source = _source(kind, joined=score is not None)
    columns: list[ColumnElement[Any]] = [ident.label("id"), func.count().over().label("total")]
    order: list[ColumnElement[Any]] = [ident.desc()]
    if score is not None:
        columns.append(score.label("score"))
        order.insert(0, score.desc())
    end = min(offset + limit, kinds.WINDOW)
    ranking = (
        select(*columns)
        .select_from(source)
        .where(*conditions)
        .order_by(*order)
        .limit(max(end - offset, 0))
        .offset(offset)
    ).subquery("ranked")
    ranking_order = [ranking.c.id.desc()]
    if score is not None:
        ranking_order.insert(0, ranking.c.score.desc())
    stmt = (
        select(model, ranking.c.total)
        .join(ranking, ident == ranking.c.id)
        .options(*kind.options)
        .order_by(*ranking_order)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        total = int(rows[0][1])
    elif offset:
        # Past the last page: nothing to rank, but the total is still wanted.
        counted = select(func.count()).select_from(source).where(*conditions)
        total = int((await session.execute(counted)).scalar_one())
    else:
        total = 0
    window = kinds.WINDOW
    return Hits(items=[row[0] for row in rows], total=min(total, window), exact=total <= window)


async def scored(session: AsyncSession, kind: Kind, query: str, limit: int, offset: int) -> Hits:
    """One page of matching ids, best first (playlists)."""
    if is_prefix(query):
        return await kinds.scored_page(session, kind, [prefix_of(kind, query)], None, limit, offset)
    conditions, score = _matching(kind, query)
    return await kinds.scored_page(session, kind, conditions, score, limit, offset)
