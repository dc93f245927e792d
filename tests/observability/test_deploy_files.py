"""The dashboard and the alert rules ask only for series that Bandstand exports (or, for
the disk, node-exporter's), and every alert an operator must hear about is there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from bandstand.observability import metrics
from bandstand.observability.collectors import Backlog, BacklogCollector

pytestmark = pytest.mark.backend_free

DEPLOY = Path(__file__).parents[2] / "deploy"
SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}


def _exported() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            names |= {value._name + suffix for suffix in SUFFIXES[value._type]}
    names |= {family.name for family in BacklogCollector(Backlog({}, {})).collect()}
    return names


def _asked(exprs: list[str]) -> set[str]:
    return {name for expr in exprs for name in re.findall(r"\bbandstand_[a-z_]+", expr)}


def test_alert_rules_use_exported_series() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    exprs = [rule["expr"] for rule in rules]
    assert _asked(exprs) <= _exported()
    alerts = {rule["alert"] for rule in rules}
    for needed in ("JobsFailing", "CounterFlushStalled", "JobQueueGrowing", "5xx", "DiskAlmost"):
        assert any(needed in alert for alert in alerts), needed
    assert all(rule["annotations"]["summary"] for rule in rules)


def test_dashboard_panels_use_exported_series() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/bandstand.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    asked = _asked(exprs)
    assert asked <= _exported()
    # Every series Bandstand exports has a panel.
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in _exported()}
    assert {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in asked} == families
