"""Email goes out from the queue: a mail server that is down delays a message, retried
with back-off, and never fails the request that asked for it."""

from __future__ import annotations

from typing import Annotated

from taskiq import Context, TaskiqDepends

from bandstand.mail import compose
from bandstand.worker.jobs import job


@job("mail.send")
async def send_email(
    to: str, subject: str, text: str, context: Annotated[Context, TaskiqDepends()]
) -> None:
    rt = context.state.runtime
    await rt.mailer.send(compose(rt.settings.smtp_from, to, subject, text))
