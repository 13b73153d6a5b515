"""The apology use cases the `apology` flow runs in batches.

Every side effect is recorded under a unique key in `notices` in the same transaction as its
audit entry and its state change: `apology:<task>:<missed due>`, `escalation:<task>:<due>`,
`reminder:<task>:<due>`. Running again for the same day finds nothing new to do.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from workflow import audit
from workflow.clock import LOCAL_TZ
from workflow.definitions.models import ApologyRulesSpec, OrganisationSpec
from workflow.documents.letters import LetterFields, render_docx, render_html
from workflow.domain.apology import (
    OPEN,
    Apology,
    ApologyRules,
    DossierFacts,
    decide,
    rules_in_force,
)
from workflow.domain.calendar import WorkingCalendar
from workflow.domain.lifecycle import State
from workflow.domain.roles import Role
from workflow.errors import Conflict, InvalidInput
from workflow.services.calendar import calendar_of
from workflow.services.context import Context
from workflow.store import repo
from workflow.store.engine import reading, writing
from workflow.store.tables import dossiers, notices, organisations, procedures, rule_sets, tasks

ACTOR = "flow:apology"
DEFAULT_REASON = "Hồ sơ chưa được giải quyết xong trong thời hạn quy định"
_LOOKAHEAD = dt.timedelta(days=21)  # wider than any notice window; decide() is exact


@dataclass
class Work:
    as_of: dt.date
    rules: str
    dossiers: list[int] = field(default_factory=list)
    reminders: list[int] = field(default_factory=list)
    seconds: float = 0.0  # spent in the database (and rendering), not in the orchestrator


@dataclass
class BatchResult:
    letters: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def load_rules(conn: Connection) -> list[ApologyRules]:
    out = []
    for (text,) in conn.execute(
        select(rule_sets.c.definition).where(rule_sets.c.kind == "apology_rules")
    ):
        spec = ApologyRulesSpec.model_validate_json(text)
        out.append(
            ApologyRules(
                id=spec.id,
                effective_from=spec.effective_from,
                notice_working_days=spec.notice_working_days,
                max_extensions=spec.max_extensions,
                default_extension_working_days=spec.default_extension_working_days,
                form_code=spec.form.code,
                form_title=spec.form.title,
                form_source=spec.form.source,
                apology_text=spec.apology_text,
                legal_basis=tuple(spec.legal_basis),
                verified=spec.verified,
            )
        )
    return out


def _rules(conn: Connection, as_of: dt.date) -> ApologyRules:
    found = rules_in_force(load_rules(conn), as_of)
    if found is None:
        raise InvalidInput(
            f"no apology rules are in force on {as_of}: load definitions/rules with "
            "'planflow plans load'"
        )
    return found


def find_work(ctx: Context, as_of: dt.date, organisation: str | None = None) -> Work:
    """Dossiers that may need a letter or an escalation; plan tasks that need a reminder."""
    started = time.perf_counter()
    with reading(ctx.engine) as conn:
        rules = _rules(conn, as_of)
        open_states = [s.value for s in OPEN]
        d_cond = [tasks.c.state.in_(open_states), dossiers.c.current_due <= as_of + _LOOKAHEAD]
        if organisation:
            d_cond.append(dossiers.c.organisation == organisation)
        dossier_ids = list(
            conn.execute(
                select(dossiers.c.task_id)
                .join(tasks, tasks.c.id == dossiers.c.task_id)
                .where(and_(*d_cond))
                .order_by(dossiers.c.task_id)
            ).scalars()
        )
        reminded = (
            select(notices.c.id)
            .where(
                notices.c.task_id == tasks.c.id,
                notices.c.kind == "reminder",
                notices.c.due_date == tasks.c.due_date,
            )
            .exists()
        )
        t_cond = [
            tasks.c.kind != "dossier",
            tasks.c.due_date < as_of,
            tasks.c.state.in_(open_states),
            ~reminded,
        ]
        if organisation:
            t_cond.append(tasks.c.organisation == organisation)
        reminder_ids = list(
            conn.execute(select(tasks.c.id).where(and_(*t_cond)).order_by(tasks.c.id)).scalars()
        )
    return Work(as_of, rules.id, dossier_ids, reminder_ids, time.perf_counter() - started)


def _signer(org: OrganisationSpec) -> str:
    leaders = sorted(p.name for p in org.people if Role.LEADER in p.roles)
    return leaders[0] if leaders else ""


def process_dossiers(
    ctx: Context, as_of: dt.date, task_ids: Sequence[int], out_dir: Path
) -> BatchResult:
    """Letters and escalations for one batch of dossiers, in one transaction."""
    started = time.perf_counter()
    result = BatchResult()
    if not task_ids:
        return result
    now = ctx.clock.now()
    with writing(ctx.engine) as conn:
        rules = _rules(conn, as_of)
        rows = conn.execute(
            select(
                dossiers,
                tasks.c.state,
                tasks.c.version,
                tasks.c.lead_unit,
                procedures.c.name.label("procedure_name"),
            )
            .join(tasks, tasks.c.id == dossiers.c.task_id)
            .join(
                procedures,
                and_(
                    procedures.c.organisation == dossiers.c.organisation,
                    procedures.c.code == dossiers.c.procedure,
                ),
            )
            .where(dossiers.c.task_id.in_(list(task_ids)))
            .order_by(dossiers.c.task_id)
        ).all()
        done = set(
            conn.execute(
                select(notices.c.key).where(notices.c.task_id.in_(list(task_ids)))
            ).scalars()
        )
        writes = _Writes()
        orgs: dict[str, OrganisationSpec] = {}
        calendars: dict[str, WorkingCalendar] = {}
        numbers: dict[str, int] = {}
        records: list[audit.Record] = []
        for row in rows:
            org_code = row.organisation
            if org_code not in orgs:
                text = conn.execute(
                    select(organisations.c.definition).where(organisations.c.code == org_code)
                ).scalar_one()
                orgs[org_code] = OrganisationSpec.model_validate_json(text)
                calendars[org_code] = calendar_of(orgs[org_code])
            calendar = calendars[org_code]
            facts = DossierFacts(
                row.task_id,
                State(row.state),
                row.current_due,
                row.extension_count,
                row.delay_days,
                bool(row.escalated),
            )
            action = decide(facts, as_of, calendar, rules)
            if action is None:
                continue
            key = f"{action.kind}:{row.task_id}:{action.missed_due.isoformat()}"
            if key in done:
                continue
            if isinstance(action, Apology):
                if org_code not in numbers:
                    numbers[org_code] = _issued_count(conn, org_code)
                numbers[org_code] += 1
                letter, record = _apology(
                    writes,
                    row,
                    action,
                    rules,
                    orgs[org_code],
                    numbers[org_code],
                    as_of,
                    out_dir,
                    key,
                    now,
                )
                result.letters.append(letter)
            else:
                writes.escalated.append({"b_task": row.task_id})
                writes.notices.append(
                    _notice(
                        key,
                        "escalation",
                        row.task_id,
                        org_code,
                        row.lead_unit,
                        action.missed_due,
                        None,
                        now,
                        None,
                        None,
                    )
                )
                days_late = calendar.working_days_between(action.missed_due, as_of)
                record = audit.Record(
                    actor=ACTOR,
                    role="system",
                    organisation=org_code,
                    action="dossier.escalate",
                    subject=f"task:{row.task_id}",
                    task_id=row.task_id,
                    from_state=row.state,
                    to_state=row.state,
                    data={
                        "code": row.code,
                        "missed_extended_due": action.missed_due.isoformat(),
                        "working_days_late": days_late,
                        "to": "leader",
                        "rules": rules.id,
                    },
                )
                result.escalations.append(
                    {
                        "dossier": row.task_id,
                        "code": row.code,
                        "organisation": org_code,
                        "unit": row.lead_unit,
                        "missed_due": action.missed_due.isoformat(),
                        "working_days_late": days_late,
                    }
                )
            records.append(record)
        writes.apply(conn)
        audit.append_many(conn, records, now)
    result.seconds = time.perf_counter() - started
    return result


def _notice(
    key: str,
    kind: str,
    task_id: int,
    organisation: str,
    unit: str | None,
    due: dt.date,
    new_due: dt.date | None,
    issued_at: dt.datetime,
    path: str | None,
    digest: str | None,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "task_id": task_id,
        "organisation": organisation,
        "unit": unit,
        "due_date": due,
        "new_due": new_due,
        "issued_at": issued_at,
        "path": path,
        "content_hash": digest,
    }


@dataclass
class _Writes:
    """A batch's row changes, sent as a few executemany statements, not three per dossier."""

    moved: list[dict[str, Any]] = field(default_factory=list)  # task due date, CAS on version
    extended: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, conn: Connection) -> None:
        if self.moved:
            changed = conn.execute(
                update(tasks)
                .where(tasks.c.id == bindparam("b_task"), tasks.c.version == bindparam("b_version"))
                .values(
                    due_date=bindparam("b_due"),
                    version=bindparam("b_next"),
                    updated_at=bindparam("b_at"),
                ),
                self.moved,
            ).rowcount
            if changed != len(self.moved):
                raise Conflict("a dossier changed while its letter was issued; run the flow again")
        if self.extended:
            conn.execute(
                update(dossiers)
                .where(dossiers.c.task_id == bindparam("b_task"))
                .values(current_due=bindparam("b_due"), extension_count=bindparam("b_count")),
                self.extended,
            )
        if self.escalated:
            conn.execute(
                update(dossiers)
                .where(dossiers.c.task_id == bindparam("b_task"))
                .values(escalated=True),
                self.escalated,
            )
        if self.notices:
            conn.execute(insert(notices), self.notices)


def _issued_count(conn: Connection, organisation: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(notices)
            .where(notices.c.organisation == organisation, notices.c.kind == "apology")
        ).scalar_one()
    )


def _apology(
    writes: _Writes,
    row: Any,
    action: Apology,
    rules: ApologyRules,
    org: OrganisationSpec,
    number: int,
    as_of: dt.date,
    out_dir: Path,
    key: str,
    now: dt.datetime,
) -> tuple[dict[str, Any], audit.Record]:
    received = repo.as_utc(row.received_at)
    contact = " / ".join(x for x in (row.applicant_phone, row.applicant_email) if x) or None
    fields = LetterFields(
        agency=org.name,
        province=org.province,
        number=f"{number:03d}/PXL-{org.code}",
        issued_on=as_of,
        form_code=rules.form_code,
        form_title=rules.form_title,
        form_source=rules.form_source,
        applicant_name=row.applicant_name,
        applicant_address=row.applicant_address,
        applicant_contact=contact,
        dossier_code=row.code,
        procedure_name=row.procedure_name,
        received_at=received.astimezone(LOCAL_TZ),
        original_due=row.original_due,
        missed_due=action.missed_due,
        reason=row.delay_reason or DEFAULT_REASON,
        apology_text=rules.apology_text,
        new_due=action.new_due,
        signer_name=_signer(org),
        signer_title="THỦ TRƯỞNG CƠ QUAN",
        legal_basis=rules.legal_basis,
    )
    html = render_html(fields).encode("utf-8")
    docx = render_docx(fields)
    folder = out_dir / "letters" / org.code
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{row.code}-{action.missed_due.isoformat()}"
    html_path, docx_path = folder / f"{stem}.html", folder / f"{stem}.docx"
    # Written before the commit, under a name fixed by the notice key: a run that dies after
    # writing rewrites the same bytes next time; nothing points at the file until it commits.
    html_path.write_bytes(html)
    docx_path.write_bytes(docx)
    letter_hash = audit.content_hash(html)
    writes.moved.append(
        {
            "b_task": row.task_id,
            "b_version": row.version,
            "b_next": row.version + 1,
            "b_due": action.new_due,
            "b_at": now,
        }
    )
    writes.extended.append(
        {"b_task": row.task_id, "b_due": action.new_due, "b_count": row.extension_count + 1}
    )
    writes.notices.append(
        _notice(
            key,
            "apology",
            row.task_id,
            org.code,
            row.lead_unit,
            action.missed_due,
            action.new_due,
            now,
            str(html_path),
            letter_hash,
        )
    )
    letter = {
        "dossier": row.task_id,
        "code": row.code,
        "organisation": org.code,
        "number": fields.number,
        "path": str(html_path),
        "docx": str(docx_path),
        "missed_due": action.missed_due.isoformat(),
        "new_due": action.new_due.isoformat(),
        "late": action.late,
        "hash": letter_hash,
    }
    record = audit.Record(
        actor=ACTOR,
        role="system",
        organisation=org.code,
        action="dossier.apology",
        subject=f"task:{row.task_id}",
        task_id=row.task_id,
        from_state=row.state,
        to_state=row.state,
        data={
            "code": row.code,
            "letter_sha256": letter_hash,
            "docx_sha256": audit.content_hash(docx),
            "number": fields.number,
            "missed_due": action.missed_due.isoformat(),
            "new_due": action.new_due.isoformat(),
            "extension": row.extension_count + 1,
            "working_days": action.extension_working_days,
            "version": row.version + 1,
            "rules": rules.id,
            "file": html_path.name,
        },
    )
    return letter, record


def process_reminders(ctx: Context, as_of: dt.date, task_ids: Sequence[int]) -> BatchResult:
    """One reminder per overdue plan task and due date, to its lead unit."""
    started = time.perf_counter()
    result = BatchResult()
    if not task_ids:
        return result
    now = ctx.clock.now()
    with writing(ctx.engine) as conn:
        rows = conn.execute(
            select(tasks).where(tasks.c.id.in_(list(task_ids))).order_by(tasks.c.id)
        ).all()
        done = set(
            conn.execute(
                select(notices.c.key).where(
                    notices.c.task_id.in_(list(task_ids)), notices.c.kind == "reminder"
                )
            ).scalars()
        )
        records = []
        for row in rows:
            if row.due_date is None or row.due_date >= as_of or State(row.state) not in OPEN:
                continue
            key = f"reminder:{row.id}:{row.due_date.isoformat()}"
            if key in done:
                continue
            conn.execute(
                insert(notices).values(
                    key=key,
                    kind="reminder",
                    task_id=row.id,
                    organisation=row.organisation,
                    unit=row.lead_unit,
                    due_date=row.due_date,
                    issued_at=now,
                )
            )
            days_late = (as_of - row.due_date).days
            records.append(
                audit.Record(
                    actor=ACTOR,
                    role="system",
                    organisation=row.organisation,
                    action="task.remind",
                    subject=f"task:{row.id}",
                    task_id=row.id,
                    plan_id=row.plan_id,
                    from_state=row.state,
                    to_state=row.state,
                    data={
                        "to_unit": row.lead_unit,
                        "due": row.due_date.isoformat(),
                        "days_overdue": days_late,
                        "code": row.code,
                        "period": row.period,
                    },
                )
            )
            result.reminders.append(
                {
                    "task": row.id,
                    "code": row.code,
                    "period": row.period,
                    "plan": row.plan_id,
                    "organisation": row.organisation,
                    "unit": row.lead_unit,
                    "due": row.due_date.isoformat(),
                    "days_overdue": days_late,
                }
            )
        audit.append_many(conn, records, now)
    result.seconds = time.perf_counter() - started
    return result
