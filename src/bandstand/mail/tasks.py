"""Email goes out from the queue: a mail server that is down delays a message, retried
with back-off, and never fails the request that asked for it."""

from __future__ import annotations

from bandstand.mail import compose
from bandstand.resources import JobMailer, JobSettings
from bandstand.worker.jobs import job


@job("mail.send")
async def send_email(
    to: str, subject: str, text: str, mailer: JobMailer, settings: JobSettings
) -> None:
    await mailer.send(compose(settings.smtp_from, to, subject, text))
