"""What the routers of dossiers, inspections, reports, the calendar and the procedures share
(this module defines no route): which organisations a request may read or write for, the
version a write names (If-Match), the server's output folder, and the dates a request may
give.

The fence: a listing covers the organisations the principal reads (their own and those
their organisation's file oversees); asking for another organisation by name is refused
(403: organisation codes are no secret), and an object of an organisation they do not read
answers 404 with the words of an object that does not exist. A write is for the principal's
own organisation only (`Access.require` with the organisation).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from fastapi import Request

from workflow.clock import LOCAL_TZ
from workflow.domain.access import Permission
from workflow.domain.audit_chain import EARLIEST_YEAR, LATEST_YEAR
from workflow.errors import InvalidInput, PermissionDenied, ServiceUnavailable
from workflow.private_files import private_folder
from workflow.web.auth import Who, web_of
from workflow.web.errors import Refused

VERSION = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def organisations_read(who: Who, needed: Permission, org: str | None) -> list[str]:
    """The organisations a listing covers, in order: `org` alone when given (403 unless the
    principal may read it), else every organisation they read."""
    who.access.require(needed)
    if org is not None:
        if not who.access.can_read(org):
            raise PermissionDenied(f"{who.person} may not read the records of {org}")
        return [org]
    return sorted(who.access.readable)


def own_organisation(who: Who, needed: Permission, org: str | None) -> str:
    """The organisation a write is for: `org`, by default the principal's own; refused
    (403) for any other (a person acts for their own agency only)."""
    chosen = org or who.access.actor.organisation
    who.access.require(needed, chosen)
    return chosen


def expected_version(raw: str | None, what: str) -> int:
    """The version an `If-Match` header names (428 without one, as a move needs it)."""
    if raw is None:
        raise Refused(
            428,
            "precondition_required",
            f"{what} needs the If-Match header with the task's version you saw "
            "(its ETag, or `version` in GET /api/v1/tasks/ID)",
        )
    match = VERSION.match(raw.strip())
    if match is None:
        raise InvalidInput(f"If-Match {raw.strip()[:40]!r} is not a task version (e.g. 3)")
    return int(match.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


def output_folder(request: Request, kind: str) -> Path:
    """`<the server's output folder>/<kind>`, created and proved writable before any work
    starts: a server that cannot write its documents says so (503), it does not fail half
    way through a use case."""
    folder = web_of(request).settings.output_dir / kind
    try:
        private_folder(folder)  # new folders 0700: the documents name applicants
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ServiceUnavailable(
            f"the server cannot write its {kind} documents ({exc.strerror or type(exc).__name__}); "
            "its administrator must fix its output folder"
        ) from None
    return folder


def instant(value: dt.datetime, what: str) -> dt.datetime:
    """A time a request gives: Vietnam time unless it carries an offset, in the years an
    audit entry may be dated in (a year 9999 or 0001 is a typing mistake)."""
    _sane_year(value.year, what)
    return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)


def day(value: dt.date, what: str) -> dt.date:
    _sane_year(value.year, what)
    return value


def _sane_year(year: int, what: str) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise InvalidInput(f"{what}: the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
