from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib
import structlog

from bandstand.config import Settings
from bandstand.mail import MailDeliveryError

log = structlog.get_logger(__name__)


class SmtpMailer:
    """Delivers through an SMTP server: plain, STARTTLS, or TLS from the first byte."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None
        )
        self.mode = settings.smtp_tls
        self.timeout = settings.smtp_timeout_s
        self.tls_context: ssl.SSLContext | None = None
        if self.mode != "none":
            cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
            self.tls_context = ssl.create_default_context(cafile=cafile)

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.user,
                password=self.password,
                use_tls=self.mode == "tls",
                start_tls=self.mode == "starttls",
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("smtp_delivery_failed", host=self.host, error=str(exc))
            raise MailDeliveryError(str(exc)) from exc
        log.info("email_sent", to=message["To"], subject=message["Subject"])
