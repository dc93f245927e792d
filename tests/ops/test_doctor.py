"""``bandstand doctor`` passes on a healthy installation and names each broken dependency."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bandstand.config import Settings
from tests import services
from tests.commands import bandstand, environment
from tests.processes import RedisServer, free_port

STRONG = "kq3V8zR1-tYw_5bN0mLp7XcJ2hGd4sFa9uEo6iTr"


class _Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(_Accepting(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def healthy(settings: Settings, smtp_port: int, tmp_path: Path, request: Any) -> dict[str, str]:
    """A migrated installation on the run's backend, with a strong secret, an SMTP server
    that answers and, on PostgreSQL runs, a Redis that persists."""
    redis = request.getfixturevalue("persistent_redis") if services.REDIS_URL else None
    env = environment(
        settings,
        secret_key=STRONG,
        redis_url=redis or "",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_tls="none",
    )
    assert bandstand(env, "migrate").exit_code == 0
    return env


def _lines(output: str) -> dict[str, str]:
    """Each check's line, by its name: ``✓ database  ...`` → {"database": "✓ ..."}."""
    return {line.split()[1]: line for line in output.splitlines() if line[:1] in "✓✗"}


def test_a_healthy_installation_passes(healthy: dict[str, str], tmp_path: Path) -> None:
    nginx = tmp_path / "bandstand.conf"
    nginx.write_text(bandstand(healthy, "proxy-config").output)
    done = bandstand(healthy, "doctor", "--nginx-config", str(nginx))
    assert done.exit_code == 0, done.output
    lines = _lines(done.output)
    assert set(lines) == {
        "configuration",
        "database",
        "redis",
        "storage",
        "mail",
        "secret",
        "nginx",
    }
    assert all(line.startswith("✓") for line in lines.values()), done.output
    assert "at the latest migration" in lines["database"]
    assert "answers EHLO" in lines["mail"] and "matches" in lines["nginx"]
    expected = "persistent (append-only file)" if services.REDIS_URL else "not used (embedded)"
    assert expected in lines["redis"]


def _failing(env: dict[str, str], *args: str) -> dict[str, str]:
    done = bandstand(env, "doctor", *args)
    assert done.exit_code == 1, done.output
    return {name: line for name, line in _lines(done.output).items() if line.startswith("✗")}


def test_an_unreachable_database_fails_its_line(healthy: dict[str, str]) -> None:
    env = healthy | {"BANDSTAND_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/band"}
    assert set(_failing(env)) == {"database"}


def test_pending_migrations_fail_the_database_line(healthy: dict[str, str], tmp_path: Path) -> None:
    env = healthy | {"BANDSTAND_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    assert "migrations pending" in _failing(env)["database"]


def test_redis_unreachable_or_not_persistent_fails_its_line(
    healthy: dict[str, str], redis_server: RedisServer
) -> None:
    # Redis without the database's: the embedded database with Redis is a valid setup too.
    env = healthy | {"BANDSTAND_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    assert set(_failing(env)) == {"redis"}
    forgetful = _failing(healthy | {"BANDSTAND_REDIS_URL": redis_server.url})
    assert "not persistent" in forgetful["redis"]


def test_a_storage_folder_that_cannot_be_written_fails_its_line(
    healthy: dict[str, str], tmp_path: Path
) -> None:
    # The tests may run as root, whom permissions do not stop: a file where the media
    # folder should be stops everyone.
    data = tmp_path / "blocked"
    data.mkdir()
    (data / "media").write_text("not a folder")
    env = healthy | {"BANDSTAND_DATA_DIR": str(data)}
    assert set(_failing(env)) == {"storage"}


def test_an_smtp_server_that_does_not_answer_fails_its_line(healthy: dict[str, str]) -> None:
    with socket.socket() as sock:  # bound, not listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert set(_failing(healthy | {"BANDSTAND_SMTP_PORT": str(port)})) == {"mail"}


def test_a_default_or_weak_secret_fails_its_line(healthy: dict[str, str]) -> None:
    for weak in ("test-secret-" + "x" * 40, "changeme"):
        assert set(_failing(healthy | {"BANDSTAND_SECRET_KEY": weak})) == {"secret"}


def test_an_nginx_config_written_for_another_key_fails_its_line(
    healthy: dict[str, str], tmp_path: Path
) -> None:
    nginx = tmp_path / "bandstand.conf"
    other = healthy | {"BANDSTAND_SECRET_KEY": STRONG[::-1]}
    nginx.write_text(bandstand(other, "proxy-config").output)
    failed = _failing(healthy, "--nginx-config", str(nginx))
    assert set(failed) == {"nginx"} and "another media key" in failed["nginx"]
