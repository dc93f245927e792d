"""Slow and half-sent requests against a real ``bandstand serve``: a body that trickles
or stalls is cut off with a 408, headers that never finish and idle connections are
closed, and a slow body that keeps coming is let through. Also: a client on loopback
cannot claim another address with X-Forwarded-For."""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import Bandstand, free_port

pytestmark = pytest.mark.backend_free

LOGIN = "/api/v1/users/login"


@dataclass
class Server:
    port: int
    log: Path

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("slow-clients")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTAND_")}
    env |= {
        "BANDSTAND_DATA_DIR": str(folder),
        "BANDSTAND_PORT": str(port),
        "BANDSTAND_BODY_TIMEOUT_S": "1",
        "BANDSTAND_BODY_IDLE_TIMEOUT_S": "1",
        "BANDSTAND_HEADER_TIMEOUT_S": "1",
        "BANDSTAND_LIMIT_SEARCH_PER_CLIENT": "1/minute",
    }
    process = Bandstand(["serve", "--no-access-log"], env, folder / "serve.log")
    process.start()
    try:
        process.wait_until_serving(f"http://127.0.0.1:{port}")
        yield Server(port, folder / "serve.log")
    finally:
        process.stop()


def _head(length: int) -> bytes:
    return (
        f"POST {LOGIN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _read_all(sock: socket.socket, within_s: float) -> bytes:
    """Everything the server sends until it closes the connection (or the time is up)."""
    deadline, got = time.monotonic() + within_s, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], deadline - time.monotonic())
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    raise AssertionError(f"still open after {within_s} s; got {got[:200]!r}")


def test_a_trickled_body_is_cut_off(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(_head(200))
        answer = b""
        while time.monotonic() - started < 10:
            sock.sendall(b" ")  # one byte every 0.2 s: 5 bytes a second
            if select.select([sock], [], [], 0.2)[0]:
                answer = _read_all(sock, 5)
                break
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"Request body not received in time." in answer
    assert b"connection: close" in answer.lower()
    assert 0.9 <= elapsed <= 4, elapsed


def test_a_stalled_body_is_cut_off(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(_head(200) + b'{"email": ')
        answer = _read_all(sock, 5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert time.monotonic() - started <= 4


def test_a_slow_body_that_keeps_coming_is_let_through(server: Server) -> None:
    body = b'{"email": "nobody@example.com", "password": "not-this-one"}'.ljust(3000)
    with server.connect() as sock:
        sock.sendall(_head(len(body)))
        for start in range(0, len(body), 150):  # about 3 KB a second for a second
            sock.sendall(body[start : start + 150])
            time.sleep(0.05)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]


def test_a_hundred_half_sent_requests_do_not_stay_open(server: Server) -> None:
    """Half the connections stop inside their headers, half inside their bodies."""
    socks = [server.connect() for _ in range(100)]
    try:
        for n, sock in enumerate(socks):
            if n % 2:
                sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le".encode())
            else:
                sock.sendall(_head(100) + b"{")
        started = time.monotonic()
        answers = [_read_all(sock, max(0.5, 6 - (time.monotonic() - started))) for sock in socks]
        assert time.monotonic() - started <= 6
    finally:
        for sock in socks:
            sock.close()
    assert all(a == b"" for a in answers[1::2]), [a[:80] for a in answers[1::2] if a][:3]
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers[::2]), answers[0][:200]


def test_an_idle_connection_is_closed(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        assert _read_all(sock, 5) == b""
    assert time.monotonic() - started <= 4


def test_loopback_cannot_claim_another_address(server: Server) -> None:
    """``serve`` does not let uvicorn trust loopback's X-Forwarded-For either."""
    statuses = [
        httpx.get(
            f"{server.url}/api/v1/songs/search", headers={"x-forwarded-for": f"203.0.113.{n}"}
        ).status_code
        for n in (1, 2)
    ]
    assert statuses == [401, 429]


def test_no_cut_off_request_is_a_fault(server: Server) -> None:
    test_a_stalled_body_is_cut_off(server)
    log = server.log.read_text(errors="replace")
    assert "unhandled_error" not in log and "Traceback" not in log, log[-3000:]
