"""structlog set-up: readable lines in a terminal, JSON lines when asked.

With JSON lines, what libraries log through the standard library (taskiq, and uvicorn
when ``serve`` leaves its logging alone) is rendered as JSON too, with the request id
and whatever else is bound: a log shipper then reads one format, one object a line.
"""

from __future__ import annotations

import logging
import sys

import structlog

_STDLIB_HANDLER = "bandstand-json"


def configure_logging(json_lines: bool = False, level: int = logging.INFO) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        # Plain tracebacks: the default rich ones print local variables, passwords included.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    if json_lines:
        processors.append(structlog.processors.format_exc_info)
        _stdlib_as_json(processors, level)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def _stdlib_as_json(processors: list[structlog.types.Processor], level: int) -> None:
    """One handler on the root logger that renders records as structlog's JSON lines
    (added once, however often this runs)."""
    root = logging.getLogger()
    if any(handler.get_name() == _STDLIB_HANDLER for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)  # where structlog prints, in order
    handler.set_name(_STDLIB_HANDLER)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
