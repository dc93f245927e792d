"""Migrations are the schema: they build it, match the models, and go back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from bandstand.migrations import HERE, alembic_config, check, upgrade


def test_models_and_migrations_agree(database_url: str) -> None:
    check(database_url)  # raises if autogenerate would write anything


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    check(url)


def test_migration_files_are_dated_and_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for path in (HERE / "versions").glob("*.py"):
        assert path.name[:10].replace("_", "").isdigit(), path.name
