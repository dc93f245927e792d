"""Search queries, one interface over two engines: pg_trgm on PostgreSQL, FTS5 trigram
tables on SQLite (migration 0002). The query is always data, never a pattern.

A row matches when one of its searched columns holds at least ``THRESHOLD`` of the query's
trigrams (word similarity), and matches rank by their best column's similarity; one or two
characters match the start of a column instead, newest first. Each kind pages through at
most its best ``WINDOW`` matches. ``Hits.total`` is exact when the search saw every match
(``Hits.exact``); otherwise it counts those it knows of, so it is a lower bound.

SQLite scores every match, which is fine at the sizes an embedded install holds. On
PostgreSQL that took up to a second in a million songs, so there a search reads levels of
similarity from the top, each only if the levels above leave room on the page:

1. **exact** matches (similarity 1), from the GIN indexes of 0002, which check every query
   trigram at once. A column with more than ``HEAD`` of them is *walked* instead: the GiST
   index of 0004 lists its matches nearest first (``ORDER BY lower(col) <->> q``) and the
   walk stops at the page. Rows tied in similarity come in the index's order, which is
   stable while the index is unchanged, so pages neither overlap nor skip.
2. **close** matches, about one typo away (``head_threshold``), from the GIN indexes. When
   a column has more than ``HEAD`` (a typo in a common word), they are narrowed down to the
   most similar (``_Levels._narrow``), whose ties come in table order, and the column ends
   there: walking the GiST index instead would read every close match before the first.
3. **weak** matches, down to ``THRESHOLD``, fetched only when the page goes past the
   others: the first ``WINDOW`` found in table order, ranked among themselves (with more
   than that, the best of those rather than the best of all).

Other ties rank newest first. Neither index would do alone: the GIN index cannot rank, so
a common word meant scoring thousands of rows, and the GiST walk costs tens of milliseconds
whenever no row is very close (a typo, a phrase, no match at all), as its inner pages then
prune little.

Playlists (migration 0005) are searched by name more simply, on both engines alike
(``playlists``): the candidates come from the name's index (the GIN index on PostgreSQL,
the FTS5 table on SQLite), every candidate at ``THRESHOLD`` or above is scored, and they
rank by similarity, then newest first, through the best ``WINDOW``. Only public playlists
are searched, for everyone, their owners included: search is for finding what others
share, and a user's own playlists are at ``/playlist/get``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    REAL,
    ColumnElement,
    Select,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.sql.elements import ColumnClause

from bandstand.kit.trigrams import trigrams
from bandstand.models import Playlist, Song, User
from bandstand.playlists.repository import readable_by

# Share of the query's trigrams a field must contain: low enough for two typos in a word.
THRESHOLD = 0.4
# The best matches of each kind a search pages through; deeper pages are empty.
WINDOW = 1000
# Up to this many exact or close matches in a column are all read and ranked exactly.
HEAD = 200
# The close level never asks for more similarity than this, so a phrase with a typo in
# each of two words still finds its rows there.
CLOSE_MAX = 0.6
# Steps at most to find the most similar of many close matches (``_Levels._narrow``).
NARROWING = 4

Scored = tuple[float, uuid.UUID]


@dataclass(frozen=True)
class Hits:
    items: Sequence[Any]
    total: int
    # False when there may be more matches than ``total`` (see the module's docstring).
    exact: bool = True


@dataclass(frozen=True)
class _Kind:
    model: type[Song] | type[User] | type[Playlist]
    columns: tuple[InstrumentedAttribute[Any], ...]
    where: tuple[ColumnElement[bool], ...] = ()
    options: tuple[ORMOption, ...] = ()

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def ident(self) -> InstrumentedAttribute[Any]:
        return self.model.id


_SONGS = _Kind(Song, (Song.title, Song.genre), options=(joinedload(Song.owner),))
_USERS = _Kind(User, (User.username, User.fullname), where=(User.banned_at.is_(None),))
# Readable by anyone: public playlists only, whoever searches.
_PLAYLISTS = _Kind(Playlist, (Playlist.name,), where=(readable_by(None),))


async def songs(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    return await _find(session, _SONGS, query, limit, offset)


async def users(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    return await _find(session, _USERS, query, limit, offset)


async def playlists(session: AsyncSession, query: str, limit: int, offset: int) -> Hits:
    """Public playlists by name; ``Hits.items`` are their ids, best first."""
    return await _find_scored(session, _PLAYLISTS, query, limit, offset)


def like_prefix(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def fts_match(query: str) -> str:
    """An FTS5 query for any trigram of ``query``, each quoted so it is only ever text."""
    lowered = query.lower()
    grams = sorted({lowered[i : i + 3] for i in range(len(lowered) - 2)})
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def head_threshold(query: str) -> float:
    """The similarity of a field one typo away from ``query``: three of its ``n`` trigrams
    changed in the middle of the matched words leave ``(n - 3) / (n + 3)``."""
    n = len(trigrams(query))
    return round(min(CLOSE_MAX, max(THRESHOLD, (n - 3) / (n + 3))), 2)


@dataclass(frozen=True)
class _Ranking:
    """Matching ids best first, as far as the page needs (and maybe further)."""

    ids: list[uuid.UUID]
    # How many distinct matches a client could page to, as far as known, and whether that
    # is all of them.
    known: int
    complete: bool


async def _find(session: AsyncSession, kind: _Kind, query: str, limit: int, offset: int) -> Hits:
    if session.get_bind().dialect.name != "postgresql":
        return await _find_sqlite(session, kind, query, limit, offset)
    end = min(offset + limit, WINDOW)
    wanted = end + 1  # the page, and one more to tell whether another follows
    if len(query) <= 2:
        ranking = await _newest_with_prefix(session, kind, query, wanted)
    else:
        ranking = await _Levels(session, kind, query, wanted).rank()
    items = await _load(session, kind, ranking.ids[offset:end])
    if ranking.complete and ranking.known <= WINDOW:
        return Hits(items=items, total=ranking.known)
    # Every ranked id is known, so the total covers this page and tells if another follows.
    return Hits(items=items, total=min(ranking.known, WINDOW), exact=False)


async def _load(session: AsyncSession, kind: _Kind, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    stmt = select(kind.model).where(kind.ident.in_(ids)).options(*kind.options)
    rows: Sequence[Any] = (await session.scalars(stmt)).unique().all()
    found = {row.id: row for row in rows}
    return [found[ident] for ident in ids if ident in found]


async def _newest_with_prefix(
    session: AsyncSession, kind: _Kind, query: str, wanted: int
) -> _Ranking:
    """Columns starting with one or two characters, newest first. For a common start the
    primary key walked backwards stops at the page; for a rare one the GIN index finds the
    few rows (the planner tells them apart by the columns' statistics)."""
    pattern = like_prefix(query)
    stmt = (
        select(kind.ident)
        .where(*kind.where, or_(*(c.ilike(pattern, escape="\\") for c in kind.columns)))
        .order_by(kind.ident.desc())
        .limit(wanted)
    )
    ids = list((await session.scalars(stmt)).all())
    return _Ranking(ids=ids, known=len(ids), complete=len(ids) < wanted)


@dataclass
class _Column:
    """One searched column's matches, best first, as far as they were read."""

    rows: list[Scored] = field(default_factory=list)
    # Rows whose place in ``rows`` is their rank among equals (a walk's, a sample's), rather
    # than their age: the merge keeps it.
    in_order: set[uuid.UUID] = field(default_factory=set)
    # ``rows`` holds every match of the column.
    complete: bool = False
    # ``rows`` is a prefix of the GiST walk, which goes through every match in order.
    walked: bool = False
    # ``rows`` ends with a sample of the close matches, past which nothing is reachable.
    capped: bool = False
    # Every match known to be reachable, ranked yet or not (a walk goes past its exact ones).
    known: set[uuid.UUID] = field(default_factory=set)

    @property
    def settled(self) -> bool:
        return self.complete or self.walked or self.capped

    def take(self, rows: Sequence[Scored], *, in_order: bool = False) -> None:
        """Rank ``rows`` after those taken so far: by similarity, then newest first, or
        (``in_order``) in the order given, a sample's table order or a walk's."""
        if in_order:
            self.rows += sorted(rows, key=lambda row: row[0], reverse=True)  # stable
            self.in_order.update(ident for _, ident in rows)
        else:
            self.rows += sorted(rows, reverse=True)
        self.known.update(ident for _, ident in rows)


class _Levels:
    """One kind's matches on PostgreSQL, level by level (see the module's docstring)."""

    def __init__(self, session: AsyncSession, kind: _Kind, query: str, wanted: int) -> None:
        self.session, self.kind, self.query, self.wanted = session, kind, query, wanted
        self.columns = [_Column() for _ in kind.columns]
        self.settings: dict[str, str] = {}

    async def rank(self) -> _Ranking:
        await self._exact()
        ceiling = 1.0
        # Close matches in two steps when they reach below ``CLOSE_MAX``: a common word's
        # many partial matches (0.4 for "love" in "Lonely") need not be read to find its
        # near ones ("Lover", 0.8).
        for floor in sorted({CLOSE_MAX, head_threshold(self.query)}, reverse=True):
            if self._filled(ceiling):
                break
            await self._close(floor, ceiling)
            ceiling = floor
        if not self._filled(ceiling):
            await self._weak(ceiling)
        return self._merge()

    async def _exact(self) -> None:
        everything = range(len(self.columns))
        exact = await self._probe(1.0, everything, HEAD + 1)
        for number, (found, rows) in enumerate(zip(self.columns, exact, strict=True)):
            if len(rows) <= HEAD:
                found.take(rows)
                continue
            # Many exact matches: the walk meets them first, so it stops at once. Its order
            # is kept, ties included, so that a longer walk extends a shorter one.
            found.take(await self._walk(self.kind.columns[number]), in_order=True)
            found.known.update(ident for _, ident in rows)
            found.walked, found.complete = True, len(found.rows) < self.wanted

    async def _close(self, floor: float, ceiling: float) -> None:
        numbers = [n for n, found in enumerate(self.columns) if not found.settled]
        if not numbers:
            return
        heads = await self._probe(floor, numbers, HEAD + 1, below=ceiling)
        for number, rows in zip(numbers, heads, strict=True):
            found = self.columns[number]
            if len(rows) > HEAD:
                await self._narrow(number, rows, ceiling)
                found.capped = True
            else:
                found.take(rows)
                # At the lowest threshold the close matches are all the matches.
                found.complete = floor <= THRESHOLD

    async def _narrow(self, number: int, sample: list[Scored], ceiling: float) -> None:
        """Too many close matches to read them all, say 8,000 titles with "Lullaby" for
        "lullabye": the most similar are found by reading upwards from the best score in a
        sample (their first rows in table order). When few rows score above it, they are
        all read and the sample keeps what scores below; when many do, they become the
        sample. It ends when the sample's rows tie, usually after a step or two: any of them
        is then as good as another, and they stand for their level in table order, read as
        far as the page needs. After ``NARROWING`` steps the sample stands as it is."""
        found = self.columns[number]
        for _ in range(NARROWING):
            top = max(score for score, _ in sample)
            tied = all(score == top for score, _ in sample)
            # Above the tie (1e-6 is less than any two similarities differ by), or from it.
            floor = top + 1e-6 if tied else top
            rows = (await self._probe(floor, [number], HEAD + 1, below=ceiling))[0]
            if len(rows) > HEAD:
                sample = rows
                continue
            found.take(rows)
            ceiling, sample = floor, [row for row in sample if row[0] < floor]
            if tied and self.wanted > len(found.rows) + len(sample):
                # The sample holds the level's first rows in table order; read on in it.
                sample = (await self._probe(top, [number], WINDOW + 1, below=ceiling))[0]
            if tied or not sample:
                break
        # In table order: the first rows of a level are the same however far a page reads.
        found.take(sample[:WINDOW], in_order=True)

    async def _weak(self, ceiling: float) -> None:
        numbers = [n for n, found in enumerate(self.columns) if not found.settled]
        if not numbers:
            return
        weak = await self._probe(THRESHOLD, numbers, WINDOW + 1, below=ceiling)
        for number, rows in zip(numbers, weak, strict=True):
            found = self.columns[number]
            found.take(rows[:WINDOW])
            found.complete = len(rows) <= WINDOW

    def _filled(self, at_least: float) -> bool:
        """Whether the page is full of rows at ``at_least`` or better: those of the next
        level, all below it, cannot change it."""
        best = {ident for found in self.columns for score, ident in found.rows if score >= at_least}
        return len(best) >= self.wanted

    def _merge(self) -> _Ranking:
        """One ranking from the columns': by similarity, then newest first, except for rows
        in a walk's or a sample's order, which keep it and follow the others at equal
        similarity. That agrees with each column's own order, so the first ``n`` only need
        each column's first ``n``, and every column was read that far."""

        def key(number: int, place: int, score: float, ident: uuid.UUID) -> tuple[float, int, int]:
            if ident in self.columns[number].in_order:
                return (-score, 1 + number, place)
            return (-score, 0, -ident.int)

        keyed = [
            (key(number, place, score, ident), ident)
            for number, found in enumerate(self.columns)
            for place, (score, ident) in enumerate(found.rows)
        ]
        keyed.sort(key=lambda pair: pair[0])
        ids = list(dict.fromkeys(ident for _, ident in keyed))
        known = set().union(*(found.known for found in self.columns))
        complete = all(found.complete for found in self.columns)
        return _Ranking(ids=ids, known=len(known), complete=complete)

    async def _configure(self, threshold: float, *, walk: bool = False) -> None:
        """Settings for the next statements, changed in one round trip. They are local to
        the request's transaction (``SET LOCAL``), which a search therefore needs."""
        wanted = {
            # pg_trgm's ``%>``, which both indexes serve, reads its threshold from here.
            "pg_trgm.word_similarity_threshold": str(threshold),
            # A sample is a level's first rows in table order, which must be the same for
            # every request: no scan that joins another one midway, no parallel workers.
            "synchronize_seqscans": "off",
            "max_parallel_workers_per_gather": "0",
            # A probe reads the GIN index. Reading the table until the limit instead costs
            # as much as the matches are rare, which the planner cannot tell for trigrams:
            # it chose that for "tokyo" (one title in 250) and took 125 ms, not 5.
            "enable_seqscan": "on" if walk else "off",
            "enable_indexscan": "on" if walk else "off",
            # The walk's order, ties included, is what keeps its pages apart; a sort, which
            # the planner may prefer on a small table, could break ties differently.
            "enable_sort": "off" if walk else "on",
        }
        changed = {
            name: value for name, value in wanted.items() if self.settings.get(name) != value
        }
        if changed:
            calls = ", ".join(
                f"set_config('{name}', :v{i}, true)" for i, name in enumerate(changed)
            )
            values = {f"v{i}": value for i, value in enumerate(changed.values())}
            await self.session.execute(text(f"SELECT {calls}").bindparams(**values))
            self.settings.update(changed)

    def _similarity(self, column: InstrumentedAttribute[Any]) -> ColumnElement[float]:
        return func.word_similarity(self.query, column)

    async def _probe(
        self, threshold: float, numbers: Sequence[int], limit: int, below: float | None = None
    ) -> list[list[Scored]]:
        """The first ``limit`` rows of each numbered column at ``threshold`` or above (and
        below ``below``), in table order, in one statement. ``column %> query`` is the form
        the GIN index serves; the planner reads the table instead when matches are dense."""
        await self._configure(threshold)
        parts = []
        for place, number in enumerate(numbers):
            column = self.kind.columns[number]
            score = self._similarity(column)
            conditions = [*self.kind.where, column.op("%>")(self.query)]
            if below is not None:
                conditions.append(score < cast(below, REAL))
            parts.append(
                select(literal(place), score, self.kind.ident).where(*conditions).limit(limit)
            )
        found: list[list[Scored]] = [[] for _ in numbers]
        for place, score, ident in (await self.session.execute(union_all(*parts))).all():
            found[place].append((float(score), ident))
        return found

    async def _walk(self, column: InstrumentedAttribute[Any]) -> list[Scored]:
        """The ``wanted`` best matches of a column, nearest first from the GiST index on
        ``lower(column)`` (0004), where ``<->>`` is one minus the word similarity."""
        await self._configure(THRESHOLD, walk=True)
        lowered = func.lower(column)
        distance = lowered.op("<->>")(self.query)
        stmt = (
            select(distance, self.kind.ident)
            .where(*self.kind.where, lowered.op("%>")(self.query))
            .order_by(distance)
            .limit(self.wanted)
        )
        rows = (await self.session.execute(stmt)).all()
        # Similarity from the very number the walk is ordered by, so the two always agree.
        return [(1.0 - float(away), ident) for away, ident in rows]


# --- SQLite: FTS5 finds candidates, every match is scored --------------------------------


async def _find_sqlite(
    session: AsyncSession, kind: _Kind, query: str, limit: int, offset: int
) -> Hits:
    """One page of matches, best first, and how many match in all — from one pass over
    the matches: their ids, scores and count first, then the page's rows by id."""
    model, ident = kind.model, kind.ident
    if len(query) <= 2:
        pattern = like_prefix(query)
        conditions = [or_(*(c.ilike(pattern, escape="\\") for c in kind.columns))]
        score: ColumnElement[float] | None = None
    else:
        score = func.max(*(func.bandstand_word_similarity(query, c) for c in kind.columns))
        candidates: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text(f"search_{kind.table}"))
            .where(text(f"search_{kind.table} MATCH :match").bindparams(match=fts_match(query)))
        )
        rowid: ColumnClause[Any] = literal_column(f"{kind.table}.rowid")
        conditions = [rowid.in_(candidates), score >= THRESHOLD]
    conditions = [*kind.where, *conditions]
    columns: list[ColumnElement[Any]] = [ident.label("id"), func.count().over().label("total")]
    order: list[ColumnElement[Any]] = [ident.desc()]
    if score is not None:
        columns.append(score.label("score"))
        order.insert(0, score.desc())
    end = min(offset + limit, WINDOW)
    ranked = (
        select(*columns)
        .where(*conditions)
        .order_by(*order)
        .limit(max(end - offset, 0))
        .offset(offset)
    ).subquery("ranked")
    ranked_order = [ranked.c.id.desc()]
    if score is not None:
        ranked_order.insert(0, ranked.c.score.desc())
    stmt = (
        select(model, ranked.c.total)
        .join(ranked, ident == ranked.c.id)
        .options(*kind.options)
        .order_by(*ranked_order)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        total = int(rows[0][1])
    elif offset:
        # Past the last page: nothing to rank, but the total is still wanted.
        counted = select(func.count()).select_from(model).where(*conditions)
        total = int((await session.execute(counted)).scalar_one())
    else:
        total = 0
    return Hits(items=[row[0] for row in rows], total=min(total, WINDOW), exact=total <= WINDOW)


# --- Every match scored, on either engine (playlists) ------------------------------------


async def _matching(
    session: AsyncSession, kind: _Kind, query: str
) -> tuple[list[ColumnElement[bool]], ColumnElement[float] | None]:
    """Conditions a match meets, and its score (None for a prefix, ranked newest first)."""
    if len(query) <= 2:
        pattern = like_prefix(query)
        return [or_(*(c.ilike(pattern, escape="\\") for c in kind.columns))], None
    if session.get_bind().dialect.name == "postgresql":
        # ``%>`` (which the GIN index serves) reads its threshold from this setting, local
        # to the request's transaction; the kinds searched before may have changed it.
        await session.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :v, true)").bindparams(
                v=str(THRESHOLD)
            )
        )
        scores = [func.word_similarity(query, c) for c in kind.columns]
        return [or_(*(c.op("%>")(query) for c in kind.columns))], _best(scores, "greatest")
    # SQLite's max() of several arguments is their greatest (of one, an aggregate).
    score = _best([func.bandstand_word_similarity(query, c) for c in kind.columns], "max")
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(f"search_{kind.table}"))
        .where(text(f"search_{kind.table} MATCH :match").bindparams(match=fts_match(query)))
    )
    rowid: ColumnClause[Any] = literal_column(f"{kind.table}.rowid")
    return [rowid.in_(candidates), score >= THRESHOLD], score


def _best(scores: Sequence[ColumnElement[float]], greatest: str) -> ColumnElement[float]:
    return scores[0] if len(scores) == 1 else getattr(func, greatest)(*scores)


async def _find_scored(
    session: AsyncSession, kind: _Kind, query: str, limit: int, offset: int
) -> Hits:
    """One page of matching ids, best first, and how many match in all, from one
    statement that scores every match."""
    conditions, score = await _matching(session, kind, query)
    conditions = [*kind.where, *conditions]
    order: list[ColumnElement[Any]] = [kind.ident.desc()]
    if score is not None:
        order.insert(0, score.desc())
    end = min(offset + limit, WINDOW)
    stmt = (
        select(kind.ident, func.count().over())
        .where(*conditions)
        .order_by(*order)
        .limit(max(end - offset, 0))
        .offset(offset)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        total = int(rows[0][1])
    elif offset:
        # Past the last page: nothing to rank, but the total is still wanted.
        counted = select(func.count()).select_from(kind.model).where(*conditions)
        total = int((await session.execute(counted)).scalar_one())
    else:
        total = 0
    ids = [row[0] for row in rows]
    return Hits(items=ids, total=min(total, WINDOW), exact=total <= WINDOW)
