"""Fake users and songs in bulk, for the benchmarks and for trying the catalogue at scale.

Run from the repository root with the project's venv:
``.venv/bin/python bench/seed.py [--users 1000] [--songs 10000] [--batch-size 20000]
[--seed 2026]``. It uses the database of ``BANDSTAND_DATABASE_URL`` (the embedded SQLite
under ``BANDSTAND_DATA_DIR`` by default, migrated first), refuses ``BANDSTAND_ENV=production``
(every seeded account shares one published password), and on the embedded database holds
the data folder as the ``bandstand`` commands that write do (``bandstand.kit.datalock``):
it refuses while a server runs there, and a server refuses while it runs. A refusal is one
line on stderr and exit status 1, as with ``bandstand``. It lives here, not in the product
package, because nothing in production needs fake accounts.

Rows go straight into the tables in batches: COPY on PostgreSQL (``copy_records_to_table``),
``executemany`` on SQLite, where the FTS triggers of migration 0002 index each row. Each
batch commits together with its share of the ``songs`` counter, so the counter matches
the table even if a run is interrupted. Nothing is written to storage: the songs' audio and
cover keys are well-formed names with no files behind them, so the songs are marked
``placeholder``, not ``ready``: listed and found like any other song, and their status
tells players there is nothing to play.

Ids are UUIDv7 built from each row's ``created_at`` (strictly increasing milliseconds), so
the newest-first order of ids and of timestamps agree. Every seeded user has the password
``SEED_PASSWORD``, whose argon2id hash is a constant here: seeding spends no time hashing.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bandstand.cli import reachable, refusal
from bandstand.config import Settings
from bandstand.db import create_engine
from bandstand.kit import datalock
from bandstand.migrations import upgrade
from bandstand.models import Role, Song, SongStats, SongStatus, User
from bandstand.songs.repository import CATALOGUE

SEED_PASSWORD = "seeded-listener-2026"  # published on purpose: fake accounts only
# argon2id of SEED_PASSWORD with the parameters of accounts/passwords.py (no rehash on login).
_HASH_PARAMS, _HASH_SALT = "$argon2id$v=19$m=19456,t=2,p=1", "nEmCkAveuWcz1SwF4fhDLw"
SEED_PASSWORD_HASH = f"{_HASH_PARAMS}${_HASH_SALT}$LWWUPdiUI5dLYdrGnvJ/dgKwDa3Gyj3bNncU8PdKHCg"
EMAIL_DOMAIN = "seed.example.com"
DEFAULT_BATCH = 20_000
MS_PER_DAY = 24 * 3600 * 1000
SONG_SPAN_MS = 2 * 365 * MS_PER_DAY  # songs: the two years before the run
USER_SPAN_MS = 365 * MS_PER_DAY  # users: the year before the first song
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

USER_COLUMNS = (
    "id",
    "fullname",
    "email",
    "username",
    "username_key",
    "avatar_key",
    "password_hash",
    "role",
    "banned_at",
    "created_at",
    "updated_at",
)
SONG_COLUMNS = (
    "id",
    "owner_id",
    "title",
    "description",
    "genre",
    "artist",
    "duration",
    "codec",
    "sample_rate",
    "channels",
    "bitrate",
    "audio_key",
    "audio_format",
    "audio_size",
    "thumbnail_key",
    "status",
    "created_at",
    "updated_at",
)
STATS_COLUMNS = ("song_id", "views", "like_count", "comment_count")

FIRST_NAMES = (
    "Ada", "Aiko", "Alba", "Amara", "Andre", "Anya", "Arjun", "Astrid", "Aya", "Bea", "Ben",
    "Bilal", "Bruno", "Camila", "Chen", "Chloe", "Dara", "David", "Diego", "Elif", "Elena",
    "Emeka", "Emil", "Esme", "Farah", "Felix", "Freya", "Gabriel", "Hana", "Hugo", "Ibrahim",
    "Ines", "Isla", "Ivan", "Jade", "Jonas", "Joao", "Kai", "Kenji", "Kofi", "Lara", "Leila",
    "Leo", "Lina", "Luca", "Lucia", "Maya", "Mateo", "Mei", "Mila", "Nadia", "Naomi", "Nico",
    "Nina", "Noah", "Noor", "Olga", "Omar", "Oscar", "Priya", "Rafael", "Rania", "Rosa", "Ruby",
    "Sami", "Sara", "Sofia", "Sven", "Tara", "Theo", "Tomas", "Uma", "Vera", "Victor", "Wen",
    "Yara", "Yusuf", "Zara", "Zoe", "Zuri",
)  # fmt: skip
LAST_NAMES = (
    "Abe", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Bianchi", "Brooks", "Castro", "Chen",
    "Costa", "Dubois", "Eriksson", "Fischer", "Fontaine", "Garcia", "Haddad", "Hansen", "Ito",
    "Jensen", "Kaur", "Khan", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Mensah", "Moreau",
    "Murphy", "Nakamura", "Novak", "Okafor", "Oliveira", "Park", "Patel", "Petrov", "Quinn",
    "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Tanaka", "Torres", "Ueda", "Varga", "Wagner",
    "Walsh", "Weber", "Wong", "Yilmaz", "Young", "Zhang", "Ziegler",
)  # fmt: skip
ADJECTIVES = (
    "Electric", "Golden", "Silent", "Broken", "Neon", "Velvet", "Crimson", "Endless", "Fading",
    "Hidden", "Lonely", "Lost", "Wild", "Frozen", "Burning", "Gentle", "Hollow", "Midnight",
    "Distant", "Restless", "Shining", "Secret", "Sweet", "Bitter", "Silver", "Blue", "Purple",
    "Scarlet", "Emerald", "Cosmic", "Lunar", "Solar", "Northern", "Southern", "Eastern",
    "Western", "Ancient", "Modern", "Digital", "Analog", "Fragile", "Heavy", "Tender", "Quiet",
    "Loud", "Dusty", "Rainy", "Sunny", "Stormy", "Misty", "Wandering", "Dancing", "Falling",
    "Rising", "Sleeping", "Waking", "Drifting", "Glowing", "Shimmering", "Faded", "Paper",
    "Glass", "Iron", "Stone", "Wooden", "Painted", "Empty", "Crowded", "Open", "Closed",
    "Little", "Giant", "Tiny", "Infinite", "Last", "First", "Second", "Final", "Early", "Late",
    "Summer", "Winter", "Autumn", "Spring", "Ocean", "Desert", "Mountain", "City", "Country",
    "Urban", "Paradise", "Holy", "Savage", "Lazy", "Hazy", "Dreamy", "Sleepless", "Wired",
)  # fmt: skip
NOUNS = (
    "Heart", "Dream", "Night", "Sky", "River", "Ocean", "Fire", "Rain", "Light", "Shadow",
    "Echo", "Memory", "Highway", "Road", "Train", "Station", "Harbor", "Island", "Garden",
    "Forest", "Mountain", "Valley", "Desert", "City", "Street", "Window", "Mirror", "Door",
    "Room", "House", "Home", "Bridge", "Tower", "Castle", "Kingdom", "Empire", "Planet", "Star",
    "Moon", "Sun", "Comet", "Galaxy", "Satellite", "Signal", "Radio", "Television", "Telephone",
    "Letter", "Postcard", "Photograph", "Diary", "Song", "Melody", "Rhythm", "Beat", "Groove",
    "Chorus", "Symphony", "Lullaby", "Anthem", "Ballad", "Serenade", "Waltz", "Tango", "Dance",
    "Party", "Festival", "Carnival", "Parade", "Circus", "Horizon", "Sunrise", "Sunset",
    "Twilight", "Dawn", "Dusk", "Morning", "Evening", "Weekend", "Holiday", "Season",
    "Summer", "Winter", "Autumn", "Spring", "Thunder", "Lightning", "Storm", "Breeze", "Wind",
    "Wave", "Tide", "Current", "Flame", "Ember", "Ashes", "Smoke", "Mist", "Fog", "Snow",
    "Ice", "Crystal", "Diamond", "Gold", "Silver", "Velvet", "Silk", "Paper", "Glass", "Wire",
    "Engine", "Machine", "Robot", "Ghost", "Angel", "Devil", "Saint", "Sinner", "Stranger",
    "Lover", "Friend", "Rebel", "Runaway", "Wanderer", "Dreamer", "Believer", "Traveler",
    "Pilot", "Sailor", "Dancer", "Singer", "Poet", "King", "Queen", "Prince", "Princess",
    "Tiger", "Wolf", "Fox", "Raven", "Sparrow", "Swan", "Butterfly", "Horse", "Lion",
    "Rose", "Lily", "Orchid", "Daisy", "Cherry", "Honey", "Sugar", "Coffee", "Wine", "Whiskey",
)  # fmt: skip
GERUNDS = (
    "Chasing", "Dancing", "Running", "Falling", "Waiting", "Dreaming", "Driving", "Flying",
    "Burning", "Holding", "Leaving", "Missing", "Finding", "Losing", "Breaking", "Calling",
    "Crossing", "Counting", "Watching", "Singing", "Walking", "Fighting", "Floating", "Hiding",
)  # fmt: skip
PLACES = (
    "Tokyo", "Paris", "Berlin", "Lagos", "Lisbon", "Havana", "Seoul", "Cairo", "Oslo",
    "Istanbul", "Brooklyn", "Memphis", "Detroit", "Nashville", "Kingston", "Mumbai", "Nairobi",
    "Reykjavik", "Marseille", "Montreal", "Buenos Aires", "Rio", "Bangkok", "Dublin", "Manila",
)  # fmt: skip
VERSIONS = (
    "Remix", "Acoustic", "Live", "Radio Edit", "Extended Mix", "Demo", "Instrumental",
    "Reprise", "Club Mix", "Unplugged",
)  # fmt: skip
GENRES = (
    "Pop", "Rock", "Indie Rock", "Indie Pop", "Alternative", "Hip Hop", "Rap", "Trap", "R&B",
    "Soul", "Funk", "Disco", "Jazz", "Smooth Jazz", "Blues", "Country", "Folk", "Americana",
    "Bluegrass", "Reggae", "Dancehall", "Afrobeats", "Amapiano", "Highlife", "Latin", "Salsa",
    "Reggaeton", "Bossa Nova", "Samba", "Flamenco", "Classical", "Opera", "Ambient",
    "Electronic", "House", "Deep House", "Tech House", "Techno", "Trance", "Drum and Bass",
    "Dubstep", "Garage", "Synthwave", "Lo-Fi", "Lo-Fi Hip Hop", "Chillhop", "Downtempo",
    "Trip Hop", "Punk", "Pop Punk", "Metal", "Heavy Metal", "Grunge", "Shoegaze", "Post-Rock",
    "K-Pop", "J-Pop", "City Pop", "Gospel", "Soundtrack", "Experimental", "World",
)  # fmt: skip
DESCRIPTIONS = (
    "",
    "",
    "",
    "Recorded live in one take.",
    "Written on a long night drive.",
    "Demo from the bedroom studio.",
    "From the upcoming EP.",
    "Mixed and mastered at home.",
    "A song about leaving and coming back.",
    "Headphones recommended.",
)
BITRATES = (128_000, 192_000, 256_000, 320_000)


@dataclass(frozen=True)
class SeedResult:
    users: int
    songs: int
    seconds: float
    # One seeded account to log in with (its password is SEED_PASSWORD).
    sample_email: str | None


@dataclass(frozen=True)
class _Owner:
    id: uuid.UUID
    fullname: str
    email: str | None = None


_LOW62 = (1 << 62) - 1


class _Ids:
    """UUIDv7 and ``created_at`` for rows spread evenly over a span of milliseconds, each
    a strictly later millisecond than the one before (so ids sort as their times do)."""

    def __init__(self, rng: random.Random, start_ms: int, span_ms: int, count: int) -> None:
        self._rng = rng
        self._start = start_ms
        self._step = max(1, span_ms // max(1, count))
        self._next = 0

    def take(self) -> tuple[uuid.UUID, datetime]:
        ms = self._start + self._next * self._step + self._rng.randrange(self._step)
        self._next += 1
        rand = self._rng.getrandbits(74)
        value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & _LOW62)
        return uuid.UUID(int=value), EPOCH + timedelta(milliseconds=ms)


def _user_rows(
    rng: random.Random, ids: _Ids, first_number: int, count: int
) -> tuple[list[tuple[Any, ...]], list[_Owner]]:
    rows: list[tuple[Any, ...]] = []
    owners: list[_Owner] = []
    for number in range(first_number, first_number + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}_{last}{number}"  # the number keeps it unique; ≤ 30 characters
        key = username.lower()
        fullname = f"{first} {last}"
        user_id, created = ids.take()
        rows.append(
            (
                user_id,
                fullname,
                f"{key}@{EMAIL_DOMAIN}",
                username,
                key,
                None,
                SEED_PASSWORD_HASH,
                Role.USER.value,
                None,
                created,
                created,
            )
        )
        owners.append(_Owner(user_id, fullname, f"{key}@{EMAIL_DOMAIN}"))
    return rows, owners


def _title(rng: random.Random) -> str:
    shape = rng.randrange(10)
    adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
    if shape <= 2:
        return f"{adjective} {noun}"
    if shape == 3:
        return f"The {adjective} {noun}"
    if shape == 4:
        return f"{noun} of the {adjective} {rng.choice(NOUNS)}"
    if shape == 5:
        return f"{rng.choice(GERUNDS)} {noun}s"
    if shape == 6:
        return f"{adjective} {noun} in {rng.choice(PLACES)}"
    if shape == 7:
        return f"{adjective} {noun} ({rng.choice(VERSIONS)})"
    if shape == 8:
        return f"{noun} & {rng.choice(NOUNS)}"
    return f"{rng.choice(GERUNDS)} the {adjective} {noun}"


class _Popularity:
    """Some artists upload far more than others: owner ``i`` of a shuffled order gets a
    share proportional to 1/sqrt(i + 1)."""

    def __init__(self, rng: random.Random, owners: Sequence[_Owner]) -> None:
        order = list(range(len(owners)))
        rng.shuffle(order)
        self._owners = [owners[i] for i in order]
        total = 0.0
        self._cumulative: list[float] = []
        for rank in range(len(owners)):
            total += 1.0 / (rank + 1) ** 0.5
            self._cumulative.append(total)

    def pick(self, rng: random.Random) -> _Owner:
        point = rng.random() * self._cumulative[-1]
        return self._owners[min(bisect.bisect(self._cumulative, point), len(self._owners) - 1)]


def _song_rows(
    rng: random.Random, ids: _Ids, popularity: _Popularity, count: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Songs, and their counters (``song_stats``): some plays each, no likes yet."""
    rows: list[tuple[Any, ...]] = []
    stats: list[tuple[Any, ...]] = []
    for _ in range(count):
        owner = popularity.pick(rng)
        song_id, created = ids.take()
        duration = round(rng.uniform(60.0, 420.0), 3)
        bitrate = rng.choice(BITRATES)
        rows.append(
            (
                song_id,
                owner.id,
                _title(rng),
                rng.choice(DESCRIPTIONS),
                rng.choice(GENRES) if rng.random() < 0.95 else None,
                owner.fullname,
                duration,
                "mp3",
                44_100,
                2,
                bitrate,
                f"songs/{rng.getrandbits(128):032x}/original.mp3",
                "mp3",
                int(duration * bitrate / 8),
                f"covers/{rng.getrandbits(128):032x}.webp",
                SongStatus.PLACEHOLDER.value,
                created,
                created,
            )
        )
        stats.append((song_id, int(rng.expovariate(1 / 150)), 0, 0))
    return rows, stats


_ADD_TO_COUNTER = text(
    "INSERT INTO counters (name, value) VALUES (:name, :delta) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value"
)


Rows = list[tuple[Any, ...]]
MODELS: dict[str, type[Song | SongStats | User]] = {
    model.__tablename__: model for model in (Song, SongStats, User)
}


async def _write(engine: AsyncEngine, *tables: tuple[str, Sequence[str], Rows]) -> None:
    """One batch in one transaction, with the catalogue counter when the rows are songs."""
    async with engine.begin() as connection:
        for table, columns, rows in tables:
            if table == Song.__tablename__:
                # First, so the COPY below runs inside the transaction this statement opens.
                await connection.execute(_ADD_TO_COUNTER, {"name": CATALOGUE, "delta": len(rows)})
            if connection.dialect.name == "postgresql":
                await _copy(connection, table, columns, rows)
            else:
                await connection.execute(
                    insert(MODELS[table]), [dict(zip(columns, row, strict=True)) for row in rows]
                )


async def _copy(
    connection: AsyncConnection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection  # asyncpg.Connection, in this transaction
    await driver.copy_records_to_table(table, records=rows, columns=list(columns))


async def _existing_owners(engine: AsyncEngine) -> list[_Owner]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, fullname FROM users ORDER BY id"))
        return [_Owner(uuid.UUID(str(row.id)), row.fullname) for row in rows]


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def _analyze(engine: AsyncEngine) -> None:
    """Fresh statistics and visibility maps, and the trigram indexes' pending lists merged,
    so the first queries after seeding behave like they will later."""
    if engine.dialect.name != "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) users, songs, counters"))


async def seed(
    database_url: str,
    *,
    users: int,
    songs: int,
    batch_size: int = DEFAULT_BATCH,
    random_seed: int = 2026,
    progress: Progress | None = None,
) -> SeedResult:
    """Add ``users`` fake users and ``songs`` fake songs (owned by the new users, or by the
    existing ones when ``users`` is 0), keep the catalogue counter in step, and refresh the
    planner's statistics. Usernames continue from the number of users already there."""
    if users < 0 or songs < 0 or batch_size < 1:
        raise ValueError("users and songs must be 0 or more, batch_size 1 or more")
    rng = random.Random(random_seed)  # fake data, reproducible on purpose
    started = time.monotonic()
    bar = _Bar(progress)
    engine = create_engine(database_url)
    try:
        end_ms = int(time.time() * 1000) - 60_000
        songs_start = end_ms - SONG_SPAN_MS
        if users:
            owners = await _seed_users(engine, rng, users, batch_size, songs_start, bar)
        else:
            owners = await _existing_owners(engine)
        if songs:
            if not owners:
                raise ValueError("songs need owners: seed some users too")
            await _seed_songs(engine, rng, owners, songs, batch_size, songs_start, bar)
        task = bar.add("analyze", None)
        await _analyze(engine)
        bar.finish(task)
    finally:
        await engine.dispose()
    sample = owners[0].email if users else None
    return SeedResult(users, songs, time.monotonic() - started, sample)


async def _seed_users(
    engine: AsyncEngine,
    rng: random.Random,
    count: int,
    batch_size: int,
    songs_start_ms: int,
    bar: _Bar,
) -> list[_Owner]:
    first_number = await _count(engine, User.__tablename__) + 1
    ids = _Ids(rng, songs_start_ms - USER_SPAN_MS, USER_SPAN_MS, count)
    task = bar.add("users", count)
    owners: list[_Owner] = []
    for done in range(0, count, batch_size):
        size = min(batch_size, count - done)
        rows, batch = _user_rows(rng, ids, first_number + done, size)
        await _write(engine, (User.__tablename__, USER_COLUMNS, rows))
        owners += batch
        bar.advance(task, size)
    return owners


async def _seed_songs(
    engine: AsyncEngine,
    rng: random.Random,
    owners: Sequence[_Owner],
    count: int,
    batch_size: int,
    start_ms: int,
    bar: _Bar,
) -> None:
    popularity = _Popularity(rng, owners)
    ids = _Ids(rng, start_ms, SONG_SPAN_MS, count)
    task = bar.add("songs", count)
    writing: asyncio.Task[int] | None = None

    async def write(batch: tuple[Rows, Rows]) -> int:
        rows, stats = batch
        await _write(
            engine,
            (Song.__tablename__, SONG_COLUMNS, rows),
            (SongStats.__tablename__, STATS_COLUMNS, stats),
        )
        return len(rows)

    try:
        for done in range(0, count, batch_size):
            # Make the next batch (in a thread) while the database takes the previous one.
            size = min(batch_size, count - done)
            batch = await asyncio.to_thread(_song_rows, rng, ids, popularity, size)
            if writing is not None:
                bar.advance(task, await writing)
            writing = asyncio.create_task(write(batch))
        if writing is not None:
            bar.advance(task, await writing)
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writing


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:>9,.0f} rows/s" if speed else "")


def progress_bar(console: Console | None = None) -> Progress:
    """The bar this script shows: one line per table, then the ANALYZE."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


class _Bar:
    """Progress reporting that does nothing when there is no bar to report to."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress

    def add(self, name: str, total: int | None) -> TaskID | None:
        return None if self._progress is None else self._progress.add_task(name, total=total)

    def advance(self, task: TaskID | None, rows: int) -> None:
        if self._progress is not None and task is not None:
            self._progress.advance(task, rows)

    def finish(self, task: TaskID | None) -> None:
        if self._progress is not None and task is not None:
            self._progress.update(task, total=1, completed=1)


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is below 0")
    return number


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fill the database with fake users and songs for load tests (no media files)."
    )
    parser.add_argument(
        "--users", type=_not_negative, default=1_000, help="fake users to add (1000)"
    )
    parser.add_argument(
        "--songs", type=_not_negative, default=10_000, help="fake songs to add (10000)"
    )
    parser.add_argument(
        "--batch-size",
        type=_at_least_one,
        default=DEFAULT_BATCH,
        help=f"rows per transaction ({DEFAULT_BATCH})",
    )
    parser.add_argument(
        "--seed",
        dest="random_seed",
        metavar="SEED",
        type=int,
        default=2026,
        help="seed of the fake data (2026)",
    )
    return parser.parse_args(argv)


class _Refused(Exception):
    """The settings forbid seeding; the message says which."""


def _run(args: argparse.Namespace, console: Console) -> SeedResult:
    settings = Settings()
    if settings.is_production:
        raise _Refused("refusing to seed fake accounts when BANDSTAND_ENV=production")
    with contextlib.ExitStack() as stack:
        if settings.is_embedded_database:
            # Taken before anything is written, so a refusal touches nothing; a server
            # started meanwhile refuses in turn, naming this process.
            stack.enter_context(
                datalock.holding(settings.data_dir, "bench/seed.py", settings.sqlite_file)
            )
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            upgrade(settings.effective_database_url)
        else:
            # Said in one line (as bandstand commands say it), not after an empty bar.
            asyncio.run(reachable(settings))
        with progress_bar(console) as progress:
            return asyncio.run(
                seed(
                    settings.effective_database_url,
                    users=args.users,
                    songs=args.songs,
                    batch_size=args.batch_size,
                    random_seed=args.random_seed,
                    progress=progress,
                )
            )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    try:
        result = _run(args, console)
    except Exception as exc:
        # What the operator can fix is one line, as ``bandstand`` says it; the rest is a bug.
        line = str(exc) if isinstance(exc, _Refused) else refusal(exc)
        if line is None:
            raise
        sys.stderr.write(f"seed.py: {line}\n")
        return 1
    console.print(
        f"[green]Added {result.users:,} users and {result.songs:,} songs "
        f"in {result.seconds:.1f} s.[/green]"
    )
    if result.sample_email:
        console.print(f"Log in as {result.sample_email} with password {SEED_PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
