from __future__ import annotations

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
