"""structlog setup: readable console lines by default, JSON lines with --log-json.

Logs go to stderr so that stdout stays clean for --format json|csv output.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure(*, json_lines: bool = False, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor
    if json_lines:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
