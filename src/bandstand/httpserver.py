"""The HTTP/1.1 protocol ``bandstand serve`` runs: uvicorn's, with a deadline on headers.

uvicorn times out a keep-alive connection idle between requests, but not a connection
that has sent part of a request line or of its headers (or nothing at all since it
opened): a few hundred of those hold as many sockets for as long as their senders like.
Here the request line and headers must all arrive within ``timeout_keep_alive`` seconds
of the connection opening or of the request's first byte; the body has its own limits
(``middleware.BodyTimeoutMiddleware``). Named by import path (cli.py), so the worker
processes of ``serve --workers N`` load it too.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderTimedProtocol(HttpToolsProtocol):
    _headers_due: asyncio.TimerHandle | None = None

    def _expect_headers(self) -> None:
        self._headers_arrived()
        self._headers_due = self.loop.call_later(self.timeout_keep_alive, self._headers_late)

    def _headers_arrived(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._expect_headers()

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)
