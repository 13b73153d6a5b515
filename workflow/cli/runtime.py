"""Per-invocation settings shared by the commands: database, clock, log format."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from workflow.clock import LOCAL_TZ, Clock, FixedClock, SystemClock
from workflow.errors import InvalidInput
from workflow.services import Context
from workflow.store.engine import open_engine


@dataclass
class Runtime:
    db: str | None = None
    log_json: bool = False


RUNTIME = Runtime()

FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="table (people), json or csv (machines)")
]


def clock_from_env() -> Clock:
    """PLANFLOW_NOW=2024-06-30T09:00 runs the command "as of" that instant (Vietnam time)."""
    raw = os.environ.get("PLANFLOW_NOW")
    if not raw:
        return SystemClock()
    return FixedClock(parse_instant(raw, "PLANFLOW_NOW"))


def parse_instant(raw: str, what: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{what} {raw!r} is not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def parse_date(raw: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what} {raw!r} is not a date; expected YYYY-MM-DD") from None


def context() -> Context:
    return Context(open_engine(RUNTIME.db), clock=clock_from_env())


def writable_folder(path: Path, option: str = "--out") -> Path:
    """The folder, created if need be and proved writable, resolved: checked before a flow
    starts, so a folder that cannot be written is one clear line (exit 2), not a failed
    Prefect task with its traceback half way through the work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInput(
            f"{option} {path}: cannot write there ({reason}); give a folder you can write to"
        ) from exc
    return path.resolve()
