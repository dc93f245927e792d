"""Search on PostgreSQL: pg_trgm's GIN indexes (migrations 0002, 0007) find the rows at or
above a similarity, its GiST indexes (0004, 0007) list them nearest first. The query is
always data, never a pattern.

A row matches when one of its searched columns holds at least ``THRESHOLD`` of the query's
trigrams (word similarity), and matches rank by their best column's similarity; one or two
characters match the start of a column instead, newest first. Each kind pages through at
most its best ``WINDOW`` matches. ``Hits.total`` is exact when the search saw every match
(``Hits.exact``); otherwise it counts those it knows of, so it is a lower bound.

Scoring every match took up to a second in a million songs, so a search reads levels of
similarity from the top, each only if the levels above leave room on the page:

1. **exact** matches (similarity 1), from the GIN indexes, which check every query
   trigram at once. A column with more than ``HEAD`` of them is *walked* instead: the GiST
   index lists its matches nearest first (``ORDER BY lower(col) <->> q``) and the walk
   stops at the page. Rows tied in similarity come in the index's order, which is stable
   while the index is unchanged, so pages neither overlap nor skip.
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

Two more sources follow the levels, each asked only for rows that can still reach the page
(``_Levels._floor``, the page's worst similarity so far), and each ranked in full in one
statement, so they merge with the levels exactly:

- **respelled**: rows holding one of the query's spellings whole (``kit.trigrams``: a
  transposition undone in a word, or in each of two), worth ``RESPELLED`` per
  transposition. Only for a query with no match at ``CLOSE_MAX`` as typed, which is
  known whatever the page (so every page agrees): a query with close matches would seldom
  gain, and the bench's five queries all have them. The candidates come from one GIN scan
  per column of a regular expression of the words' alternatives
  (``_may_hold_spelling``); at most ``RESPELL_CANDIDATES`` of them, the first in table
  order, are scored, as a respelled common word ("teh") has one in most rows.
- **owners** (songs): the songs of the people whose username or full name is at least
  ``NAMED`` similar (as typed, or respelled as above), as similar as the name, newest
  first, in one statement: the people from the GIN indexes on users' names, their songs
  backwards along ``ix_songs_owner_id_id``, never a scan of songs. The people stay in
  the database, and each probe reads at most ``OWNERS_READ`` of them, the first in table
  order, however many share a common name.

Every statement runs under ``STATEMENT_TIMEOUT``, a backstop: a search cut short answers
503 (``repository``).

Playlists (migration 0005) are searched by name more simply (``scored``): the candidates
come from the name's GIN index (and the spellings' regular expression), every candidate
is scored (``similarity``), and those at ``THRESHOLD`` or above rank by similarity, then
newest first, through the best ``WINDOW``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CTE,
    REAL,
    ColumnElement,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.kit.trigrams import RESPELLED, respelled_words, spellings, trigrams
from bandstand.models import User
from bandstand.search import kinds
from bandstand.search.kinds import NAMED, THRESHOLD, Hits, Kind, is_prefix
from bandstand.songs.cards import OWNER as SONG_OWNER

# Up to this many exact or close matches in a column are all read and ranked exactly.
HEAD = 200
# The close level never asks for more similarity than this, so a phrase with a typo in
# each of two words still finds its rows there.
CLOSE_MAX = 0.6
# Steps at most to find the most similar of many close matches (``_Levels._narrow``).
NARROWING = 4
# A respelled query scores at most this many candidates (``_Levels._respelled``): each
# costs a word similarity per spelling and column, up to 192 of them.
RESPELL_CANDIDATES = 2000
# The people a name's probe reads at most (``_Levels._people``), the first in table order.
OWNERS_READ = 2000
# The backstop for a search statement that is slow anyway: it fails (503) rather than
# holding a connection and a core.
STATEMENT_TIMEOUT = "3s"

Scored = tuple[float, uuid.UUID]


def head_threshold(query: str) -> float:
    """The similarity of a field one typo away from ``query``: three of its ``n`` trigrams
    changed in the middle of the matched words leave ``(n - 3) / (n + 3)``."""
    n = len(trigrams(query))
    return round(min(CLOSE_MAX, max(THRESHOLD, (n - 3) / (n + 3))), 2)


def similarity(query: str, column: InstrumentedAttribute[Any]) -> ColumnElement[float]:
    """``kit.trigrams.similarity`` in SQL: pg_trgm's word similarity of ``column`` to
    ``query``, or the worth of a spelling it holds every trigram of, if more."""
    return _best([func.word_similarity(query, column), *_respelled(query, column)])


def _respelled(
    query: str, column: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> list[ColumnElement[float]]:
    """A spelling's worth where ``column`` holds all its trigrams, else 0 (a similarity of
    1 floors to 1, any other to 0)."""
    return [
        func.floor(func.word_similarity(spelling, column)) * cast(worth, REAL)
        for spelling, worth in spellings(query)
    ]


def _matches(
    queries: Sequence[str], columns: Sequence[InstrumentedAttribute[Any]]
) -> ColumnElement[bool]:
    """Any column holding any query at the transaction's threshold: the form the GIN
    indexes serve (``%>`` reads ``pg_trgm.word_similarity_threshold``)."""
    return or_(*(column.op("%>")(q) for column in columns for q in queries))


def _may_hold_spelling(
    query: str, columns: Sequence[InstrumentedAttribute[Any]]
) -> ColumnElement[bool]:
    """Rows with a column holding, as a word, each respelled word or one of its
    respellings, as a row holding a spelling whole does (the score tells them apart). A
    regular expression of alternatives is one GIN scan per column, where a probe per
    spelling was dozens (pg_trgm reads the alternatives' trigrams at once); its word
    bounds (``\\m``, ``\\M``), which the index cannot see, spare the score the rows
    that only hold a word inside another ("love" in "Lover"). The words are ``\\w+``:
    nothing in them is syntax to a regular expression. A word repeated is looked for
    once: pg_trgm analyses each expression on every scan, tens of milliseconds for a long
    word's alternatives."""
    words = dict.fromkeys(respelled_words(query))
    return or_(
        *(
            and_(*(column.op("~*")(r"\m(" + "|".join(options) + r")\M") for options in words))
            for column in columns
        )
    )


def _best(scores: Sequence[ColumnElement[float]]) -> ColumnElement[float]:
    return scores[0] if len(scores) == 1 else func.greatest(*scores)


async def _set_threshold(session: AsyncSession, threshold: float) -> None:
    await session.execute(
        text(
            "SELECT set_config('pg_trgm.word_similarity_threshold', :v, true),"
            " set_config('statement_timeout', :timeout, true)"
        ).bindparams(v=str(threshold), timeout=STATEMENT_TIMEOUT)
    )


async def _ranked_with_count(
    session: AsyncSession, read: CTE, best: Subquery
) -> tuple[int, list[Scored]]:
    """How many rows ``read`` holds, and the rows of ``best`` (``score``, ``id``) in its
    order, in one statement: the count comes alone when no row is ranked."""
    counted = select(func.count().label("n")).select_from(read).subquery("counted")
    stmt = (
        select(counted.c.n, best.c.score, best.c.id)
        .select_from(counted.outerjoin(best, true()))
        .order_by(best.c.score.desc(), best.c.id.desc())
    )
    result = (await session.execute(stmt)).all()
    rows = [(float(score), ident) for _, score, ident in result if ident is not None]
    return int(result[0][0]), rows


@dataclass(frozen=True)
class _Ranking:
    """Matching ids best first, as far as the page needs (and maybe further)."""

    ids: list[uuid.UUID]
    # How many distinct matches a client could page to, as far as known, and whether that
    # is all of them.
    known: int
    complete: bool


async def ranked(session: AsyncSession, kind: Kind, query: str, limit: int, offset: int) -> Hits:
    """One page of matching rows, best first (see the module's docstring)."""
    end = min(offset + limit, kinds.WINDOW)
    wanted = end + 1  # the page, and one more to tell whether another follows
    if is_prefix(query):
        ranking = await _newest_with_prefix(session, kind, query, wanted)
    else:
        ranking = await _Levels(session, kind, query, wanted).rank()
    items = await _load(session, kind, ranking.ids[offset:end])
    if ranking.complete and ranking.known <= kinds.WINDOW:
        return Hits(items=items, total=ranking.known)
    # Every ranked id is known, so the total covers this page and tells if another follows.
    return Hits(items=items, total=min(ranking.known, kinds.WINDOW), exact=False)


async def _load(session: AsyncSession, kind: Kind, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    stmt = select(kind.model).where(kind.ident.in_(ids)).options(*kind.options)
    rows: Sequence[Any] = (await session.scalars(stmt)).unique().all()
    found = {row.id: row for row in rows}
    return [found[ident] for ident in ids if ident in found]


async def _newest_with_prefix(
    session: AsyncSession, kind: Kind, query: str, wanted: int
) -> _Ranking:
    """Columns starting with one or two characters, newest first. For a common start the
    primary key walked backwards stops at the page; for a rare one the GIN index finds the
    few rows (the planner tells them apart by the columns' statistics)."""
    stmt = (
        select(kind.ident)
        .where(*kind.where, kinds.prefix_of(kind, query))
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

    def __init__(self, session: AsyncSession, kind: Kind, query: str, wanted: int) -> None:
        self.session, self.kind, self.query, self.wanted = session, kind, query, wanted
        self.columns = [_Column() for _ in kind.columns]
        self.settings: dict[str, str] = {}
        # Whether the query's spellings are tried (``rank``).
        self.respell = False

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
        # Whether there is a match at ``CLOSE_MAX`` is known whatever the page: the exact
        # level is always read, and the close one from ``CLOSE_MAX`` unless exact matches
        # fill the page. So every page of a query agrees on it.
        self.respell = not any(
            score >= CLOSE_MAX for found in self.columns for score, _ in found.rows
        )
        await self._respelled()
        if self.kind.owner is not None:
            await self._owners(self.kind.owner)
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
        numbers = self._open(floor)
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
                # At the column's lowest threshold the close matches are all the matches.
                found.complete = floor <= self.kind.least(self.kind.columns[number])

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
                sample = (await self._probe(top, [number], kinds.WINDOW + 1, below=ceiling))[0]
            if tied or not sample:
                break
        # In table order: the first rows of a level are the same however far a page reads.
        found.take(sample[: kinds.WINDOW], in_order=True)

    async def _weak(self, ceiling: float) -> None:
        numbers = self._open(THRESHOLD)
        if not numbers:
            return
        weak = await self._probe(THRESHOLD, numbers, kinds.WINDOW + 1, below=ceiling)
        for number, rows in zip(numbers, weak, strict=True):
            found = self.columns[number]
            found.take(rows[: kinds.WINDOW])
            found.complete = len(rows) <= kinds.WINDOW

    def _open(self, floor: float) -> list[int]:
        """The columns still to read at ``floor``: not settled, and matching that low (a
        name column stops at ``NAMED``, where it was complete)."""
        return [
            number
            for number, found in enumerate(self.columns)
            if not found.settled and self.kind.least(self.kind.columns[number]) <= floor
        ]

    def _filled(self, at_least: float) -> bool:
        """Whether the page is full of rows at ``at_least`` or better: those of the next
        level, all below it, cannot change it."""
        best = {ident for found in self.columns for score, ident in found.rows if score >= at_least}
        return len(best) >= self.wanted

    def _floor(self) -> float:
        """The similarity a row needs to reach the page: that of the ``wanted``-th best row
        known so far (more rows only raise it), or ``THRESHOLD`` while there are fewer."""
        best: dict[uuid.UUID, float] = {}
        for found in self.columns:
            for score, ident in found.rows:
                best[ident] = max(score, best.get(ident, 0.0))
        if len(best) < self.wanted:
            return THRESHOLD
        return sorted(best.values(), reverse=True)[self.wanted - 1]

    async def _respelled(self) -> None:
        """Rows holding one of the query's spellings whole, when the query as typed has no
        match at ``CLOSE_MAX`` (``rank``): the first ``RESPELL_CANDIDATES`` candidates of
        ``_may_hold_spelling`` in table order, each scored for every spelling, ranked in
        one statement. A respelled common word ("teh") has a candidate in most rows, and
        scoring them all cost seconds; with more, the best of those rather than the best
        of all, as at the weak level."""
        found = _Column()
        self.columns.append(found)
        respelled = bool(spellings(self.query)) and self.respell
        floor = self._floor()
        found.complete = not respelled
        if not respelled or floor > RESPELLED:
            return
        await self._configure(THRESHOLD)  # probes read the GIN indexes
        candidates = (
            select(self.kind.ident.label("id"), *self.kind.columns)
            .where(*self.kind.where, _may_hold_spelling(self.query, self.kind.columns))
            .limit(RESPELL_CANDIDATES)
            .cte("candidates")
        )
        held = [candidates.c[column.key] for column in self.kind.columns]
        score = _best([s for column in held for s in _respelled(self.query, column)])
        best = (
            select(score.label("score"), candidates.c.id)
            .where(score >= cast(floor, REAL))
            .order_by(score.desc(), candidates.c.id.desc())
            .limit(self.wanted)
            .subquery("best")
        )
        read, rows = await _ranked_with_count(self.session, candidates, best)
        capped = read >= RESPELL_CANDIDATES
        found.take(rows)
        found.complete = not capped and len(rows) < self.wanted and floor <= THRESHOLD

    async def _owners(self, owner: InstrumentedAttribute[Any]) -> None:
        """Songs of the people whose username or full name is at ``NAMED`` or better and
        can reach the page (``_people``), as similar as the name, newest first: each
        person's newest songs from the owner index (``ix_songs_owner_id_id``), ranked in
        one statement. The people never leave the database: a common name ("john") is held
        by tens of thousands, more than a statement can carry as parameters."""
        found = _Column()
        self.columns.append(found)
        floor = max(self._floor(), NAMED)
        # The people come from the GIN indexes, as in a probe (with a seq scan allowed,
        # the planner reads the table until the limit: 100 ms in 17,000 people), and each
        # one's newest songs backwards along the owner index, as in a walk.
        await self._configure(floor, by_owner=True)
        named = self._people(floor)
        people = (
            select(named.c.owner_id, func.max(named.c.score).label("score"))
            .group_by(named.c.owner_id)
            .having(func.max(named.c.score) >= cast(floor, REAL))
            .subquery("people")
        )
        owned = (
            select(self.kind.ident.label("id"))
            # Joined as ``songs.repository.listed`` (in ``where``) reads it: SQLAlchemy's
            # linter sees no join in that condition inside a LATERAL.
            .join(SONG_OWNER, SONG_OWNER.id == owner)
            .where(owner == people.c.owner_id, *self.kind.where)
            .order_by(self.kind.ident.desc())
            .limit(self.wanted)
            .lateral("owned")
        )
        best = (
            select(people.c.score, owned.c.id)
            .select_from(people.join(owned, true()))
            .order_by(people.c.score.desc(), owned.c.id.desc())
            .limit(self.wanted)
            .subquery("best")
        )
        read, rows = await _ranked_with_count(self.session, named, best)
        found.take(rows)
        # A probe that read ``OWNERS_READ`` people may have left some unread (``_people``);
        # the two probes' rows are counted together, which may say so needlessly.
        capped = read >= OWNERS_READ
        found.complete = not capped and floor <= NAMED and len(rows) < self.wanted

    def _people(self, floor: float) -> CTE:
        """The people whose names are at ``floor`` (the transaction's threshold) or better,
        or below (``owner_id``, ``score``, a person once per probe that reads them):
        from the GIN indexes on usernames and full names, the spellings as in
        ``_respelled``. Each probe reads at most ``OWNERS_READ`` people, the first in table
        order: scoring the 17,000 people named John took a second."""
        names = kinds.OWNERS
        typed = _best([func.word_similarity(self.query, name) for name in names])
        parts = [
            select(User.id.label("owner_id"), typed.label("score"))
            .where(_matches([self.query], names))
            .limit(OWNERS_READ)
        ]
        if self.respell and spellings(self.query) and floor <= RESPELLED:
            candidates = (
                select(User.id, *names)
                .where(_may_hold_spelling(self.query, names))
                .limit(OWNERS_READ)
                .subquery("respelled")
            )
            held = _best(
                [s for name in names for s in _respelled(self.query, candidates.c[name.key])]
            )
            # Scored below the floor too, so that the candidates read are all counted.
            parts.append(select(candidates.c.id, held))
        return union_all(*parts).cte("named")

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

    async def _configure(
        self, threshold: float, *, walk: bool = False, by_owner: bool = False
    ) -> None:
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
            "enable_indexscan": "on" if walk or by_owner else "off",
            # The walk's order, ties included, is what keeps its pages apart; a sort, which
            # the planner may prefer on a small table, could break ties differently.
            "enable_sort": "off" if walk else "on",
            "statement_timeout": STATEMENT_TIMEOUT,
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
        self,
        threshold: float,
        numbers: Sequence[int],
        limit: int,
        below: float | None = None,
    ) -> list[list[Scored]]:
        """The first ``limit`` rows of each numbered column at ``threshold`` or above (and
        below ``below``), in table order, in one statement. ``column %> query`` is the
        form the GIN index serves; the planner reads the table instead when matches are
        dense."""
        await self._configure(threshold)
        parts: list[Select[int, float, uuid.UUID]] = []
        for place, number in enumerate(numbers):
            column = self.kind.columns[number]
            score = self._similarity(column)
            conditions = [*self.kind.where, column.op("%>")(self.query)]
            if below is not None:
                conditions.append(score < cast(below, REAL))
            parts.append(
                select(literal(place), score, self.kind.ident).where(*conditions).limit(limit)
            )
        found: list[list[Scored]] = [[] for _ in parts]
        for place, value, ident in (await self.session.execute(union_all(*parts))).all():
            found[place].append((float(value), ident))
        return found

    async def _walk(self, column: InstrumentedAttribute[Any]) -> list[Scored]:
        """The ``wanted`` best matches of a column, nearest first from the GiST index on
        ``lower(column)`` (0004), where ``<->>`` is one minus the word similarity."""
        await self._configure(self.kind.least(column), walk=True)
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


# --- Playlists: every match scored ------------------------------------------------------


async def scored(session: AsyncSession, kind: Kind, query: str, limit: int, offset: int) -> Hits:
    """One page of matching ids, best first, from one statement that scores every
    candidate of the GIN index (playlists)."""
    if is_prefix(query):
        return await kinds.scored_page(
            session, kind, [kinds.prefix_of(kind, query)], None, limit, offset
        )
    # ``%>`` reads its threshold from this setting, local to the request's transaction;
    # the kinds searched before may have changed it.
    await _set_threshold(session, THRESHOLD)
    score = _best([similarity(query, column) for column in kind.columns])
    # Candidates that hold no spelling whole, nor the query at the threshold, score below.
    found = _matches([query], kind.columns)
    if spellings(query):
        found = or_(found, _may_hold_spelling(query, kind.columns))
    conditions = [found, score >= cast(THRESHOLD, REAL)]
    return await kinds.scored_page(session, kind, conditions, score, limit, offset)
