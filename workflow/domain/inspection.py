"""An inspection's paperwork as rules: what a unit is checked on, and what a record must say.

The inspector's record (Biên bản kiểm tra) states, for every task on the unit's checklist,
whether it was done as required (`compliant`) with a note, then the strengths and
shortcomings seen and the fixes required, each with a deadline. A record is accepted only
when it is complete and consistent, because the conclusion notice and the fix tasks are made
from it without anyone re-reading it:

- every checklist task has exactly one finding, and no other task has one;
- a task found not compliant says why (`note`) and has at least one fix naming it;
- a fix has a title and a deadline after the inspection day;
- the inspection day is not in the future.

Problems are collected, each with where it is in the record (`Loc`), so a file's reader can
point at the line; nothing here reads files. Pure: no database, no I/O.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.domain.audit_chain import entry_hash
from workflow.domain.periods import Period, parse_period
from workflow.errors import AuditVerificationFailed, InvalidInput, RecordInvalid

Loc = tuple[str | int, ...]

RECORD_KEYS = ("inspected_on", "findings", "strengths", "shortcomings", "fixes")
FINDING_KEYS = ("task", "compliant", "note")
FIX_KEYS = ("title", "due", "task")


@dataclass(frozen=True, slots=True)
class Finding:
    task: int
    compliant: bool
    note: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    due: dt.date
    task: int | None  # the checklist task it remedies, if one


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    inspected_on: dt.date
    findings: tuple[Finding, ...]
    strengths: tuple[str, ...]
    shortcomings: tuple[str, ...]
    fixes: tuple[Fix, ...]

    @property
    def compliant_count(self) -> int:
        return sum(1 for f in self.findings if f.compliant)

    def summary(self) -> str:
        """One line for the submission's note (Vietnamese: people read it in the history)."""
        return (
            f"Biên bản kiểm tra ngày {self.inspected_on:%d/%m/%Y}: "
            f"đạt {self.compliant_count}/{len(self.findings)} nhiệm vụ, "
            f"{len(self.fixes)} nội dung phải khắc phục"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "inspected_on": self.inspected_on.isoformat(),
            "findings": [
                {"task": f.task, "compliant": f.compliant, "note": f.note} for f in self.findings
            ],
            "strengths": list(self.strengths),
            "shortcomings": list(self.shortcomings),
            "fixes": [
                {"title": f.title, "due": f.due.isoformat(), "task": f.task} for f in self.fixes
            ],
        }


def record_invalid(problems: list[tuple[Loc, str]]) -> RecordInvalid:
    """The refusal of a record, worded by its first problem and where it is."""
    first_loc, first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return RecordInvalid(problems, f"{_where(first_loc)}: {first}{more}")


def _where(loc: Loc) -> str:
    if not loc:
        return "record"
    text = str(loc[0])
    for part in loc[1:]:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return text


def _suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(known)}"


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[tuple[Loc, str]] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def mapping(self, value: object, loc: Loc, keys: Sequence[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(loc, f"expected a mapping with {', '.join(keys)}")
            return None
        for key in value:
            if key not in keys:
                self.problem((*loc, str(key)), f"unknown key '{key}'{_suggest(str(key), keys)}")
        return value

    def texts(self, value: object, loc: Loc) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(loc, "expected a list of sentences")
            return ()
        out = []
        for i, item in enumerate(value):
            text = _text(item)
            if text is None:
                self.problem((*loc, i), "expected a non-empty sentence")
            else:
                out.append(text)
        return tuple(out)


def read_record(raw: object, checklist: Sequence[int], today: dt.date) -> InspectionRecord:
    """Check a record against the unit's checklist (task ids); raise RecordInvalid with
    every problem, or return the record."""
    r = _Reader()
    top = r.mapping(raw, (), RECORD_KEYS)
    if top is None:
        raise record_invalid(r.problems)
    inspected_on = today
    if top.get("inspected_on") is not None:
        parsed = _date(top["inspected_on"])
        if parsed is None:
            r.problem(("inspected_on",), "expected a date like 2024-05-20")
        elif parsed > today:
            r.problem(("inspected_on",), f"{parsed} is in the future (today is {today})")
        else:
            inspected_on = parsed
    findings = _findings(r, top.get("findings"), checklist)
    fixes = _fixes(r, top.get("fixes"), checklist, inspected_on)
    remedied = {f.task for f in fixes if f.task is not None}
    for i, finding in enumerate(findings):
        if not finding.compliant and finding.task not in remedied:
            r.problem(
                ("findings", i),
                f"task {finding.task} is not compliant but no fix names it: add a fix with "
                f"`task: {finding.task}`, a title and a due date",
            )
    record = InspectionRecord(
        inspected_on=inspected_on,
        findings=tuple(findings),
        strengths=r.texts(top.get("strengths"), ("strengths",)),
        shortcomings=r.texts(top.get("shortcomings"), ("shortcomings",)),
        fixes=tuple(fixes),
    )
    if r.problems:
        raise record_invalid(r.problems)
    return record


def _findings(r: _Reader, value: object, checklist: Sequence[int]) -> list[Finding]:
    expected = list(checklist)
    if value is None:
        value = []
    if not isinstance(value, list):
        r.problem(("findings",), "expected a list of findings (task, compliant, note)")
        return []
    found: list[Finding] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(value):
        loc: Loc = ("findings", i)
        entry = r.mapping(item, loc, FINDING_KEYS)
        if entry is None:
            continue
        task = _int(entry.get("task"))
        if task is None:
            r.problem((*loc, "task"), "expected the id of a task on the checklist")
            continue
        if task not in expected:
            listed = ", ".join(map(str, expected)) or "none"
            r.problem((*loc, "task"), f"task {task} is not on this unit's checklist ({listed})")
            continue
        if task in seen:
            r.problem((*loc, "task"), f"task {task} already has a finding (finding {seen[task]})")
            continue
        seen[task] = i + 1
        compliant = entry.get("compliant")
        if not isinstance(compliant, bool):
            r.problem((*loc, "compliant"), "expected true (đạt) or false (chưa đạt)")
            continue
        note = _text(entry.get("note"))
        if note is None and not compliant:
            r.problem((*loc, "note"), f"task {task} is not compliant: say why in `note`")
            continue
        found.append(Finding(task, compliant, note or ""))
    missing = [t for t in expected if t not in seen]
    if missing:
        r.problem(
            ("findings",),
            f"no finding for task{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(str, missing))}: every task on the checklist needs one",
        )
    return found


def _fixes(r: _Reader, value: object, checklist: Sequence[int], inspected_on: dt.date) -> list[Fix]:
    if value is None:
        return []
    if not isinstance(value, list):
        r.problem(("fixes",), "expected a list of fixes (title, due, task)")
        return []
    fixes = []
    for i, item in enumerate(value):
        loc: Loc = ("fixes", i)
        entry = r.mapping(item, loc, FIX_KEYS)
        if entry is None:
            continue
        title = _text(entry.get("title"))
        due = _date(entry.get("due"))
        task = entry.get("task")
        ok = True
        if title is None:
            r.problem((*loc, "title"), "expected what must be fixed")
            ok = False
        if due is None:
            r.problem((*loc, "due"), "expected a deadline like 2024-06-30")
            ok = False
        elif due <= inspected_on:
            r.problem((*loc, "due"), f"deadline {due} is not after the inspection ({inspected_on})")
            ok = False
        if task is not None and _int(task) not in checklist:
            r.problem((*loc, "task"), f"task {task!r} is not on this unit's checklist")
            ok = False
        if ok and title is not None and due is not None:
            fixes.append(Fix(title, due, _int(task)))
    return fixes


def period_bounds(key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar period ('2024', '2024H1', '2024Q3')."""
    period = parse_period(key)
    return _bounds(period)


def _bounds(period: Period) -> tuple[dt.date, dt.date]:
    months = {"year": 12, "half": 6, "quarter": 3}[period.granularity]
    first_month = (period.index - 1) * months + 1
    start = dt.date(period.year, first_month, 1)
    end_month = first_month + months
    end = (
        dt.date(period.year + 1, 1, 1) if end_month > 12 else dt.date(period.year, end_month, 1)
    ) - dt.timedelta(days=1)
    return start, end


def current_period(day: dt.date, every: str) -> str:
    """The period of kind `every` ('year', 'half', 'quarter') that contains `day`."""
    if every == "year":
        return str(day.year)
    if every == "half":
        return f"{day.year}H{1 if day.month <= 6 else 2}"
    if every == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    raise InvalidInput(f"unknown kind of period {every!r}; expected year, half or quarter")


def record_template(checklist: Sequence[tuple[int, str, str]], today: dt.date) -> str:
    """A record to fill in, as YAML, for a checklist of (task id, code, title)."""
    lines = [
        "# Biên bản kiểm tra: điền kết quả cho từng nhiệm vụ (compliant: true = đạt,",
        "# false = chưa đạt, kèm ghi chú và ít nhất một nội dung khắc phục).",
        f"inspected_on: {today.isoformat()}",
        "findings:" if checklist else "findings: []",
    ]
    for task_id, code, title in checklist:
        lines += [
            f"  - task: {task_id}   # {code}: {' '.join(title.split())[:90]}",
            "    compliant: true",
            '    note: ""',
        ]
    lines += ["strengths: []", "shortcomings: []", "fixes: []", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- verified


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    """The record the office verified, as the audit log holds it: the revision and hash
    carried by the submit entry its verify entry approved."""

    revision: int
    record_hash: str
    submit_seq: int
    verify_seq: int


def verified_record(task_id: int, entries: Sequence[Mapping[str, Any]]) -> VerifiedRecord:
    """From an inspection task's audit entries (oldest first, as stored: `data` the hashed
    text), the record its last verify approved: the one the last submit before it carried.
    Both entries must still hash to their recorded hashes. What is concluded is then held
    against it; AuditVerificationFailed when it cannot be found."""
    verify = next((e for e in reversed(entries) if e["action"] == "verify"), None)
    if verify is None:
        raise AuditVerificationFailed(
            f"inspection task {task_id} has no verify entry in the audit log: its record "
            "cannot be shown to be the one the office verified; no conclusion is issued"
        )
    submit = next(
        (e for e in reversed(entries) if e["action"] == "submit" and e["seq"] < verify["seq"]),
        None,
    )
    for entry in (verify, submit):
        if entry is not None and entry_hash(entry) != entry["hash"]:
            raise AuditVerificationFailed(
                f"audit entry {entry['seq']} ({entry['action']} of inspection task {task_id}) "
                "does not match its hash; no conclusion is issued (run `planflow audit verify`)"
            )
    data = json.loads(submit["data"]) if submit is not None else {}
    revision, digest = data.get("record_revision"), data.get("record_hash")
    if submit is None or not isinstance(revision, int) or not isinstance(digest, str):
        raise AuditVerificationFailed(
            f"inspection task {task_id}: the submission its verify entry {verify['seq']} "
            "approved carries no inspection record; no conclusion is issued"
        )
    return VerifiedRecord(revision, digest, int(submit["seq"]), int(verify["seq"]))
