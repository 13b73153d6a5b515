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

from workflow.context import Context
from workflow.definitions.models import OrganisationSpec
from workflow.domain.apology import Apology, ApologyRules, DossierFacts, decide, rules_in_force
from workflow.domain.calendar import WorkingCalendar
from workflow.domain.events import DossierEscalated, TaskReminded
from workflow.domain.issuing import DocumentKind
from workflow.domain.lifecycle import NOT_DONE
from workflow.errors import Conflict, InvalidInput
from workflow.services.apology_letters import ACTOR as ACTOR
from workflow.services.apology_letters import issue_letter, missing_reason
from workflow.services.calendar import calendar_of
from workflow.services.document_files import write_recorded
from workflow.services.register import take_number
from workflow.store.queries.dossiers import Dossier
from workflow.store.queries.rules import RuleQueries
from workflow.store.repositories.documents import NewDocument
from workflow.store.repositories.dossiers import Extension
from workflow.store.repositories.notices import NewNotice
from workflow.store.repositories.tasks import DueDateChange
from workflow.store.uow import Tx

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
    # Dossiers due a letter that cannot have one yet (no delay reason declared): each a
    # {"dossier", "code", "organisation", "unit", "due", "problem"}; nothing is written for them.
    refused: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def load_rules(ctx: Context) -> list[ApologyRules]:
    """Every stored apology rule set, as the domain applies them."""
    with ctx.uow.reading() as r:
        return _rule_sets(r.rules)


def _rule_sets(queries: RuleQueries) -> list[ApologyRules]:
    return [
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
        for spec in queries.apology_rules()
    ]


def _rules(queries: RuleQueries, as_of: dt.date) -> ApologyRules:
    found = rules_in_force(_rule_sets(queries), as_of)
    if found is None:
        raise InvalidInput(
            f"no apology rules are in force on {as_of}: load definitions/rules with "
            "'planflow plans load'"
        )
    return found


def find_work(ctx: Context, as_of: dt.date, organisation: str | None = None) -> Work:
    """Dossiers that may need a letter or an escalation; plan tasks that need a reminder."""
    started = time.perf_counter()
    with ctx.uow.reading() as r:
        rules = _rules(r.rules, as_of)
        dossier_ids = r.dossiers.due_by(as_of + _LOOKAHEAD, organisation)
        reminder_ids = r.dossiers.reminder_candidates(as_of, organisation)
    return Work(as_of, rules.id, dossier_ids, reminder_ids, time.perf_counter() - started)


def process_dossiers(
    ctx: Context, as_of: dt.date, task_ids: Sequence[int], out_dir: Path
) -> BatchResult:
    """Letters and escalations for one batch of dossiers, in one transaction, recorded as
    the acts of who runs the flow (`ctx.acting`: a person, a schedule, `flow:apology`)."""
    started = time.perf_counter()
    result = BatchResult()
    if not task_ids:
        return result
    actor = ctx.acting
    with ctx.uow.writing() as tx:
        rules = _rules(tx.rules, as_of)
        # By organisation (then by dossier): registers are locked in one order by every
        # batch, so two batches at once never wait on each other's (a deadlock).
        candidates = sorted(tx.dossiers.for_letters(task_ids), key=lambda c: c[0].organisation)
        done = tx.notices.keys(task_ids)
        orgs: dict[str, tuple[OrganisationSpec, WorkingCalendar]] = {}
        writes = _Writes()
        for dossier, procedure_name in candidates:
            org_code = dossier.organisation
            if org_code not in orgs:
                spec = tx.organisations.require(org_code)
                orgs[org_code] = (spec, calendar_of(spec))
            org, calendar = orgs[org_code]
            facts = DossierFacts(
                dossier.task_id,
                dossier.state,
                dossier.current_due,
                dossier.extension_count,
                dossier.delay_days,
                dossier.escalated,
            )
            action = decide(facts, as_of, calendar, rules)
            if action is None:
                continue
            key = f"{action.kind}:{dossier.task_id}:{action.missed_due.isoformat()}"
            if key in done:
                continue
            if isinstance(action, Apology) and (problem := missing_reason(dossier)):
                result.refused.append(
                    {
                        "dossier": dossier.task_id,
                        "code": dossier.code,
                        "organisation": org_code,
                        "unit": dossier.lead_unit,
                        "due": action.missed_due.isoformat(),
                        "problem": problem,
                    }
                )
                continue
            if isinstance(action, Apology):
                # Its number from the organisation's register, in this transaction: the
                # batch commits it with the letter's audit entry, or gives it back.
                letter = issue_letter(
                    dossier,
                    procedure_name,
                    action,
                    rules,
                    org,
                    number=take_number(tx, org, DocumentKind.APOLOGY_LETTER, as_of),
                    as_of=as_of,
                    out_dir=out_dir,
                    key=key,
                    now=tx.now,
                    actor=actor,
                )
                tx.record(letter.event)
                writes.moved.append(letter.moved)
                writes.extended.append(letter.extension)
                writes.notices.append(letter.notice)
                writes.documents.extend(letter.files)
                result.letters.append(letter.report)
            else:
                escalation = _escalate(
                    tx, dossier, action.missed_due, as_of, calendar, rules, actor
                )
                writes.escalated.append(dossier.task_id)
                writes.notices.append(
                    NewNotice(
                        key=key,
                        kind="escalation",
                        task_id=dossier.task_id,
                        organisation=org_code,
                        unit=dossier.lead_unit,
                        due_date=action.missed_due,
                        issued_at=tx.now,
                    )
                )
                result.escalations.append(escalation)
        writes.write(tx)
    # Committed: only now do the letters reach the disk (a conflict above wrote nothing).
    write_recorded(writes.documents, out_dir)
    for refused in result.refused:
        ctx.log.info("apology.refused", dossier=refused["dossier"], problem=refused["problem"])
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Writes:
    """A batch's row changes, written as a few executemany statements, not three per dossier."""

    moved: list[DueDateChange] = field(default_factory=list)  # task due dates, CAS on version
    extended: list[Extension] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    notices: list[NewNotice] = field(default_factory=list)
    documents: list[NewDocument] = field(default_factory=list)  # the letters' files

    def write(self, tx: Tx) -> None:
        if not tx.tasks.move_due_dates(self.moved, tx.now):
            raise Conflict("a dossier changed while its letter was issued; run the flow again")
        tx.dossiers.extend(self.extended)
        tx.dossiers.escalate(self.escalated)
        tx.notices.add(self.notices)
        tx.documents.add(self.documents, tx.now)


def _escalate(
    tx: Tx,
    dossier: Dossier,
    missed_due: dt.date,
    as_of: dt.date,
    calendar: WorkingCalendar,
    rules: ApologyRules,
    actor: str,
) -> dict[str, Any]:
    """Record a dossier's escalation to leadership; what the flow reports of it."""
    days_late = calendar.working_days_between(missed_due, as_of)
    tx.record(
        DossierEscalated(
            actor=actor,
            role="system",
            organisation=dossier.organisation,
            task_id=dossier.task_id,
            from_state=dossier.state.value,
            to_state=dossier.state.value,
            code=dossier.code,
            missed_extended_due=missed_due.isoformat(),
            working_days_late=days_late,
            to="leader",
            rules=rules.id,
        )
    )
    return {
        "dossier": dossier.task_id,
        "code": dossier.code,
        "organisation": dossier.organisation,
        "unit": dossier.lead_unit,
        "missed_due": missed_due.isoformat(),
        "working_days_late": days_late,
    }


def process_reminders(ctx: Context, as_of: dt.date, task_ids: Sequence[int]) -> BatchResult:
    """One reminder per overdue plan task and due date, to its lead unit, recorded as the
    act of who runs the flow (`ctx.acting`)."""
    started = time.perf_counter()
    result = BatchResult()
    if not task_ids:
        return result
    actor = ctx.acting
    with ctx.uow.writing() as tx:
        found = tx.tasks.of_ids(task_ids)
        done = tx.notices.keys(task_ids, "reminder")
        notices: list[NewNotice] = []
        for task in found:
            due = task.due_date
            if due is None or due >= as_of or task.state not in NOT_DONE:
                continue
            key = f"reminder:{task.id}:{due.isoformat()}"
            if key in done:
                continue
            notices.append(
                NewNotice(
                    key=key,
                    kind="reminder",
                    task_id=task.id,
                    organisation=task.organisation,
                    unit=task.lead_unit,
                    due_date=due,
                    issued_at=tx.now,
                )
            )
            days_late, state = (as_of - due).days, task.state.value
            tx.record(
                TaskReminded(
                    actor=actor,
                    role="system",
                    organisation=task.organisation,
                    task_id=task.id,
                    plan_id=task.plan,
                    from_state=state,
                    to_state=state,
                    to_unit=task.lead_unit,
                    due=due.isoformat(),
                    days_overdue=days_late,
                    code=task.code,
                    period=task.period,
                )
            )
            result.reminders.append(
                {
                    "task": task.id,
                    "code": task.code,
                    "period": task.period,
                    "plan": task.plan,
                    "organisation": task.organisation,
                    "unit": task.lead_unit,
                    "due": due.isoformat(),
                    "days_overdue": days_late,
                }
            )
        tx.notices.add(notices)  # one executemany for the batch
    result.seconds = time.perf_counter() - started
    return result
