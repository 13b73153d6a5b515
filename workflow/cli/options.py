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
from workflow.domain.audit_chain import EARLIEST_YEAR, LATEST_YEAR
from workflow.domain.lifecycle import State
from workflow.errors import InvalidInput
from workflow.private_files import private_folder

# Ids are 64-bit in the database: a longer number is a typing mistake, refused by the
# command line's own check (exit 2, the option and its range named) before any query.
MAX_ID = 2**63 - 1

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="table (people), json, csv or xlsx (machines; xlsx to a file)"
    ),
]


BASE_URL_ENV = "PLANFLOW_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
BaseUrlOpt = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar=BASE_URL_ENV,
        help="Where people reach planflow's web server (the links start with it).",
    ),
]


def parse_base_url(raw: str) -> str:
    """`--base-url`: an http(s) address, without its trailing slash (the link adds its
    path, `/signup?token=...`)."""
    url = raw.strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in rest):
        raise InvalidInput(
            f"--base-url {raw!r} is not a web address; expected http(s)://HOST[:PORT][/PATH]"
        )
    return url


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
    """A date or a time, in Vietnam time unless it carries an offset, in the years an audit
    entry may be dated in."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{what} {raw!r} is not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    _sane_year(value.year, raw, what)
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def parse_date(raw: str, what: str) -> dt.date:
    """A date (YYYY-MM-DD), in the years an audit entry may be dated in."""
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what} {raw!r} is not a date; expected YYYY-MM-DD") from None
    _sane_year(value.year, raw, what)
    return value


def _sane_year(year: int, raw: str, what: str) -> None:
    """Refused here, as the log refuses an entry dated then: a year 9999 (or 0001) is a
    typing mistake, and would otherwise reach letters, due dates and reports (or overflow
    when turned into UTC)."""
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise InvalidInput(
            f"{what} {raw!r}: the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}"
        )


def writable_folder(path: Path, option: str = "--out") -> Path:
    """The folder, created if need be and proved writable, resolved: checked before a flow
    starts, so a folder that cannot be written is one clear line (exit 2), not a failed
    Prefect task with its traceback half way through the work."""
    try:
        private_folder(path)  # a new folder 0700: letters, reports, the demo's database
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInput(
            f"{option} {path}: cannot write there ({reason}); give a folder you can write to"
        ) from exc
    return path.resolve()
