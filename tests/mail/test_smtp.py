"""The sign-up email through a real SMTP server (aiosmtpd), in all three TLS modes."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import Harness, code_in

SMTP_USER, SMTP_PASSWORD = "bandstand", "smtp-secret"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[tuple[Inbox, int, str]]:
    mode: str = request.param
    inbox = Inbox()
    port = _free_port()
    # aiosmtpd only counts STARTTLS as TLS when deciding whether to offer AUTH.
    options: dict[str, Any] = {
        "authenticator": _authenticate,
        "auth_require_tls": mode == "starttls",
    }
    if mode == "starttls":
        options |= {"tls_context": _server_context(ca), "require_starttls": True}
    elif mode == "tls":
        options |= {"ssl_context": _server_context(ca)}
    controller = Controller(inbox, hostname="localhost", port=port, **options)
    controller.start()
    yield inbox, port, mode
    controller.stop()


@pytest.mark.parametrize("smtp_server", ["none", "starttls", "tls"], indirect=True)
async def test_sign_up_code_arrives_by_smtp(
    make_harness: Any, smtp_server: tuple[Inbox, int, str], ca_file: Path
) -> None:
    inbox, port, mode = smtp_server
    harness: Harness = await make_harness(
        smtp_host="localhost",
        smtp_port=port,
        smtp_user=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        smtp_tls=mode,
        smtp_ca_file=ca_file,
        smtp_from="Bandstand <hello@bandstand.test>",
    )
    client = harness.client()
    started = await harness.register(client)
    assert started.status_code == 200, started.text
    await harness.settle()  # the email goes out from the queue
    [message] = inbox.messages
    assert message["To"] == "jane@example.com"
    assert message["From"] == "Bandstand <hello@bandstand.test>"
    assert not harness.outbox.exists()
    verified = await client.post("/api/v1/users/verify-otp", json={"otp": code_in(message)})
    assert verified.status_code == 201


async def test_a_mail_server_that_is_down_delays_the_code_but_loses_nothing(
    make_harness: Any,
) -> None:
    """The email is a job: the sign-up succeeds, the job fails while the server is down,
    and a retry delivers the code once it is back."""
    port = _free_port()
    harness: Harness = await make_harness(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none")
    client = harness.client()
    response = await harness.register(client)
    assert response.status_code == 200
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await harness.settle()
    finally:
        controller.stop()
    [message] = inbox.messages
    verified = await client.post("/api/v1/users/verify-otp", json={"otp": code_in(message)})
    assert verified.status_code == 201


async def test_a_mail_server_that_stays_down_costs_the_sign_up_nothing(
    make_harness: Any,
) -> None:
    harness: Harness = await make_harness(
        smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_tls="none", job_max_tries=2
    )
    response = await harness.register(harness.client())
    assert response.status_code == 200
    await harness.settle()  # two tries, then the job gives up
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(1,)]


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
async def test_a_certificate_we_do_not_trust_is_refused(
    make_harness: Any, smtp_server: tuple[Inbox, int, str]
) -> None:
    inbox, port, _ = smtp_server
    harness: Harness = await make_harness(
        smtp_host="localhost",
        smtp_port=port,
        smtp_tls="starttls",
        smtp_user=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        job_max_tries=2,
    )
    response = await harness.register(harness.client())
    assert response.status_code == 200
    await harness.settle()
    assert inbox.messages == []
