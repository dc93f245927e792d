"""``bandstand``: thin commands over the services."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from bandstand.config import Settings

app = typer.Typer(help="Bandstand: a self-hostable music platform.", no_args_is_help=True)
admin = typer.Typer(help="Manage administrators.", no_args_is_help=True)
app.add_typer(admin, name="admin")
counters = typer.Typer(help="Views, likes and comment counts.", no_args_is_help=True)
app.add_typer(counters, name="counters")
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log each request (off behind a proxy that logs them).")
    ] = True,
) -> None:
    """Serve the API (applies migrations first on the embedded database)."""
    import os

    import uvicorn

    # Links the API hands out (media URLs) point at this server unless told otherwise.
    os.environ.setdefault("BANDSTAND_PUBLIC_URL", f"http://{host}:{port}")
    settings = Settings()
    if workers > 1 and (settings.is_embedded_database or not settings.redis_url):
        # Each process would keep its own rate limits, multiplying every one by N.
        raise typer.BadParameter("several workers need PostgreSQL and BANDSTAND_REDIS_URL")
    uvicorn.run(
        "bandstand.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        access_log=access_log,
        log_level="info",
    )


@app.command()
def worker() -> None:
    """Run background jobs from Redis (production; the embedded default needs none)."""
    from bandstand.worker.run import work

    try:
        asyncio.run(work(Settings()))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from bandstand.migrations import upgrade

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    console.print("[green]Database is up to date.[/green]")


@app.command()
def cleanup() -> None:
    """Delete sign-ups nobody verified in time, with their avatars (the worker does this
    every `BANDSTAND_CLEANUP_EVERY_S` too)."""
    from bandstand.accounts.service import purge_all_expired_signups
    from bandstand.runtime import Runtime

    async def run() -> int:
        runtime = Runtime.build(Settings())
        try:
            return await purge_all_expired_signups(runtime)
        finally:
            await runtime.close()

    console.print(f"Removed {asyncio.run(run())} expired sign-ups.")


@counters.command("flush")
def counters_flush() -> None:
    """Write pending counter deltas to the database now (the worker does this every
    `BANDSTAND_COUNTER_FLUSH_S`). Useful with Redis; on the embedded default the pending
    deltas live in the server's memory, which only the server can flush."""
    from bandstand.engagement.flush import flush_counters
    from bandstand.runtime import Runtime

    async def run() -> str:
        runtime = Runtime.build(Settings())
        try:
            report = await flush_counters(runtime)
        finally:
            await runtime.close()
        if report.skipped:
            return "Another process is flushing; nothing done."
        return f"Flushed {report.counters:,} counters in {report.seconds:.2f} s."

    console.print(asyncio.run(run()))


@counters.command("rebuild")
def counters_rebuild() -> None:
    """Recompute every view, like and comment count from the tables that hold the truth,
    after Redis lost its data. On the embedded default, stop the server first: its
    pending deltas are in its memory, and it writes them when it stops."""
    from bandstand.engagement.flush import rebuild_counters
    from bandstand.runtime import Runtime

    async def run() -> float:
        runtime = Runtime.build(Settings())
        try:
            return (await rebuild_counters(runtime)).seconds
        finally:
            await runtime.close()

    console.print(f"[green]Counters rebuilt in {asyncio.run(run()):.2f} s.[/green]")


@app.command()
def seed(
    users: Annotated[int, typer.Option(min=0, help="Fake users to add.")] = 1_000,
    songs: Annotated[int, typer.Option(min=0, help="Fake songs to add.")] = 10_000,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 20_000,
    random_seed: Annotated[int, typer.Option("--seed", help="Seed of the fake data.")] = 2026,
) -> None:
    """Fill the database with fake users and songs for load tests (no media files)."""
    from bandstand import seed as seeding
    from bandstand.migrations import upgrade

    settings = Settings()
    if settings.is_production:
        # Every seeded account shares one published password.
        raise typer.BadParameter("refusing to seed fake accounts when BANDSTAND_ENV=production")
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    with seeding.progress_bar(console) as progress:
        result = asyncio.run(
            seeding.seed(
                settings.effective_database_url,
                users=users,
                songs=songs,
                batch_size=batch_size,
                random_seed=random_seed,
                progress=progress,
            )
        )
    console.print(
        f"[green]Added {result.users:,} users and {result.songs:,} songs "
        f"in {result.seconds:.1f} s.[/green]"
    )
    if result.sample_email:
        console.print(f"Log in as {result.sample_email} with password {seeding.SEED_PASSWORD}")


@app.command("storage-check")
def storage_check() -> None:
    """List stored files that no user, sign-up or song accounts for (exit 1 if any)."""
    from bandstand.runtime import Runtime
    from bandstand.storage.audit import strangers

    async def run() -> list[str]:
        runtime = Runtime.build(Settings())
        try:
            async with runtime.read_sessionmaker() as session:
                return await strangers(runtime.storage, session)
        finally:
            await runtime.close()

    found = asyncio.run(run())
    for key in found:
        console.print(key)
    console.print(f"{len(found)} stored files belong to nothing.")
    if found:
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


@admin.command("promote")
def promote(login: Annotated[str, typer.Argument(help="Email or username.")]) -> None:
    """Make an existing user an administrator."""
    from bandstand.accounts import repository as repo
    from bandstand.db import transaction
    from bandstand.models import Role
    from bandstand.runtime import Runtime

    async def run() -> bool:
        runtime = Runtime.build(Settings())
        try:
            async with transaction(runtime.sessionmaker) as session:
                user = await repo.user_by_login(session, login.strip().lower())
                if user is None:
                    return False
                user.role = Role.ADMIN
            return True
        finally:
            await runtime.close()

    if not asyncio.run(run()):
        console.print(f"[red]No user {login!r}.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]{login} is now an administrator.[/green]")
