"""/metrics is off unless asked for, and never served without a token."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bandstand.config import Settings
from tests.conftest import Harness


def test_metrics_need_a_long_token() -> None:
    with pytest.raises(ValidationError, match="BANDSTAND_METRICS_TOKEN"):
        Settings(metrics_enabled=True)
    with pytest.raises(ValidationError, match="BANDSTAND_METRICS_TOKEN"):
        Settings(metrics_enabled=True, metrics_token="short")
    assert Settings(metrics_enabled=True, metrics_token="t" * 16).metrics_enabled


async def test_no_metrics_by_default(harness: Harness) -> None:
    assert not harness.app.state.runtime.settings.metrics_enabled
    assert (await harness.client().get("/metrics")).status_code == 404
