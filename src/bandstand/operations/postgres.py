"""PostgreSQL's own client tools (``pg_dump``, ``pg_restore``), run as child processes."""

from __future__ import annotations

import asyncio
import os
import shutil

from sqlalchemy.engine import make_url

from bandstand.operations import Refused


def tool(name: str) -> str:
    """The path of ``name``, or Refused: a dump needs the server's own tools."""
    found = shutil.which(name)
    if found is None:
        raise Refused(
            f"{name} is not installed: on PostgreSQL, backups use PostgreSQL's client "
            "tools (Debian: apt install postgresql-client, of the server's major version)"
        )
    return found


def connection(database_url: str) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment that point a libpq tool at ``database_url``: the
    password goes in the environment, where ``ps`` does not show it."""
    url = make_url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    args = ["--dbname", url.database or ""]
    if url.username:
        args += ["--username", url.username]
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    host = url.query.get("host") or url.host
    if host:
        args += ["--host", str(host)]
    if url.port:
        args += ["--port", str(url.port)]
    if "ssl" in url.query:
        env["PGSSLMODE"] = str(url.query["ssl"])
    return args, env


async def run(name: str, args: list[str], env: dict[str, str]) -> bytes:
    """Run the tool, for what it prints; its first line of complaint becomes the error."""
    process = await asyncio.create_subprocess_exec(
        tool(name),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        said = lines[0] if lines else f"exit status {process.returncode}"
        raise Refused(f"{name} failed: {said}")
    return stdout
