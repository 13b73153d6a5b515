"""Dossier use cases: receive one, import many from CSV, declare a delay, list and show.

A dossier is a task (kind 'dossier') with an applicant: the same lifecycle and audit log
(assigned = received and assigned to the handling unit; submitted = result proposed;
verified = approved and signed; closed = returned to the applicant).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from workflow import audit
from workflow.clock import LOCAL_TZ, today_local
from workflow.definitions.checks import suggest
from workflow.domain.lifecycle import OPEN_STATES, State
from workflow.domain.roles import Actor, Role
from workflow.errors import InvalidInput, MoveNotAllowed, NotFound, PermissionDenied
from workflow.services.calendar import calendar_for
from workflow.services.context import Context
from workflow.services.tasks import NewTask, insert_new_tasks
from workflow.store import repo
from workflow.store.engine import reading, writing
from workflow.store.tables import dossiers, procedures, tasks

CSV_COLUMNS = ("procedure", "applicant", "received_at")
CSV_OPTIONAL = ("address", "phone", "email")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_DELAY_DAYS = 60


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
        if self.email and not _EMAIL.match(self.email):
            out.append(f"email {self.email!r} is not an e-mail address")
        return out


@dataclass(frozen=True)
class NewDossier:
    procedure: str
    applicant: Applicant
    received_at: dt.datetime


def dossier_view(row: Any) -> dict[str, Any]:
    m = row._mapping
    received = repo.as_utc(m["received_at"])
    return {
        "id": m["task_id"],
        "code": m["code"],
        "organisation": m["organisation"],
        "procedure": m["procedure"],
        "applicant": m["applicant_name"],
        "address": m["applicant_address"],
        "phone": m["applicant_phone"],
        "email": m["applicant_email"],
        "received_at": received.astimezone(LOCAL_TZ).isoformat(),
        "original_due": m["original_due"].isoformat(),
        "due_date": m["current_due"].isoformat(),
        "extension_count": m["extension_count"],
        "delay_days": m["delay_days"],
        "delay_reason": m["delay_reason"],
        "escalated": bool(m["escalated"]),
        "state": m["state"],
        "lead_unit": m["lead_unit"],
        "version": m["version"],
    }


def _select_views() -> Any:
    return select(dossiers, tasks.c.state, tasks.c.lead_unit, tasks.c.version).join(
        tasks, tasks.c.id == dossiers.c.task_id
    )


def _actor(conn: Connection, actor_id: str) -> Actor:
    actor = repo.get_actor(conn, actor_id)
    if actor is None:
        raise NotFound(f"person {actor_id!r} does not exist")
    if not actor.roles & {Role.STAFF, Role.UNIT_HEAD, Role.OFFICE}:
        raise PermissionDenied(
            f"{actor_id} cannot receive dossiers: it needs the staff, unit_head or office role"
        )
    return actor


def _procedures(conn: Connection, organisation: str) -> dict[str, Any]:
    return {
        row.code: row
        for row in conn.execute(select(procedures).where(procedures.c.organisation == organisation))
    }


def _check(new: NewDossier, known: dict[str, Any], now: dt.datetime) -> list[str]:
    problems = new.applicant.problems()
    if new.procedure not in known:
        problems.append(f"unknown procedure '{new.procedure}'{suggest(new.procedure, known)}")
    if new.received_at > now + dt.timedelta(minutes=5):
        problems.append(f"received_at {new.received_at.isoformat()} is in the future")
    return problems


def _receive_many(
    conn: Connection, ctx: Context, actor: Actor, batch: Sequence[NewDossier]
) -> list[int]:
    audit.lock_chain(conn)  # dossier numbers are per day: number them one writer at a time
    known = _procedures(conn, actor.organisation)
    calendar = calendar_for(ctx, actor.organisation)
    numbers: dict[str, int] = {}
    new_tasks, rows = [], []
    for item in batch:
        proc = known[item.procedure]
        day = item.received_at.astimezone(LOCAL_TZ).strftime("%y%m%d")
        prefix = f"{actor.organisation}-{day}-"
        if prefix not in numbers:
            numbers[prefix] = int(
                conn.execute(
                    select(func.count())
                    .select_from(dossiers)
                    .where(dossiers.c.code.like(prefix + "%"))
                ).scalar_one()
            )
        numbers[prefix] += 1
        code = f"{prefix}{numbers[prefix]:04d}"
        due = calendar.add_working_days(item.received_at, proc.working_days, proc.cutoff_hour)
        new_tasks.append(
            NewTask(
                organisation=actor.organisation,
                kind="dossier",
                code=code,
                title=f"{proc.name} – {item.applicant.name}",
                lead_unit=proc.unit,
                due_date=due.due,
            )
        )
        rows.append((item, proc, code, due))
    role = next(r for r in (Role.STAFF, Role.UNIT_HEAD, Role.OFFICE) if actor.has(r))
    ids = insert_new_tasks(
        conn, ctx, new_tasks, actor=actor.id, role=role.value, reason="dossier received"
    )
    conn.execute(
        insert(dossiers),
        [
            {
                "task_id": task_id,
                "organisation": actor.organisation,
                "code": code,
                "procedure": proc.code,
                "applicant_name": item.applicant.name.strip(),
                "applicant_address": item.applicant.address,
                "applicant_phone": item.applicant.phone,
                "applicant_email": item.applicant.email,
                "received_at": item.received_at.astimezone(dt.UTC),
                "original_due": due.due,
                "current_due": due.due,
                "extension_count": 0,
                "escalated": False,
            }
            for task_id, (item, proc, code, due) in zip(ids, rows, strict=True)
        ],
    )
    audit.append_many(
        conn,
        [
            audit.Record(
                actor=actor.id,
                role=role.value,
                unit=actor.unit,
                organisation=actor.organisation,
                action="dossier.receive",
                subject=f"task:{task_id}",
                task_id=task_id,
                to_state=State.ASSIGNED.value,
                data={
                    "code": code,
                    "procedure": proc.code,
                    "applicant": item.applicant.name.strip(),
                    "received_at": item.received_at.isoformat(),
                    "counted_from": due.counted_from.isoformat(),
                    "working_days": proc.working_days,
                    "due": due.due.isoformat(),
                    "handling_unit": proc.unit,
                },
            )
            for task_id, (item, proc, code, due) in zip(ids, rows, strict=True)
        ],
        ctx.clock.now(),
    )
    return ids


def receive(ctx: Context, new: NewDossier, actor_id: str) -> dict[str, Any]:
    with writing(ctx.engine) as conn:
        actor = _actor(conn, actor_id)
        problems = _check(new, _procedures(conn, actor.organisation), ctx.clock.now())
        if problems:
            raise InvalidInput("; ".join(problems))
        [task_id] = _receive_many(conn, ctx, actor, [new])
        view = dossier_view(
            conn.execute(_select_views().where(dossiers.c.task_id == task_id)).one()
        )
    ctx.log.info(
        "dossier.received", dossier=task_id, code=view["code"], actor=actor_id, due=view["due_date"]
    )
    return view


class ImportProblems(InvalidInput):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing was imported")
        self.problems = problems


def read_csv(path: Path) -> tuple[list[tuple[int, NewDossier]], list[tuple[int, str]]]:
    """Rows with their line numbers, and every problem with its line number."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text; save the CSV as UTF-8") from None
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


def import_csv(ctx: Context, path: Path, actor_id: str) -> list[dict[str, Any]]:
    """All rows or none: every bad row is reported with its line number."""
    rows, problems = read_csv(path)
    with writing(ctx.engine) as conn:
        actor = _actor(conn, actor_id)
        known = _procedures(conn, actor.organisation)
        now = ctx.clock.now()
        for line, new in rows:
            problems += [(line, p) for p in _check(new, known, now)]
        if problems:
            raise ImportProblems([f"{path}:{line}: {p}" for line, p in sorted(problems)])
        ids = _receive_many(conn, ctx, actor, [new for _, new in rows])
        views = [
            dossier_view(r)
            for r in conn.execute(
                _select_views().where(dossiers.c.task_id.in_(ids)).order_by(dossiers.c.task_id)
            )
        ]
    ctx.log.info("dossiers.imported", count=len(views), actor=actor_id, source=str(path))
    return views


def delay(ctx: Context, task_id: int, reason: str, days: int, actor_id: str) -> dict[str, Any]:
    """The handling unit declares, before the due date, that a dossier will be late."""
    if not reason.strip():
        raise InvalidInput("delay needs --reason: why the dossier will be late")
    if not 1 <= days <= MAX_DELAY_DAYS:
        raise InvalidInput(f"--days {days}: a delay is 1 to {MAX_DELAY_DAYS} working days")
    today = today_local(ctx.clock)
    with writing(ctx.engine) as conn:
        row = conn.execute(_select_views().where(dossiers.c.task_id == task_id)).first()
        if row is None:
            raise NotFound(f"dossier {task_id} does not exist")
        actor = repo.get_actor(conn, actor_id)
        if actor is None:
            raise NotFound(f"person {actor_id!r} does not exist")
        if actor.organisation != row.organisation or actor.unit != row.lead_unit:
            raise PermissionDenied(
                f"only the handling unit {row.lead_unit} declares a delay on dossier {task_id}; "
                f"{actor_id} belongs to {actor.unit}"
            )
        if actor.roles == frozenset({Role.AUDITOR}):
            raise PermissionDenied(f"{actor_id} is an auditor: auditors read and verify, never act")
        if State(row.state) not in OPEN_STATES - {State.VERIFIED}:
            raise MoveNotAllowed(
                f"dossier {task_id} is {row.state}: there is nothing left to delay"
            )
        if row.extension_count > 0:
            raise MoveNotAllowed(
                f"the return date of dossier {task_id} was already re-set once (to "
                f"{row.current_due}); the law allows it once: if late again it is escalated"
            )
        if today >= row.current_due:
            raise MoveNotAllowed(
                f"dossier {task_id} is due {row.current_due}: a delay is declared before the due "
                f"date (today is {today})"
            )
        conn.execute(
            update(dossiers)
            .where(dossiers.c.task_id == task_id)
            .values(delay_reason=reason.strip(), delay_days=days)
        )
        audit.append(
            conn,
            audit.Record(
                actor=actor.id,
                role=next(iter(sorted(actor.roles))).value,
                unit=actor.unit,
                organisation=row.organisation,
                action="dossier.delay",
                subject=f"task:{task_id}",
                task_id=task_id,
                from_state=row.state,
                to_state=row.state,
                data={"reason": reason.strip(), "days": days, "due": row.current_due.isoformat()},
            ),
            ctx.clock.now(),
        )
        view = dossier_view(
            conn.execute(_select_views().where(dossiers.c.task_id == task_id)).one()
        )
    ctx.log.info("dossier.delay_declared", dossier=task_id, actor=actor_id, days=days)
    return view


def list_dossiers(
    ctx: Context,
    organisation: str | None = None,
    state: State | None = None,
    late_on: dt.date | None = None,
) -> list[dict[str, Any]]:
    conditions = []
    if organisation:
        conditions.append(dossiers.c.organisation == organisation)
    if state:
        conditions.append(tasks.c.state == state.value)
    if late_on:
        conditions.append(dossiers.c.current_due < late_on)
        conditions.append(tasks.c.state.in_([s.value for s in OPEN_STATES - {State.VERIFIED}]))
    with reading(ctx.engine) as conn:
        rows = conn.execute(
            _select_views().where(and_(True, *conditions)).order_by(dossiers.c.task_id)
        )
        return [dossier_view(r) for r in rows]


def show_dossier(ctx: Context, task_id: int) -> dict[str, Any]:
    with reading(ctx.engine) as conn:
        row = conn.execute(_select_views().where(dossiers.c.task_id == task_id)).first()
        if row is None:
            raise NotFound(f"dossier {task_id} does not exist")
        return dossier_view(row)


def list_procedures(ctx: Context, organisation: str | None = None) -> list[dict[str, Any]]:
    stmt = select(procedures).order_by(procedures.c.organisation, procedures.c.code)
    if organisation:
        stmt = stmt.where(procedures.c.organisation == organisation)
    with reading(ctx.engine) as conn:
        return [
            {
                "code": r.code,
                "name": r.name,
                "working_days": r.working_days,
                "unit": r.unit,
                "organisation": r.organisation,
                "cutoff_hour": r.cutoff_hour,
                "illustrative": bool(r.illustrative),
                "legal_basis": r.legal_basis,
            }
            for r in conn.execute(stmt)
        ]
