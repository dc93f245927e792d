"""X-Forwarded-For is believed only from the proxies ``trusted_proxies`` names.

Who the client is shows in the budgets per client: two requests that claim two addresses
spend one budget when the claim is ignored, two when it is believed."""

from __future__ import annotations

import httpx
from fastapi import Request

from bandstand.config import Settings
from tests.conftest import Harness

SEARCH = "/api/v1/songs/search"
ONE_SEARCH = {"limit_search_per_client": "1/minute"}


async def _search(client: httpx.AsyncClient, claimed: str) -> int:
    response = await client.get(SEARCH, headers={"x-forwarded-for": claimed})
    return response.status_code


async def test_by_default_no_one_is_believed_not_even_loopback(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**ONE_SEARCH)
    assert harness.settings.trusted_proxies == []
    local = harness.client("127.0.0.1")
    assert await _search(local, "203.0.113.1") == 401  # spent 127.0.0.1's one search
    assert await _search(local, "203.0.113.2") == 429


async def test_a_named_proxy_is_believed(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(**ONE_SEARCH, trusted_proxies="10.0.0.5")
    proxy = harness.client("10.0.0.5")
    assert await _search(proxy, "203.0.113.1") == 401
    assert await _search(proxy, "203.0.113.2") == 401  # another client behind the proxy
    assert await _search(proxy, "203.0.113.1") == 429
    # Proxies in a chain: the client is the last address no trusted proxy added.
    assert await _search(proxy, "198.51.100.9, 203.0.113.2") == 429
    # Anyone else's claim is ignored, loopback's too.
    stranger = harness.client("198.51.100.7")
    assert await _search(stranger, "203.0.113.3") == 401
    assert await _search(stranger, "203.0.113.4") == 429
    local = harness.client("127.0.0.1")
    assert await _search(local, "203.0.113.5") == 401
    assert await _search(local, "203.0.113.6") == 429


async def test_the_scheme_is_believed_from_a_named_proxy_only(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(trusted_proxies="10.0.0.0/8")
    seen: list[str] = []

    async def echo(request: Request) -> dict[str, str]:
        seen.append(request.url.scheme)
        return {}

    harness.app.add_api_route("/api/v1/scheme-echo", echo)
    headers = {"x-forwarded-proto": "https"}
    for address in ("10.1.2.3", "198.51.100.7"):
        answer = await harness.client(address).get("/api/v1/scheme-echo", headers=headers)
        assert answer.status_code == 200, answer.text
    assert seen == ["https", "http"]


def test_the_setting_takes_a_list_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANDSTAND_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert Settings(_env_file=None).trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
