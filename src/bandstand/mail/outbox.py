from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

import structlog

from bandstand.kit.ids import new_hex
from bandstand.kit.time import utcnow

log = structlog.get_logger(__name__)


class OutboxMailer:
    """Writes each message to ``<data dir>/outbox/`` and logs it, for machines with no mail."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        name = f"{utcnow():%Y%m%dT%H%M%S}-{new_hex()}.eml"
        path = self.directory / name
        await asyncio.to_thread(self._write, path, message.as_bytes())
        body = message.get_body(("plain",))
        log.info(
            "email_written_to_outbox",
            to=message["To"],
            subject=message["Subject"],
            path=str(path),
            text=body.get_content().strip() if body else "",
        )

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
