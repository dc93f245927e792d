"""Email behind one interface: the outbox folder by default, SMTP when a host is set."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from bandstand.config import Settings


class MailDeliveryError(Exception):
    """The message could not be handed to the mail system."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def build_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        from bandstand.mail.smtp import SmtpMailer

        return SmtpMailer(settings)
    from bandstand.mail.outbox import OutboxMailer

    return OutboxMailer(settings.outbox_dir)


def compose(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message
