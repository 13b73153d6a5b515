"""What several commands take from the command line, parsed one way: `--format`, `--state`,
dates and instants, an output folder. A value that does not parse is `InvalidInput` (exit 2)
naming the option and what it expects."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.output import Format
from workflow.clock import LOCAL_TZ
from workflow.domain.lifecycle import State
from workflow.errors import InvalidInput

FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="table (people), json or csv (machines)")
]


def parse_format(raw: str, allowed: tuple[Format, ...] = tuple(Format)) -> Format:
    """`--format`, among the formats the command can write (some have no CSV)."""
    try:
        fmt = Format(raw)
    except ValueError:
        fmt = None
    if fmt is None or fmt not in allowed:
        raise InvalidInput(
            f"--format {raw!r} is not known; use one of: {', '.join(f.value for f in allowed)}"
        )
    return fmt


def parse_state(raw: str | None) -> State | None:
    """`--state` of a listing: a task's (or a dossier's) lifecycle state; None: any."""
    if raw is None:
        return None
    try:
        return State(raw)
    except ValueError:
        raise InvalidInput(
            f"--state {raw!r} is not a state; use one of: {', '.join(s.value for s in State)}"
        ) from None


def parse_instant(raw: str, what: str) -> dt.datetime:
    """A date or a time, in Vietnam time unless it carries an offset."""
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
