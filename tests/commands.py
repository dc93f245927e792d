"""``bandstand`` commands run in the test's own process, for tests of what a command
does and says rather than of the process it runs in (a process costs a second or two of
CPU to start; tests/processes.py starts real ones where the process is the point)."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner, Result

from bandstand.cli import app
from bandstand.config import Settings


def environment(settings: Settings, **more: Any) -> dict[str, str]:
    """The variables that give a command ``settings``' installation."""
    env = {
        "BANDSTAND_ENV": "test",
        "BANDSTAND_DATA_DIR": str(settings.data_dir),
        "BANDSTAND_DATABASE_URL": settings.effective_database_url,
        "BANDSTAND_REDIS_URL": settings.redis_url or "",
        "BANDSTAND_REDIS_NAMESPACE": settings.redis_namespace,
        "BANDSTAND_SECRET_KEY": settings.secret_key.get_secret_value()
        if settings.secret_key
        else "",
    }
    env.update({f"BANDSTAND_{k.upper()}": str(v) for k, v in more.items()})
    return {k: v for k, v in env.items() if v != ""}


def bandstand(env: dict[str, str], *args: str) -> Result:
    """``bandstand ARGS`` in this process, with exactly ``env``'s settings."""
    cleared = {
        name: None for name in Settings.model_fields if f"BANDSTAND_{name.upper()}" not in env
    }
    cleared_env: dict[str, str | None] = {f"BANDSTAND_{k.upper()}": v for k, v in cleared.items()}
    return CliRunner().invoke(app, list(args), env={**cleared_env, **env})
