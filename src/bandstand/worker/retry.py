"""Retries with back-off: taskiq's SmartRetryMiddleware re-sends a failed job with a
``delay`` label, which no broker here honours on its own; the worker waits it out before
running the job again."""

from __future__ import annotations

import asyncio
from typing import Any

from taskiq import Context, TaskiqMessage, TaskiqMiddleware
from taskiq.middlewares import SmartRetryMiddleware

from bandstand.config import Settings


class WaitOutDelay(TaskiqMiddleware):
    """Sleep for a retry's ``delay`` before the job runs (the message stays unacknowledged
    meanwhile, so a worker that dies here leaves it to another)."""

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        if "_retries" in message.labels:
            await asyncio.sleep(float(message.labels.get("delay", 0)))
        return message


def retry_middlewares(settings: Settings) -> list[TaskiqMiddleware]:
    return [
        SmartRetryMiddleware(
            default_retry_count=settings.job_max_tries,
            default_retry_label=True,
            default_delay=settings.job_retry_delay_s,
            use_delay_exponent=True,  # the last wait × the retry's number, up to the cap
            max_delay_exponent=settings.job_retry_max_delay_s,
            use_jitter=True,
        ),
        WaitOutDelay(),
    ]


def attempt(context: Context) -> int:
    """Which try this is: 1 for the first."""
    return int(context.message.labels.get("_retries", 0)) + 1


def is_last_try(context: Context) -> bool:
    labels: dict[str, Any] = context.message.labels
    tries = int(labels.get("max_retries", context.state.runtime.settings.job_max_tries))
    return attempt(context) >= tries
