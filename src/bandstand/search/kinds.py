"""What search looks through, the same on both engines: each kind's table, the columns
matched, who is never found, and the rules every engine follows (``THRESHOLD``,
``WINDOW``, prefixes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from sqlalchemy.orm.interfaces import ORMOption

from bandstand.models import Playlist, Song, User
from bandstand.playlists.repository import readable_by
from bandstand.songs.repository import listed

# Share of the query's trigrams a field must contain: low enough for two typos in a word.
THRESHOLD = 0.4
# The best matches of each kind a search pages through; deeper pages are empty.
WINDOW = 1000
# How similar a name (a song's artist, its uploader's) must be for the song to match:
# about a typo away. A looser likeness would bring in every song of everyone who shares a
# syllable with the query ("jazz" and "Jane").
NAMED = 0.6


@dataclass(frozen=True)
class Hits:
    items: Sequence[Any]
    total: int
    # False when there may be more matches than ``total`` (a lower bound then).
    exact: bool = True


@dataclass(frozen=True)
class Kind:
    model: type[Song] | type[User] | type[Playlist]
    columns: tuple[InstrumentedAttribute[Any], ...]
    where: tuple[ColumnElement[bool], ...] = ()
    options: tuple[ORMOption, ...] = ()
    # Rows are also found by the names of their owner (``OWNERS``), through this column.
    owner: InstrumentedAttribute[Any] | None = None
    # Columns holding names, which match only at ``NAMED`` or above and never as a prefix.
    names: tuple[InstrumentedAttribute[Any], ...] = ()

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def ident(self) -> InstrumentedAttribute[Any]:
        return self.model.id

    def least(self, column: InstrumentedAttribute[Any]) -> float:
        """The similarity at which ``column`` starts to match."""
        return NAMED if any(column is name for name in self.names) else THRESHOLD


# A song is found by its title, genre and artist, and by its uploader's names (a song's
# ``artist`` is its tag, or the uploader's full name when it had none). Only songs everyone
# sees, whoever searches (``songs.repository.listed``): one taken down, or a banned
# uploader's, is found by nobody, its owner included, as in the catalogue.
SONGS = Kind(
    Song,
    (Song.title, Song.genre, Song.artist),
    where=(listed(None),),
    options=(joinedload(Song.owner),),
    owner=Song.owner_id,
    names=(Song.artist,),
)
PEOPLE = Kind(User, (User.username, User.fullname), where=(User.banned_at.is_(None),))
# The names a song's uploader is found by. A banned uploader is found neither as a person
# (``PEOPLE``) nor by their songs (``SONGS``).
OWNERS: tuple[InstrumentedAttribute[Any], ...] = (User.username, User.fullname)
# Readable by anyone: public playlists, not hidden, of owners not banned, whoever searches.
PLAYLISTS = Kind(Playlist, (Playlist.name,), where=(readable_by(None),))


def like_prefix(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def is_prefix(query: str) -> bool:
    """One or two characters match the start of a column instead, newest first."""
    return len(query) <= 2


def prefix_of(kind: Kind, query: str) -> ColumnElement[bool]:
    pattern = like_prefix(query)
    columns = [column for column in kind.columns if kind.least(column) <= THRESHOLD]
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


async def scored_page(
    session: AsyncSession,
    kind: Kind,
    conditions: Sequence[ColumnElement[bool]],
    score: ColumnElement[float] | None,
    limit: int,
    offset: int,
) -> Hits:
    """One page of the ids meeting ``conditions``, best ``score`` first (None: a prefix,
    newest first), through the best ``WINDOW``, and how many match in all: one statement
    that scores every match, and a count when the page is past the last."""
    where = [*kind.where, *conditions]
    order: list[ColumnElement[Any]] = [kind.ident.desc()]
    if score is not None:
        order.insert(0, score.desc())
    end = min(offset + limit, WINDOW)
    stmt = (
        select(kind.ident, func.count().over())
        .where(*where)
        .order_by(*order)
        .limit(max(end - offset, 0))
        .offset(offset)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        total = int(rows[0][1])
    elif offset:
        # Past the last page: nothing to rank, but the total is still wanted.
        counted = select(func.count()).select_from(kind.model).where(*where)
        total = int((await session.execute(counted)).scalar_one())
    else:
        total = 0
    return Hits(items=[row[0] for row in rows], total=min(total, WINDOW), exact=total <= WINDOW)
