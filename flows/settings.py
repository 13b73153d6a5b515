"""Prefect settings planflow needs before Prefect is imported (they are read at import)."""

from __future__ import annotations

import logging
import os
import re

from workflow.errors import PlanflowError

DEFAULTS = {
    # The server's telemetry calls home; on a closed network it logs an ERROR every start.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Planflow's own logs carry the audit-relevant events; Prefect's are for operators.
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def quiet_prefect() -> None:
    """Apply the defaults unless the operator set them (their environment wins)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


class _ReportedErrors(logging.Filter):
    """Drops Prefect's console copies of a planflow error: its traceback and the ERROR lines
    naming it. The CLI reports that error once, as one line with its exit code; the Prefect
    server keeps its own full record of the failed run."""

    def filter(self, record: logging.LogRecord) -> bool:
        raised = record.exc_info[1] if record.exc_info else None
        if isinstance(raised, PlanflowError):
            return False
        if record.levelno < logging.ERROR:
            return True
        message = record.getMessage()
        # A run stopped by SIGTERM: the CLI says so in its one line (`Stopped`, exit 143).
        return not (_names_an_error(message) or _TERMINATED in message)


_TERMINATED = "Execution was aborted by a termination signal"  # "Crash detected!", "Crashed(...)"


def _names_an_error(message: str) -> bool:
    """Whether a message names a planflow error, as Prefect writes one: `Conflict('...')` or
    `Conflict: ...`. The classes are looked up now, so those defined by modules imported
    after the filter was installed count too (only ERROR records get here: rare)."""
    names: list[str] = []
    todo: list[type[PlanflowError]] = [PlanflowError]
    while todo:
        kind = todo.pop()
        names.append(re.escape(kind.__name__))
        todo += kind.__subclasses__()
    return re.search(rf"\b(?:{'|'.join(names)})(?:\(|: )", message) is not None


def prefect_for_cli() -> None:
    """Before a CLI command imports a flow: planflow's Prefect defaults (`quiet_prefect`),
    Prefect's logging set up, and its console handlers given the `_ReportedErrors` filter."""
    quiet_prefect()
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    for name in [*logging.root.manager.loggerDict, ""]:
        if name and not name.startswith("prefect"):
            continue
        for handler in logging.getLogger(name).handlers:
            if not isinstance(handler, logging.StreamHandler):
                continue  # the API handler: the server keeps the whole record
            handler.filters = [f for f in handler.filters if not isinstance(f, _ReportedErrors)]
            handler.addFilter(_ReportedErrors())
