"""What receiving dossiers is given: one dossier with its applicant, or a CSV file of them
(`planflow dossiers import`), read and checked line by line before anything is stored."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from workflow.clock import LOCAL_TZ
from workflow.domain.audit_chain import EARLIEST_YEAR, LATEST_YEAR
from workflow.errors import InvalidInput
from workflow.reading import MB, TooLarge, read_at_most

CSV_COLUMNS = ("procedure", "applicant", "received_at")
CSV_OPTIONAL = ("address", "phone", "email")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")
# About 300,000 rows; an import is one transaction, held in memory while it is checked.
MAX_IMPORT_BYTES = 50 * MB
MAX_EMAIL = 200  # the column's width
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Applicant:
    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None

    def problems(self) -> list[str]:
        out = []
        if not self.name.strip():
            out.append("the applicant's name is empty")
        if self.phone and not _PHONE.match(self.phone):
            out.append(f"phone {self.phone!r} is not a phone number (digits, spaces, + . - ( ))")
        if self.email and (len(self.email) > MAX_EMAIL or not _EMAIL.match(self.email)):
            out.append(f"email {self.email[:60]!r} is not an e-mail address")
        return out


@dataclass(frozen=True)
class NewDossier:
    procedure: str
    applicant: Applicant
    received_at: dt.datetime


Rows = tuple[list[tuple[int, NewDossier]], list[tuple[int, str]]]


def read_csv(path: Path) -> Rows:
    """Rows with their line numbers, and every problem with its line number. A file over
    MAX_IMPORT_BYTES is refused before it is read (one transaction takes every row)."""
    name = str(path)
    try:
        data = read_at_most(path, MAX_IMPORT_BYTES)
    except TooLarge:
        raise InvalidInput(
            f"{name}: the file is larger than an import may be ({MAX_IMPORT_BYTES:,} bytes, "
            f"{MAX_IMPORT_BYTES // MB} MB); split it into several files"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file: {exc.strerror}") from None
    return parse_csv(decode_csv(data, name), name)


def decode_csv(data: bytes, name: str) -> str:
    """The CSV's text: UTF-8, a byte-order mark (as spreadsheets write one) dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text; save the CSV as UTF-8") from None


def parse_csv(text: str, name: str) -> Rows:
    """`read_csv` of a CSV's text; `name` says where it came from in the messages."""
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"{name}:1: missing column(s) {', '.join(missing)}; the header is "
            f"{','.join(CSV_COLUMNS + CSV_OPTIONAL)} (the last three optional)"
        )
    unknown = [h for h in header if h not in CSV_COLUMNS + CSV_OPTIONAL]
    if unknown:
        raise InvalidInput(f"{name}:1: unknown column(s) {', '.join(unknown)}")
    rows: list[tuple[int, NewDossier]] = []
    problems: list[tuple[int, str]] = []
    for row in reader:
        line = reader.line_num
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            problems.append((line, "more fields than columns in the header"))
            continue
        raw_time = values.get("received_at", "")
        try:
            received = dt.datetime.fromisoformat(raw_time)
        except ValueError:
            problems.append(
                (
                    line,
                    f"received_at {raw_time!r} is not a date and time; expected YYYY-MM-DD HH:MM",
                )
            )
            continue
        if not EARLIEST_YEAR <= received.year <= LATEST_YEAR:
            # A typing mistake (a year 0001 would overflow when turned into UTC).
            problems.append(
                (
                    line,
                    f"received_at {raw_time!r}: the year must be between {EARLIEST_YEAR} and "
                    f"{LATEST_YEAR}",
                )
            )
            continue
        if received.tzinfo is None:
            received = received.replace(tzinfo=LOCAL_TZ)
        applicant = Applicant(
            values.get("applicant", ""),
            values.get("address") or None,
            values.get("phone") or None,
            values.get("email") or None,
        )
        rows.append((line, NewDossier(values.get("procedure", ""), applicant, received)))
    if not rows and not problems:
        problems.append((2, "no rows to import"))
    return rows, problems
