from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bandstand.config import Settings


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="BANDSTAND_SECRET_KEY"):
        Settings(_env_file=None, env="production")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="production", secret_key="short")  # type: ignore[call-arg]
    ok = Settings(_env_file=None, env="production", secret_key="s" * 40)  # type: ignore[call-arg]
    assert ok.is_production


def test_without_a_secret_the_data_dir_keeps_a_random_one(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    secret = settings.signing_secret()
    assert len(secret) >= 32 and settings.signing_secret() == secret
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    other = Settings(_env_file=None, data_dir=tmp_path / "elsewhere")  # type: ignore[call-arg]
    assert other.signing_secret() != secret


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BANDSTAND_PUBLIC_URL=https://music.example\nBANDSTAND_DATA_DIR=/srv/band\n"
    )
    monkeypatch.setenv("BANDSTAND_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.public_url == "https://music.example"
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.origins == ["https://music.example", "https://a.example", "https://b.example"]
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/band/bandstand.db"
    assert settings.is_embedded_database


def test_database_url_selects_postgresql() -> None:
    url = "postgresql+asyncpg://u@db/bandstand"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    assert settings.effective_database_url == url and not settings.is_embedded_database


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p%40ss@db:5433/band", "postgresql+asyncpg://u:p%40ss@db:5433/band"),
        ("postgresql://u@db/band?ssl=require", "postgresql+asyncpg://u@db/band?ssl=require"),
        ("postgresql+asyncpg://u@db/band", "postgresql+asyncpg://u@db/band"),
        ("sqlite:////srv/band/b.db", "sqlite+aiosqlite:////srv/band/b.db"),
    ],
)
def test_database_urls_as_hosts_give_them_out(given: str, used: str) -> None:
    settings = Settings(_env_file=None, database_url=given)  # type: ignore[call-arg]
    assert settings.effective_database_url == used


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("db.example.com/band", "not a database URL"),
        ("mysql://u@db/band", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@db/band", "unsupported database 'postgresql+psycopg2'"),
    ],
)
def test_a_database_url_we_cannot_use_is_refused_plainly(given: str, said: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(said)) as refused:
        Settings(_env_file=None, database_url=given)  # type: ignore[call-arg]
    assert "postgresql://user:password@host" in str(refused.value)


def test_host_and_port_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDSTAND_PORT", "8001")
    monkeypatch.setenv("BANDSTAND_HOST", "127.0.0.2")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.host, settings.port) == ("127.0.0.2", 8001)
    monkeypatch.setenv("BANDSTAND_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@db/band?sslmode=require", "postgresql+asyncpg://u@db/band?ssl=require"),
        ("postgresql://u@/band?host=/run/pg&sslmode=disable", None),
    ],
)
def test_libpq_sslmode_is_the_drivers_ssl(given: str, used: str | None) -> None:
    settings = Settings(_env_file=None, database_url=given)  # type: ignore[call-arg]
    url = settings.effective_database_url
    assert url == used if used else ("ssl=disable" in url and "sslmode" not in url)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("postgres://u@db/band?sslmode=sometimes", "sslmode must be one of"),
        ("postgres://u@db/band?application_name=x", "unsupported option application_name"),
        ("sqlite://", "in-memory SQLite"),
        ("sqlite:///:memory:", "in-memory SQLite"),
        ("sqlite:///file:x?mode=memory&uri=true", "in-memory SQLite"),
    ],
)
def test_urls_the_drivers_would_choke_on_are_refused_in_a_line(given: str, said: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(said)):
        Settings(_env_file=None, database_url=given)  # type: ignore[call-arg]


async def test_the_raw_driver_pool_gets_the_engines_tls_setting(database_url: str) -> None:
    from bandstand.kit.pgpool import driver_pool

    if not database_url.startswith("postgresql"):
        pytest.skip("the driver pool is PostgreSQL's")
    url = database_url.replace("postgresql+asyncpg://", "postgres://", 1) + "?sslmode=disable"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    pool = driver_pool(settings.effective_database_url)
    assert pool is not None
    try:
        assert await (await pool()).fetchval("SELECT 1") == 1
    finally:
        await pool.close()


def test_cheapest_password_hashes_only_in_the_test_suite() -> None:
    """At login a hash of another cost is made again: "cheapest" in production would
    weaken every password that logs in."""
    for env in ("production", "development"):
        with pytest.raises(ValidationError, match="only"):
            Settings(  # type: ignore[call-arg]
                _env_file=None, env=env, secret_key="s" * 40, password_hash_cost="cheapest"
            )
    settings = Settings(_env_file=None, env="test", password_hash_cost="cheapest")  # type: ignore[call-arg]
    assert settings.password_hash_cost == "cheapest"
