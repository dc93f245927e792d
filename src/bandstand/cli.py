"""``bandstand``: thin commands over the services."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from bandstand.config import Settings
from bandstand.kit import datalock
from bandstand.operations import Refused

if TYPE_CHECKING:  # imported by the command that uses it: `--help` stays quick
    from bandstand.imports.service import Summary


class _Cli(typer.Typer):
    """Typer, except that a refusal (a bad setting, a data folder in use, a database or
    Redis out of reach) is one line on stderr and exit status 1, not a traceback: these
    are the operator's to fix, and nothing in the stack helps them do it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            line = refusal(exc)
            if line is None:
                raise
            sys.stderr.write(f"bandstand: {line}\n")
            sys.exit(1)


def refusal(exc: BaseException) -> str | None:
    """The one line that says what to fix, when ``exc`` is the operator's to fix."""
    import asyncpg

    from bandstand.errors import causes, disk_trouble, unreachable

    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        return "; ".join(_setting_error(error) for error in exc.errors())
    if isinstance(exc, datalock.LockRefused | Unreachable | Refused):
        return str(exc)
    refused = asyncpg.exceptions.InvalidAuthorizationSpecificationError
    missing = asyncpg.exceptions.InvalidCatalogNameError
    for cause in causes(exc):
        if isinstance(cause, refused | missing):
            return (
                f"the database refused the connection ({_first_line(cause)}); "
                "check BANDSTAND_DATABASE_URL"
            )
    if (said := disk_trouble(exc)) is not None:
        # The URL is right, the file is there: its disk failed or filled up.
        return f"the disk holding the database failed ({said}); check its free space and health"
    dependency = unreachable(exc)
    if dependency is None:
        return None
    setting = {"Redis": "BANDSTAND_REDIS_URL", "the database": "BANDSTAND_DATABASE_URL"}.get(
        dependency, "BANDSTAND_DATABASE_URL and BANDSTAND_REDIS_URL"
    )
    return f"cannot reach {dependency} ({_first_line(exc)}); check {setting}"


class Unreachable(Exception):
    """A service the command needs did not answer when it started."""

    def __init__(self, service: str, setting: str, cause: BaseException) -> None:
        super().__init__(f"cannot reach {service} ({_first_line(cause)}); check {setting}")


def _setting_error(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message
    return f"BANDSTAND_{'_'.join(str(part) for part in error['loc']).upper()}: {message}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


app = _Cli(
    help="Bandstand: a self-hostable music platform.",
    no_args_is_help=True,
    # A traceback's locals would print the settings, secrets included.
    pretty_exceptions_show_locals=False,
)
admin = typer.Typer(help="Manage administrators and moderators.", no_args_is_help=True)
app.add_typer(admin, name="admin")
counters = typer.Typer(help="Views, likes and comment counts.", no_args_is_help=True)
app.add_typer(counters, name="counters")
console = Console()


@contextlib.contextmanager
def _writing(settings: Settings, command: str) -> Iterator[None]:
    """On the embedded database, this command holds the data folder while it runs: a
    server on it refuses to start, and it refuses while a server runs (kit/datalock.py)."""
    if not settings.is_embedded_database:
        yield
        return
    with datalock.holding(settings.data_dir, f"bandstand {command}", settings.sqlite_file):
        yield


def _settings_reached() -> Settings:
    """The settings, once the services they name have answered (see ``reachable``)."""
    settings = Settings()
    if not settings.is_embedded_database or settings.redis_url:
        asyncio.run(reachable(settings))
    return settings


async def reachable(settings: Settings) -> None:
    """Connect to the database and Redis once, so that a wrong URL or a service that is
    down is said in one line before anything starts."""
    from sqlalchemy import text

    from bandstand.db import create_engine
    from bandstand.errors import unreachable
    from bandstand.kit.redisclient import connect

    if not settings.is_embedded_database:  # a file of ours: nothing to reach
        engine = create_engine(settings.effective_database_url)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            if unreachable(exc) is None:
                raise
            raise Unreachable("the database", "BANDSTAND_DATABASE_URL", exc) from exc
        finally:
            await engine.dispose()
    if settings.redis_url:
        client = connect(settings.redis_url)
        try:
            await client.ping()
        except Exception as exc:
            if unreachable(exc) is None:
                raise
            raise Unreachable("Redis", "BANDSTAND_REDIS_URL", exc) from exc
        finally:
            await client.aclose()


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on (default: BANDSTAND_HOST, or 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: BANDSTAND_PORT, or 8000).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log each request (off behind a proxy that logs them).")
    ] = True,
) -> None:
    """Serve the API (applies migrations first on the embedded database)."""
    settings = Settings()
    host = host or settings.host
    port = settings.port if port is None else port
    if "public_url" not in settings.model_fields_set:
        # Links the API hands out (media URLs) point at this server unless told otherwise;
        # the environment carries it to every worker process.
        os.environ["BANDSTAND_PUBLIC_URL"] = f"http://{host}:{port}"
        settings = Settings()
    if workers > 1 and (settings.is_embedded_database or not settings.redis_url):
        # Each process would keep its own rate limits, multiplying every one by N.
        raise typer.BadParameter("several workers need PostgreSQL and BANDSTAND_REDIS_URL")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        # The app itself believes X-Forwarded-For from BANDSTAND_TRUSTED_PROXIES only
        # (app.py); uvicorn's own reading would trust loopback whatever the setting says.
        "proxy_headers": False,
        # An idle keep-alive connection is closed after this long, and so is one whose
        # request line and headers take longer to arrive (httpserver.py); a body that
        # stalls is cut by the app (middleware.BodyTimeoutMiddleware).
        "timeout_keep_alive": max(1, round(settings.header_timeout_s)),
        "http": "bandstand.httpserver:HeaderTimedProtocol",
        "server_header": False,
        "access_log": access_log,
        "log_level": "info",
    }
    if settings.log_json:
        # uvicorn's own lines go through the app's logging (logging.py), as JSON too,
        # rather than through the plain handlers its default configuration installs.
        options["log_config"] = None
    if settings.is_embedded_database:
        # Held until this process exits (the app's start-up takes it again, re-entrantly);
        # taken before anything is imported or written, so a refusal is immediate.
        datalock.acquire(settings.data_dir, "bandstand serve", settings.sqlite_file)
    import uvicorn

    from bandstand.app import create_app
    from bandstand.migrations import upgrade

    if workers > 1:
        asyncio.run(reachable(settings))
        uvicorn.run("bandstand.app:create_app", factory=True, workers=workers, **options)
        return
    if not settings.is_embedded_database or settings.redis_url:
        asyncio.run(reachable(settings))
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    uvicorn.run(create_app(settings, migrate=False), **options)


@app.command()
def worker() -> None:
    """Run background jobs from Redis (production; the embedded default needs none)."""
    from bandstand.runtime import Runtime
    from bandstand.worker.run import work

    async def run() -> None:
        async with Runtime.opened(settings) as runtime:
            await work(runtime.queue, runtime.sessionmaker, state=runtime)

    settings = _settings_reached()
    if not settings.redis_url:
        raise typer.BadParameter("a worker takes its jobs from Redis: set BANDSTAND_REDIS_URL")
    asyncio.run(run())


@app.command()
def migrate(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Change nothing: exit 0 if the database is at the latest migration, "
            "1 (saying how many are pending) if not. For deploy scripts.",
        ),
    ] = False,
) -> None:
    """Apply database migrations."""
    settings = _settings_reached()
    if check:
        _migrate_check(settings)
        return
    with _writing(settings, "migrate"):
        from bandstand.migrations import upgrade

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    console.print("[green]Database is up to date.[/green]")


def _migrate_check(settings: Settings) -> None:
    from bandstand.operations.schema import schema_state

    state = asyncio.run(schema_state(settings.effective_database_url))
    if not state.at_head:
        named = "migration is" if state.pending == 1 else "migrations are"
        raise Refused(
            f"{state.pending} {named} pending (database at {state.current or 'none'}, "
            f"code at {state.head}): run `bandstand migrate`"
        )
    console.print(f"Database is at the latest migration ({state.head}).")


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder to write the backup to.")],
) -> None:
    """Copy the database and every media file, with a manifest of checksums, to DEST.
    Safe while the server runs (counters are rebuilt from their truth at restore)."""
    from bandstand.operations.backup import back_up
    from bandstand.storage import build_storage

    settings = _settings_reached()
    manifest = asyncio.run(back_up(settings, build_storage(settings), dest))
    size = sum(item.size for item in manifest.media)
    counts = ", ".join(f"{n:,} {label}" for label, n in manifest.counts.items())
    console.print(
        f"[green]Backed up {counts} and {len(manifest.media):,} media files "
        f"({size / 2**20:,.1f} MiB) to {dest}.[/green]"
    )


@app.command()
def restore(
    src: Annotated[
        Path,
        typer.Argument(
            help="A folder written by `bandstand backup`.",
            exists=True,
            file_okay=False,
            dir_okay=True,
            resolve_path=True,
        ),
    ],
) -> None:
    """Load a backup into this installation, which must be empty (no user, no media
    file): every checksum is checked first, older backups are migrated forward, and the
    counters are rebuilt from the likes, comments and plays."""
    from bandstand.operations.restore import restore as load

    settings = _settings_reached()
    with _writing(settings, "restore"):
        manifest = asyncio.run(load(settings, src))
    counts = ", ".join(f"{n:,} {label}" for label, n in manifest.counts.items())
    console.print(
        f"[green]Restored {counts} and {len(manifest.media):,} media files "
        f"from the backup of {manifest.created_at:%Y-%m-%d %H:%M} UTC.[/green]"
    )


@app.command()
def cleanup() -> None:
    """Delete sign-ups nobody verified in time, with their avatars (the worker does this
    every `BANDSTAND_CLEANUP_EVERY_S` too)."""
    from bandstand.accounts.signups import purge_all_expired_signups
    from bandstand.runtime import Runtime

    async def run() -> int:
        async with Runtime.opened(settings) as runtime:
            return await purge_all_expired_signups(runtime.sessionmaker, runtime.storage)

    settings = _settings_reached()
    console.print(f"Removed {asyncio.run(run())} expired sign-ups.")


@counters.command("flush")
def counters_flush() -> None:
    """Write pending counter deltas to the database now (the worker does this every
    `BANDSTAND_COUNTER_FLUSH_S`). Useful with Redis; on the embedded default the pending
    deltas live in the server's memory, which only the server can flush."""

    async def run(settings: Settings) -> str:
        from bandstand.engagement.counters.flush import flush_counters
        from bandstand.runtime import Runtime

        async with Runtime.opened(settings) as runtime:
            report = await flush_counters(runtime)
        if report.skipped:
            return "Another process is flushing; nothing done."
        return f"Flushed {report.counters:,} counters in {report.seconds:.2f} s."

    settings = _settings_reached()
    with _writing(settings, "counters flush"):
        console.print(asyncio.run(run(settings)))


@counters.command("rebuild")
def counters_rebuild() -> None:
    """Recompute every view, like and comment count from the tables that hold the truth,
    after Redis lost its data. On the embedded default, stop the server first: its
    pending deltas are in its memory, and it writes them when it stops."""

    async def run(settings: Settings) -> float:
        from bandstand.engagement.counters.flush import rebuild_counters
        from bandstand.runtime import Runtime

        async with Runtime.opened(settings) as runtime:
            return (await rebuild_counters(runtime)).seconds

    settings = _settings_reached()
    with _writing(settings, "counters rebuild"):
        seconds = asyncio.run(run(settings))
    console.print(f"[green]Counters rebuilt in {seconds:.2f} s.[/green]")


@app.command("storage-check")
def storage_check() -> None:
    """List stored files that no user, sign-up or song accounts for (exit 1 if any)."""
    from bandstand.runtime import Runtime
    from bandstand.storage.audit import strangers

    async def run() -> list[str]:
        async with Runtime.opened(settings) as runtime, runtime.read_sessionmaker() as session:
            return await strangers(runtime.storage, session)

    settings = _settings_reached()
    found = asyncio.run(run())
    for key in found:
        console.print(key)
    console.print(f"{len(found)} stored files belong to nothing.")
    if found:
        raise typer.Exit(1)


@app.command()
def doctor(
    nginx_config: Annotated[
        Path | None,
        typer.Option(
            help="The nginx configuration in use, checked against what `bandstand "
            "proxy-config` writes now (its media key and folder).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Check each dependency and print one line per check: configuration, database and
    migrations, Redis, storage, mail, secret, nginx. Exit 1 if any fails."""
    from bandstand.operations.doctor import Check, run_checks

    try:
        settings = Settings()
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        checks = [Check("configuration", False, "; ".join(map(_setting_error, exc.errors())))]
    else:
        where = f"{settings.env}, data folder {settings.data_dir}"
        checks = [Check("configuration", True, where)]
        checks += asyncio.run(run_checks(settings, nginx_config))
    for check in checks:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        console.print(f"{mark} {check.name:<13} {check.detail}", highlight=False, soft_wrap=True)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command("proxy-config")
def proxy_config(
    listen: Annotated[str, typer.Option(help="What nginx listens on.")] = "80",
    upstream: Annotated[str, typer.Option(help="Where `bandstand serve` listens.")] = (
        "127.0.0.1:8000"
    ),
    server_name: Annotated[str, typer.Option(help="nginx server_name.")] = "_",
) -> None:
    """Print the nginx configuration for production: media from disk, the rest proxied."""
    from bandstand.media.proxy import nginx_config

    try:
        text = nginx_config(Settings(), listen=listen, upstream=upstream, server_name=server_name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(text, nl=False)


class StaffRole(StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"


@admin.command("promote")
def promote(
    login: Annotated[str, typer.Argument(help="Email or username.")],
    role: Annotated[StaffRole, typer.Option(help="The role to give.")] = StaffRole.ADMIN,
) -> None:
    """Make an existing user a moderator or an administrator (written to the audit log)."""
    from bandstand.accounts import repository as repo
    from bandstand.db import transaction
    from bandstand.errors import AppError
    from bandstand.models import Role
    from bandstand.moderation.service import Actor, set_role
    from bandstand.runtime import Runtime

    operator = Actor(id=None, name="cli", role=Role.ADMIN)

    async def run() -> str | None:
        async with Runtime.opened(settings) as runtime:
            try:
                async with transaction(runtime.sessionmaker) as session:
                    user = await repo.user_by_login(session, login.strip().lower())
                    if user is None:
                        return f"No user {login!r}."
                    await set_role(session, operator, user.id, Role(role.value))
            except AppError as exc:  # refused (the last admin): nothing was changed
                return exc.message
            return None

    settings = _settings_reached()
    refused = asyncio.run(run())
    if refused is not None:
        console.print(f"[red]{refused}[/red]")
        raise typer.Exit(1)
    named = "an administrator" if role == StaffRole.ADMIN else "a moderator"
    console.print(f"[green]{login} is now {named}.[/green]")


@app.command("import")
def import_(
    folder: Annotated[
        Path,
        typer.Argument(
            help="The folder to bring in, with every folder inside it.",
            exists=True,
            file_okay=False,
            dir_okay=True,
            readable=True,
            resolve_path=True,
        ),
    ],
    owner: Annotated[str, typer.Option(help="Username (or email) of the songs' owner.")],
    wait: Annotated[
        bool,
        typer.Option(
            help="Process the songs here and wait until each is ready (HLS, loudness, "
            "waveform). Without it, `bandstand serve` (embedded) or `bandstand worker` "
            "(Redis) processes them."
        ),
    ] = False,
) -> None:
    """Bring a folder of audio files in as one user's songs, with releases made from
    their album tags. Each file is checked as an upload is and counted in the owner's
    quota (BANDSTAND_UPLOADS_PER_DAY, BANDSTAND_STORAGE_QUOTA_BYTES); a file the owner
    already has is left alone, so running it again brings in only what is new (and an
    interrupted import resumes). Songs are playable as uploaded at once."""
    settings = _settings_reached()
    with _writing(settings, "import"):
        if settings.is_embedded_database:
            from bandstand.migrations import upgrade

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            upgrade(settings.effective_database_url)

        asyncio.run(_import(settings, folder, owner, wait))


async def _import(settings: Settings, folder: Path, login: str, wait: bool) -> None:
    """``bandstand import``: the files in, then (``wait``) their processing."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bandstand.accounts import repository as accounts
    from bandstand.imports.service import import_folder, processed
    from bandstand.runtime import Runtime
    from bandstand.worker.cores import shared

    async with Runtime.opened(settings) as runtime:
        async with runtime.sessionmaker() as session:
            user = await accounts.user_by_login(session, login.strip().lower())
        if user is None:
            raise typer.BadParameter(f"there is no user {login!r}", param_hint="--owner")
        queue = runtime.queue
        if not queue.in_process:
            # Redis: jobs are handed over as each batch commits (and, with --wait, this
            # process takes its share of them as a worker does).
            await queue.start(runtime.sessionmaker, state=runtime, consume=wait)
        columns = (
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )

        class Bars:
            def __init__(self, progress: Progress) -> None:
                self._progress = progress

            def step(self, name: str, total: int) -> Callable[[int], None]:
                task = self._progress.add_task(name, total=total)
                return lambda count: self._progress.advance(task, count)

        # The processes FFmpeg runs in: checking the files now, processing them (--wait) next.
        cores = shared(2 * settings.processing_concurrency)
        started = time.monotonic()
        with Progress(*columns, console=console) as progress:
            summary = await import_folder(
                runtime.sessionmaker,
                settings,
                runtime.storage,
                queue,
                runtime.catalogue,
                cores,
                user.id,
                folder,
                Bars(progress),
            )
        playable_s = time.monotonic() - started
        _print_summary(summary, playable_s)
        if not summary.song_ids:
            return
        if not wait:
            where = "`bandstand serve`" if queue.in_process else "`bandstand worker`"
            console.print(f"{len(summary.song_ids):,} songs wait for processing by {where}.")
            return
        if queue.in_process:
            # The jobs waited in the database while the files came in; this process runs
            # them now, as `serve` would, with every core.
            await queue.start(runtime.sessionmaker, state=runtime, consume=False)
        total = len(summary.song_ids)
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Processing", total=total)
            while True:
                now = await processed(runtime.sessionmaker, summary.song_ids)
                progress.update(task, completed=total - now.waiting)
                if now.waiting == 0:
                    break
                await asyncio.sleep(0.5)
        done_s = time.monotonic() - started
        console.print(
            f"Processed: {now.ready:,} ready, {now.failed:,} failed; "
            f"{done_s:.1f} s from the start ({now.ready / done_s:.1f} tracks/s)."
        )


def _print_summary(summary: Summary, playable_s: float) -> None:
    from rich.table import Table

    imported = len(summary.imported)
    rate = imported / playable_s if playable_s else 0.0
    table = Table(title="Import", show_header=False)
    table.add_row("Imported", f"{imported:,}")
    table.add_row("Already there", f"{len(summary.already_there):,}")
    table.add_row("Skipped", f"{len(summary.skipped):,}")
    table.add_row("Releases made", f"{summary.releases_created:,}")
    table.add_row("Releases added to", f"{summary.releases_added_to:,}")
    table.add_row("Playable after", f"{playable_s:.1f} s ({rate:.1f} tracks/s)")
    console.print(table)
    repeats = [(path, note) for path, note in summary.already_there if note]
    if summary.skipped or repeats:
        reasons = Table(title="Left out, and why")
        reasons.add_column("File", overflow="fold")
        reasons.add_column("Why", overflow="fold")
        for path, why in [*summary.skipped, *repeats]:
            reasons.add_row(str(path), why)
        console.print(reasons)
