"""The route table of ``/api/v1``: who declares each path, and which route a request reaches.

Each URL prefix (``/songs``, ``/users`` ...) is declared by one router module, so the order
of its routes can be read in one file and the order routers are included in decides
nothing. Within a module, literal paths (``/songs/search``) must come before the routes
that take a parameter in the same place (``/songs/{songId}``): a request to a literal
path is matched here as the app matches it, and must reach the route declared for it.
The full table is compared with ``TABLE`` so that any change to it shows in review.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.routing import Match

from bandstand.app import API_PREFIX, create_app
from bandstand.config import Settings

pytestmark = pytest.mark.backend_free

# (method, path under /api/v1, module under bandstand), in the order requests are matched.
TABLE = [
    ("POST", "/songs/{songId}/like", "songs.router"),
    ("POST", "/songs/{songId}/unlike", "songs.router"),
    ("GET", "/songs/search", "songs.router"),
    ("GET", "/songs/likedSongs", "songs.router"),
    ("POST", "/songs/upload", "songs.router"),
    ("GET", "/songs/home", "songs.router"),
    ("GET", "/songs/userSongs", "songs.router"),
    ("PATCH", "/songs/updateSong/{songId}", "songs.router"),
    ("DELETE", "/songs/delete", "songs.router"),
    ("PATCH", "/songs/{songId}/thumbnail", "songs.router"),
    ("GET", "/songs/{songId}/stream", "songs.router"),
    ("HEAD", "/songs/{songId}/stream", "songs.router"),
    ("GET", "/songs/{songId}/waveform", "songs.router"),
    ("GET", "/songs/{songId}", "songs.router"),
    ("POST", "/songs/{songId}", "songs.router"),
    ("POST", "/users/register", "accounts.router"),
    ("POST", "/users/resend-otp", "accounts.router"),
    ("POST", "/users/verify-otp", "accounts.router"),
    ("POST", "/users/login", "accounts.router"),
    ("POST", "/users/refresh-token", "accounts.router"),
    ("POST", "/users/logout", "accounts.router"),
    ("GET", "/users/current-user", "accounts.router"),
    ("GET", "/users/sessions", "accounts.router"),
    ("DELETE", "/users/sessions/{sessionId}", "accounts.router"),
    ("POST", "/users/app-passwords", "accounts.router"),
    ("GET", "/users/app-passwords", "accounts.router"),
    ("DELETE", "/users/app-passwords/{appPasswordId}", "accounts.router"),
    ("POST", "/users/change-password", "accounts.router"),
    ("PATCH", "/users/update-account", "accounts.router"),
    ("POST", "/users/email/confirm", "accounts.router"),
    ("POST", "/users/2fa/setup", "accounts.router"),
    ("POST", "/users/2fa/enable", "accounts.router"),
    ("POST", "/users/2fa/disable", "accounts.router"),
    ("PATCH", "/users/update-avatar", "accounts.router"),
    ("GET", "/users/get/{userId}", "accounts.router"),
    ("GET", "/users/{userId}/content", "accounts.router"),
    ("POST", "/users/watchHistory", "accounts.router"),
    ("GET", "/users/watchHistory", "accounts.router"),
    ("GET", "/comments/mutes", "comments.router"),
    ("POST", "/comments/mutes/{userId}", "comments.router"),
    ("DELETE", "/comments/mutes/{userId}", "comments.router"),
    ("GET", "/comments/analytics/{songId}", "comments.router"),
    ("DELETE", "/comments/nuke/{commentId}", "comments.router"),
    ("GET", "/comments/{songId}/comments", "comments.router"),
    ("GET", "/comments/{commentId}/replies", "comments.router"),
    ("POST", "/comments/{songId}", "comments.router"),
    ("POST", "/comments/{songId}/reply/{parentId}", "comments.router"),
    ("POST", "/comments/{songId}/close", "comments.router"),
    ("POST", "/comments/{songId}/open", "comments.router"),
    ("POST", "/comments/{commentId}/like", "comments.router"),
    ("POST", "/comments/{commentId}/unlike", "comments.router"),
    ("DELETE", "/comments/{commentId}/delete", "comments.router"),
    ("POST", "/comments/{commentId}/approve", "comments.router"),
    ("POST", "/playlist", "playlists.router"),
    ("POST", "/playlist/", "playlists.router"),
    ("GET", "/playlist/get", "playlists.router"),
    ("GET", "/playlist/getPublicPlaylist", "playlists.router"),
    ("GET", "/playlist/get/{playlistId}", "playlists.router"),
    ("POST", "/playlist/{playlistId}/addSongs", "playlists.router"),
    ("DELETE", "/playlist/{playlistId}/removeSong/{songId}", "playlists.router"),
    ("POST", "/playlist/{playlistId}/update", "playlists.router"),
    ("DELETE", "/playlist/delete", "playlists.router"),
    ("POST", "/releases", "releases.router"),
    ("GET", "/releases", "releases.router"),
    ("GET", "/releases/{releaseId}", "releases.router"),
    ("PATCH", "/releases/{releaseId}", "releases.router"),
    ("PATCH", "/releases/{releaseId}/thumbnail", "releases.router"),
    ("POST", "/releases/{releaseId}/songs", "releases.router"),
    ("DELETE", "/releases/{releaseId}/songs/{songId}", "releases.router"),
    ("PUT", "/releases/{releaseId}/order", "releases.router"),
    ("DELETE", "/releases/{releaseId}", "releases.router"),
    ("GET", "/analytics/{songId}", "analytics.router"),
    ("GET", "/media/{expires}/{signature}/songs/{folder}/{name}", "media.router"),
    ("HEAD", "/media/{expires}/{signature}/songs/{folder}/{name}", "media.router"),
    ("POST", "/reports", "moderation.router"),
    ("GET", "/reports/mine", "moderation.router"),
    ("GET", "/admin/reports", "moderation.router"),
    ("POST", "/admin/reports/{reportId}/resolve", "moderation.router"),
    ("POST", "/admin/users/{userId}/role", "moderation.router"),
    ("POST", "/admin/users/{userId}/ban", "moderation.router"),
    ("POST", "/admin/users/{userId}/unban", "moderation.router"),
    ("POST", "/admin/songs/{songId}/takedown", "moderation.router"),
    ("POST", "/admin/songs/{songId}/restore", "moderation.router"),
    ("DELETE", "/admin/songs/{songId}", "moderation.router"),
    ("POST", "/admin/comments/{commentId}/hide", "moderation.router"),
    ("POST", "/admin/comments/{commentId}/unhide", "moderation.router"),
    ("DELETE", "/admin/comments/{commentId}", "moderation.router"),
    ("POST", "/admin/playlists/{playlistId}/hide", "moderation.router"),
    ("POST", "/admin/playlists/{playlistId}/unhide", "moderation.router"),
    ("DELETE", "/admin/playlists/{playlistId}", "moderation.router"),
    ("GET", "/admin/audit", "moderation.router"),
    ("GET", "/ping", "app"),
]
PARAM = re.compile(r"{[^}]+}")


def _app() -> FastAPI:
    # The table needs no database, Redis or lifespan: only the routes the app declares.
    settings = Settings(_env_file=None, env="test", secret_key="test-secret-" + "x" * 40)  # type: ignore[call-arg]
    return create_app(settings, migrate=False)


def _routes(app: FastAPI) -> list[RouteContext]:
    """Every route in the order the app tries them for a request."""
    return list(iter_route_contexts(app.routes))


def _rows(app: FastAPI) -> list[tuple[str, str, str, RouteContext]]:
    rows = []
    for route in _routes(app):
        path = route.path or ""
        if not path.startswith(f"{API_PREFIX}/"):
            continue
        module = route.endpoint.__module__.removeprefix("bandstand.")
        for method in sorted(route.methods or ()):
            rows.append((method, path.removeprefix(API_PREFIX), module, route))
    return rows


def _reached(routes: list[RouteContext], method: str, path: str) -> RouteContext | None:
    """The route a request reaches, as the app picks it: the first that fully matches."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {}}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def test_the_route_table_is_the_one_written_here() -> None:
    """A route added, removed, moved or reordered shows here; update TABLE on purpose."""
    assert [(method, path, module) for method, path, module, _ in _rows(_app())] == TABLE


def test_each_url_prefix_is_declared_by_one_module() -> None:
    modules: dict[str, set[str]] = defaultdict(set)
    for _, path, module, _ in _rows(_app()):
        modules[path.split("/")[1]].add(module)
    split = {prefix: sorted(found) for prefix, found in modules.items() if len(found) > 1}
    assert not split, f"URL prefixes declared in more than one module: {split}"


def test_every_route_is_reached_by_a_request_to_its_own_path() -> None:
    """A literal path (``/songs/search``) is never taken by an earlier route with a
    parameter in its place (``/songs/{songId}``): each route's path, its parameters
    filled with ids, reaches that route and no other."""
    app = _app()
    routes = _routes(app)
    shadowed = []
    for method, path, _, route in _rows(app):
        sample = API_PREFIX + PARAM.sub(lambda _: str(uuid.uuid4()), path)
        reached = _reached(routes, method, sample)
        if reached is None or reached.original_route is not route.original_route:
            shadowed.append((method, path, reached.path if reached else None))
    assert not shadowed, f"(method, path, reached instead): {shadowed}"


def test_likes_are_the_first_routes_a_request_is_matched_against() -> None:
    """The busiest write must not pay for trying every other route first (route
    matching was an eighth of a like's CPU when the likes came after them)."""
    app = _app()
    first = [(sorted(r.methods or ()), r.path) for r in _routes(app)[:3]]
    assert first == [
        (["GET", "HEAD"], "/openapi.json"),
        (["POST"], f"{API_PREFIX}/songs/{{songId}}/like"),
        (["POST"], f"{API_PREFIX}/songs/{{songId}}/unlike"),
    ]
