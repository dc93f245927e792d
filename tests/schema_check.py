"""Answers checked against the schemas that document them: the views render dicts by hand
(for speed, on the busy routes), and these checks keep the dicts and the schemas in step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.routing import BaseRoute

API = "/api/v1"


def _routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            # A router included in another, as FastAPI keeps it.
            yield from _routes(inner.routes)


def declared(app: FastAPI, method: str, path: str) -> Any:
    """The ``response_model`` of the route ``method path`` (its template, as declared)."""
    for route in _routes(app.routes):
        # Routes of the API's own router carry the prefix already (``/api/v1/ping``).
        if path in (f"{API}{route.path}", route.path) and method in route.methods:
            return route.response_model
    raise AssertionError(f"no route {method} {path}")


def _by_name(value: Any) -> Any:
    # The schemas name ``_id`` only when serialising (``serialization_alias``).
    if isinstance(value, dict):
        return {("id" if k == "_id" else k): _by_name(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_by_name(v) for v in value]
    return value


def assert_conforms(app: FastAPI, method: str, path: str, body: Any) -> None:
    """``body`` is exactly what the route's schema says: it validates, and serialising it
    back gives the same JSON (no field missing, none extra, none of another type)."""
    schema = declared(app, method, path)
    adapter = TypeAdapter(schema)
    parsed = adapter.validate_python(_by_name(body))
    again = adapter.dump_python(parsed, mode="json", by_alias=True)
    assert _by_name(again) == _by_name(body), (method, path, _differences(again, body))


def _differences(again: Any, body: Any, where: str = "") -> list[str]:
    """Where the answer and its serialised schema differ, as paths into the JSON."""
    again, body = _by_name(again), _by_name(body)
    if isinstance(again, dict) and isinstance(body, dict):
        found = []
        for key in sorted(set(again) | set(body)):
            if key not in again or key not in body:
                found.append(f"{where}.{key}: only in the {'answer' if key in body else 'schema'}")
            else:
                found += _differences(again[key], body[key], f"{where}.{key}")
        return found
    if isinstance(again, list) and isinstance(body, list) and len(again) == len(body):
        return [
            d
            for n, (a, b) in enumerate(zip(again, body, strict=True))
            for d in _differences(a, b, f"{where}[{n}]")
        ]
    return [] if again == body else [f"{where}: {again!r} != {body!r}"]
