"""structlog setup: quiet by default, readable console lines, JSON lines with --log-json.

Console lines go to stderr so that stdout stays clean for --format json|csv output. Without
--verbose only WARNING and ERROR events reach the console: a command prints its output and
nothing else. The demo and the flows also keep every event (INFO and up) in a log file of
their output folder, as JSON lines (`to_file`).

Times are Vietnam time with their offset; a simulation's events carry the simulated time
(`simulated`), so the log of a demo of 2024 reads as 2024.

structlog (and rich, which it loads) is imported at the first event, not by `configure`:
a command that logs nothing, as most reads do, does not pay for it. Code that logs takes its
logger from `logger(name)`, or calls `verbose`/`to_file` first (the servers, the flows),
which apply the configuration.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from workflow.clock import LOCAL_TZ, Clock
from workflow.private_files import FILE_MODE, create_private

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger, Processor

LOG_FILE = "planflow.log"

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


class _StderrLogger:
    """Writes to whatever sys.stderr is now (it may be swapped after configuration)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    debug = info = warning = warn = error = critical = exception = fatal = failure = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()


@dataclass
class _Sinks:
    """Where events go now; one per process (set by the CLI's root options, the demo)."""

    console_level: int = logging.INFO
    console: Processor | None = None
    file: IO[str] | None = None
    clock: Clock | None = None  # a simulation's clock; None: the real time
    # What `configure` asked for, applied to structlog when it is first needed (`_ready`).
    json_lines: bool = False
    level: int = logging.INFO
    pending: bool = False


_SINKS = _Sinks()


def _timestamp(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    clock = _SINKS.clock
    now = clock.now() if clock is not None else dt.datetime.now(dt.UTC)
    event["timestamp"] = now.astimezone(LOCAL_TZ).isoformat(timespec="seconds")
    return event


def _fan_out(logger: Any, name: str, event: MutableMapping[str, Any]) -> Any:
    """The last processor: the event to the log file, if one is open, and to the console
    if it is at the console's level (else dropped there)."""
    level = _LEVELS.get(str(event.get("level", "info")), logging.INFO)
    if _SINKS.file is not None:
        # When, how grave and what first: the file is read by people too (less, tail -f).
        first = {k: event[k] for k in ("timestamp", "level", "event") if k in event}
        line = json.dumps(first | dict(event), ensure_ascii=False, default=str)
        _SINKS.file.write(line + "\n")
        _SINKS.file.flush()  # read while the command runs (tail -f), and by tests
    if level < _SINKS.console_level or _SINKS.console is None:
        import structlog  # loaded already: an event is being processed

        raise structlog.DropEvent
    return _SINKS.console(logger, name, event)


def configure(
    *, json_lines: bool = False, verbose: bool = False, level: int = logging.INFO
) -> None:
    """`level`: the lowest level logged at all; the console shows it with `verbose`, else
    WARNING and up."""
    close_file()
    _SINKS.clock = None
    _SINKS.console_level = level if verbose else max(level, logging.WARNING)
    _SINKS.json_lines, _SINKS.level = json_lines, level
    _SINKS.pending = "structlog" not in sys.modules
    if not _SINKS.pending:  # loaded already (a server, the tests): applied now, as always
        _apply()


def _ready() -> None:
    """Apply what `configure` asked for if it waited for structlog to load, unless someone
    configured structlog since (theirs came later: it wins, as it would have anyway)."""
    if not _SINKS.pending:
        return
    _SINKS.pending = False
    import structlog

    if not structlog.is_configured():
        _apply()


def _apply() -> None:
    import structlog

    if _SINKS.json_lines:
        _SINKS.console = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        _SINKS.console = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _timestamp,
            _fan_out,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_SINKS.level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def verbose() -> None:
    """INFO events to the console too: servers (`planflow web`, `serve`), whose operator
    watches their console."""
    _ready()  # their modules log through structlog directly
    _SINKS.console_level = min(_SINKS.console_level, logging.INFO)


class _Deferred:
    """structlog's logger `name`, through which each event goes once structlog is loaded
    and configured: the first event pays for that, not the command's start."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        _ready()
        import structlog

        return getattr(structlog.get_logger(self._name), attr)


def logger(name: str) -> FilteringBoundLogger:
    """The logger `name` (structlog's), loaded at its first event."""
    return cast("FilteringBoundLogger", _Deferred(name))


def simulated(clock: Clock | None) -> None:
    """Stamp events with `clock`'s time (a simulation's), or the real time with None."""
    _SINKS.clock = clock


@contextmanager
def to_file(folder: Path, *, fresh: bool = False) -> Iterator[Path]:
    """While inside, every event is also appended to `folder`/planflow.log (JSON lines, the
    file 0600: events name people and dossiers). `fresh`: start the file empty (the demo,
    whose database starts empty too)."""
    _ready()  # every event of the run goes to the file, from the flows' modules too
    path = folder / LOG_FILE
    if fresh:
        path.unlink(missing_ok=True)
    create_private(path)
    handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close_file
    with contextlib.suppress(PermissionError):  # someone else's file: theirs to set
        os.chmod(path, FILE_MODE)  # an older file, perhaps made under another umask
    close_file()
    _SINKS.file = handle
    try:
        yield path
    finally:
        if _SINKS.file is handle:
            close_file()


def close_file() -> None:
    if _SINKS.file is not None:
        _SINKS.file.close()
        _SINKS.file = None
