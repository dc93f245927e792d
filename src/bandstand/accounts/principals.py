"""Who is calling: the one read every authenticated request makes.

It runs on every request, so it skips the ORM and talks to the driver: on the embedded
SQLite database a read-only connection answers a primary-key join from the page cache in
microseconds, faster than the thread hop aiosqlite would take; on PostgreSQL the process's
raw asyncpg pool (``kit/pgpool.py``) answers a prepared statement, for many requests at
once under load. Both read only what has been committed, so a logout, a ban or a
deletion takes effect on the very next request.

Music apps (``/rest``) are callers too: ``app_keys`` reads an app password's account and
keys in the same way, one statement a request.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from bandstand.kit.batching import Batcher
from bandstand.kit.pgpool import DriverPool

# The caller's account, if their login is live and they are not banned.
_SQL = (
    "SELECT u.id, u.username, u.fullname, u.email, u.avatar_key, u.role,"
    " u.created_at, u.updated_at, u.totp_enabled_at IS NOT NULL,"
    " u.storage_used, u.uploads_day, u.uploads_today"
    " FROM users u JOIN login_sessions s ON s.user_id = u.id"
    " WHERE u.id = ? AND s.id = ? AND s.revoked_at IS NULL AND u.banned_at IS NULL"
)
# The same for many callers (PostgreSQL): $1 their user ids, $2 their logins' ids; each
# account found, with its login's id last.
_BATCH_SQL = (
    "SELECT u.id, u.username, u.fullname, u.email, u.avatar_key, u.role,"
    " u.created_at, u.updated_at, u.totp_enabled_at IS NOT NULL,"
    " u.storage_used, u.uploads_day, u.uploads_today, s.id"
    " FROM unnest($1::uuid[], $2::uuid[]) AS w(user_id, id)"
    " JOIN login_sessions s ON s.id = w.id AND s.user_id = w.user_id"
    " JOIN users u ON u.id = w.user_id"
    " WHERE s.revoked_at IS NULL AND u.banned_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class Account:
    """A read-only view of the caller's account."""

    id: uuid.UUID
    username: str
    fullname: str
    email: str
    avatar_key: str | None
    role: str
    created_at: datetime
    updated_at: datetime
    # Whether two-factor login is on.
    two_factor: bool
    # The quota as the row keeps it (``songs/quota.py``).
    storage_used: int
    uploads_day: date | None
    uploads_today: int


# (user id, login id), as an access token names them.
Login = tuple[uuid.UUID, uuid.UUID]


# --- music apps (``/rest``): an app password's account -----------------------------------


class KeyBy(Enum):
    """What an app's credentials find the account by: an app password's keyed hash
    (``lookup``), or the account's login (a username's key or an email), with every key."""

    LOOKUP = "k.lookup"
    USERNAME = "u.username_key"
    EMAIL = "u.email"


# The account and its app passwords matching ``{where} = <value>``, one row per key. A
# banned account is found (its app is told why it is refused). ``hides`` says whether a
# moderator took one of its songs down: lists made for everyone then differ from its own.
_APP_SQL = (
    "SELECT u.id, u.username, u.fullname, u.email, u.username_key, u.role, u.avatar_key,"
    " u.banned_at IS NOT NULL, u.ban_reason, u.banned_until,"
    " EXISTS (SELECT 1 FROM songs s"
    " WHERE s.owner_id = u.id AND s.taken_down_at IS NOT NULL) AS hides,"
    " k.id, k.sealed_secret, k.last_used_at"
    " FROM app_passwords k JOIN users u ON u.id = k.user_id"
    " WHERE {where} = {value}"
)


@dataclass(frozen=True, slots=True)
class AppAccount:
    """The account a music app signs in to."""

    id: uuid.UUID
    username: str
    fullname: str
    email: str
    username_key: str
    role: str
    avatar_key: str | None
    banned: bool
    ban_reason: str | None
    banned_until: datetime | None
    # Whether any of its songs is taken down (seen by it, by nobody else).
    hides_songs: bool

    def named(self, login: str) -> bool:
        """Whether ``login`` (an email or a username, any case) is this account's."""
        login = login.strip().lower()
        return login == (self.email if "@" in login else self.username_key)


@dataclass(frozen=True, slots=True)
class AppKey:
    """One of its app passwords."""

    id: uuid.UUID
    sealed_secret: str
    last_used_at: datetime | None


AppKeys = tuple[AppAccount, list[AppKey]]


def key_by_login(login: str) -> KeyBy:
    """How a login names its account: an email, or a username in any case."""
    return KeyBy.EMAIL if "@" in login else KeyBy.USERNAME


def _app_keys(rows: Sequence[Sequence[Any]], decode: Any) -> AppKeys | None:
    """The rows of ``_APP_SQL`` as the account and its keys; ``decode(kind, value)``
    turns a column the driver gave as text (SQLite) into its type."""
    if not rows:
        return None
    first = rows[0]
    account = AppAccount(
        id=decode(uuid.UUID, first[0]),
        username=first[1],
        fullname=first[2],
        email=first[3],
        username_key=first[4],
        role=first[5],
        avatar_key=first[6],
        banned=bool(first[7]),
        ban_reason=first[8],
        banned_until=decode(datetime, first[9]),
        hides_songs=bool(first[10]),
    )
    keys = [AppKey(decode(uuid.UUID, row[11]), row[12], decode(datetime, row[13])) for row in rows]
    return account, keys


def _sqlite_value(kind: type, value: Any) -> Any:
    """SQLAlchemy's Uuid is 32 hex characters and DateTime naive UTC text on SQLite."""
    if value is None:
        return None
    if kind is uuid.UUID:
        return uuid.UUID(value)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _driver_value(kind: type, value: Any) -> Any:
    return value


class Principals(Protocol):
    async def account(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Account | None:
        """The account behind a live login of a user who is not banned, else None."""
        ...

    async def app_keys(self, by: KeyBy, value: str) -> AppKeys | None:
        """The account ``value`` finds ``by`` and its app passwords (all of them by a
        login; the one by a lookup), banned or not; None if there is none."""
        ...

    async def close(self) -> None: ...


class SqlitePrincipals:
    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, timeout=5, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        return connection

    async def account(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Account | None:
        if self._connection is None:
            self._connection = self._connect()
        # SQLAlchemy's Uuid is 32 hex characters and DateTime naive UTC text on SQLite.
        row = self._connection.execute(_SQL, (user_id.hex, session_id.hex)).fetchone()
        if row is None:
            return None
        user, username, fullname, email, avatar_key, role, created, updated, two_factor = row[:9]
        storage_used, uploads_day, uploads_today = row[9:]
        return Account(
            id=uuid.UUID(user),
            username=username,
            fullname=fullname,
            email=email,
            avatar_key=avatar_key,
            role=role,
            created_at=datetime.fromisoformat(created).replace(tzinfo=UTC),
            updated_at=datetime.fromisoformat(updated).replace(tzinfo=UTC),
            two_factor=bool(two_factor),
            storage_used=int(storage_used),
            uploads_day=date.fromisoformat(uploads_day) if uploads_day else None,
            uploads_today=int(uploads_today),
        )

    async def app_keys(self, by: KeyBy, value: str) -> AppKeys | None:
        if self._connection is None:
            self._connection = self._connect()
        sql = _APP_SQL.format(where=by.value, value="?")
        return _app_keys(self._connection.execute(sql, (value,)).fetchall(), _sqlite_value)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresPrincipals:
    """Logins checked together: a request's check waits for a batch (``kit/batching.py``),
    so under load one statement answers many requests. A batch starts after the requests
    in it arrived, so it still sees every logout committed before them."""

    def __init__(self, pool: DriverPool) -> None:
        # The process's one driver pool: whoever made it closes it.
        self._pool = pool
        self._batches = Batcher(self._accounts)

    async def account(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Account | None:
        return await self._batches((user_id, session_id))

    async def _accounts(self, logins: Sequence[Login]) -> list[Account | None]:
        pool = await self._pool()
        rows = await pool.fetch(
            _BATCH_SQL, [user for user, _ in logins], [login for _, login in logins]
        )
        found: dict[Login, Account] = {}
        for row in rows:
            *account, login_id = row
            found[(row[0], login_id)] = Account(*account)
        return [found.get(login) for login in logins]

    async def app_keys(self, by: KeyBy, value: str) -> AppKeys | None:
        pool = await self._pool()
        rows = await pool.fetch(_APP_SQL.format(where=by.value, value="$1"), value)
        return _app_keys(rows, _driver_value)

    async def close(self) -> None:
        await self._batches.close()


def build_principals(database_url: str, pool: DriverPool | None) -> Principals:
    """``pool``: the process's driver pool (``kit.pgpool.driver_pool``), None on SQLite."""
    if pool is None:
        return SqlitePrincipals(make_url(database_url).database or ":memory:")
    return PostgresPrincipals(pool)
