"""Dossier use cases: receive one, import many from CSV, declare a delay, list and show.

A dossier is a task (kind 'dossier') with an applicant: the same lifecycle and audit log
(assigned = received and assigned to the handling unit; submitted = result proposed;
verified = approved and signed; closed = returned to the applicant).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from workflow.clock import LOCAL_TZ, today_local
from workflow.context import Context
from workflow.definitions.checks import suggest
from workflow.domain.events import DossierDelayDeclared, DossierReceived
from workflow.domain.lifecycle import NOT_DONE, State
from workflow.domain.roles import NO_BUSINESS, Actor, Role
from workflow.errors import ImportProblems, InvalidInput, MoveNotAllowed, NotFound, PermissionDenied
from workflow.services.calendar import calendar_in
from workflow.services.dossier_input import Applicant as Applicant
from workflow.services.dossier_input import NewDossier as NewDossier
from workflow.services.dossier_input import decode_csv, parse_csv, read_csv
from workflow.services.tasks import NewTask, insert_new_tasks
from workflow.store.backend import Mutex
from workflow.store.queries.dossiers import Dossier
from workflow.store.queries.organisations import OrganisationQueries
from workflow.store.queries.procedures import Procedure
from workflow.store.repositories.dossiers import ReceivedDossier
from workflow.store.uow import Tx

MAX_DELAY_DAYS = 60
RECEIVING_ROLES = (Role.STAFF, Role.UNIT_HEAD, Role.OFFICE)  # in the order one is chosen


def dossier_view(d: Dossier) -> dict[str, Any]:
    """A dossier as the CLI and the API show it (times in Vietnam time)."""
    return {
        "id": d.task_id,
        "code": d.code,
        "organisation": d.organisation,
        "procedure": d.procedure,
        "applicant": d.applicant_name,
        "address": d.applicant_address,
        "phone": d.applicant_phone,
        "email": d.applicant_email,
        "received_at": d.received_at.astimezone(LOCAL_TZ).isoformat(),
        "original_due": d.original_due.isoformat(),
        "due_date": d.current_due.isoformat(),
        "extension_count": d.extension_count,
        "delay_days": d.delay_days,
        "delay_reason": d.delay_reason,
        "escalated": d.escalated,
        "state": d.state.value,
        "lead_unit": d.lead_unit,
        "version": d.version,
    }


def _receiver(organisations: OrganisationQueries, actor_id: str) -> Actor:
    actor = organisations.actor(actor_id)
    if actor is None:
        raise NotFound(f"person {actor_id!r} does not exist")
    if not actor.roles & set(RECEIVING_ROLES):
        raise PermissionDenied(
            f"{actor_id} cannot receive dossiers: it needs the staff, unit_head or office role"
        )
    return actor


def _check(new: NewDossier, known: dict[str, Procedure], now: dt.datetime) -> list[str]:
    problems = new.applicant.problems()
    if new.procedure not in known:
        problems.append(f"unknown procedure '{new.procedure}'{suggest(new.procedure, known)}")
    if new.received_at > now + dt.timedelta(minutes=5):
        problems.append(f"received_at {new.received_at.isoformat()} is in the future")
    return problems


def _receive_many(
    tx: Tx, actor: Actor, known: dict[str, Procedure], batch: Sequence[NewDossier]
) -> list[int]:
    """Number the dossiers, insert their tasks and rows, record their receipt. The caller
    took `Mutex.DOSSIER_NUMBERS` first: numbers are per day and must not repeat."""
    calendar = calendar_in(tx.organisations, actor.organisation)
    numbers: dict[str, int] = {}
    new_tasks, received = [], []
    for item in batch:
        proc = known[item.procedure]
        day = item.received_at.astimezone(LOCAL_TZ).strftime("%y%m%d")
        prefix = f"{actor.organisation}-{day}-"
        if prefix not in numbers:
            numbers[prefix] = tx.dossiers.numbered(prefix)
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
        received.append((item, proc, code, due))
    role = next(r for r in RECEIVING_ROLES if actor.has(r)).value
    ids = insert_new_tasks(tx, new_tasks, actor=actor.id, role=role, reason="dossier received")
    assigned = State.ASSIGNED.value  # once: an enum member's value is a slow lookup
    tx.dossiers.insert(
        [
            ReceivedDossier(
                task_id=task_id,
                organisation=actor.organisation,
                code=code,
                procedure=proc.code,
                applicant_name=item.applicant.name.strip(),
                applicant_address=item.applicant.address,
                applicant_phone=item.applicant.phone,
                applicant_email=item.applicant.email,
                received_at=item.received_at,
                due=due.due,
            )
            for task_id, (item, proc, code, due) in zip(ids, received, strict=True)
        ]
    )
    tx.record(
        *(
            DossierReceived(
                actor=actor.id,
                role=role,
                unit=actor.unit,
                organisation=actor.organisation,
                task_id=task_id,
                to_state=assigned,
                code=code,
                procedure=proc.code,
                applicant=item.applicant.name.strip(),
                received_at=item.received_at.isoformat(),
                counted_from=due.counted_from.isoformat(),
                working_days=proc.working_days,
                due=due.due.isoformat(),
                handling_unit=proc.unit,
            )
            for task_id, (item, proc, code, due) in zip(ids, received, strict=True)
        )
    )
    return ids


def receive(ctx: Context, new: NewDossier, actor_id: str) -> dict[str, Any]:
    with ctx.uow.writing() as tx:
        tx.serialise(Mutex.DOSSIER_NUMBERS)
        actor = _receiver(tx.organisations, actor_id)
        known = tx.procedures.of_organisation(actor.organisation)
        problems = _check(new, known, tx.now)
        if problems:
            raise InvalidInput("; ".join(problems))
        [task_id] = _receive_many(tx, actor, known, [new])
        view = dossier_view(_require(tx.dossiers.get(task_id), task_id))
    ctx.log.info(
        "dossier.received", dossier=task_id, code=view["code"], actor=actor_id, due=view["due_date"]
    )
    return view


def import_csv(ctx: Context, path: Path, actor_id: str) -> list[dict[str, Any]]:
    """All rows or none: every bad row is reported with its line number."""
    rows, problems = read_csv(path)
    return _import(ctx, rows, problems, str(path), actor_id)


def import_csv_bytes(ctx: Context, data: bytes, name: str, actor_id: str) -> list[dict[str, Any]]:
    """`import_csv` of a CSV received whole (an HTTP request's body), its bad rows named
    `name:line`."""
    rows, problems = parse_csv(decode_csv(data, name), name)
    return _import(ctx, rows, problems, name, actor_id)


def _import(
    ctx: Context,
    rows: list[tuple[int, NewDossier]],
    problems: list[tuple[int, str]],
    source: str,
    actor_id: str,
) -> list[dict[str, Any]]:
    with ctx.uow.writing() as tx:
        tx.serialise(Mutex.DOSSIER_NUMBERS)
        actor = _receiver(tx.organisations, actor_id)
        known = tx.procedures.of_organisation(actor.organisation)
        for line, new in rows:
            problems += [(line, p) for p in _check(new, known, tx.now)]
        if problems:
            raise ImportProblems([f"{source}:{line}: {p}" for line, p in sorted(problems)])
        ids = _receive_many(tx, actor, known, [new for _, new in rows])
        views = [dossier_view(d) for d in tx.dossiers.of_ids(ids)]
    ctx.log.info("dossiers.imported", count=len(views), actor=actor_id, source=source)
    return views


def delay(ctx: Context, task_id: int, reason: str, days: int, actor_id: str) -> dict[str, Any]:
    """The handling unit declares, before the due date, that a dossier will be late."""
    if not reason.strip():
        raise InvalidInput("delay needs --reason: why the dossier will be late")
    if not 1 <= days <= MAX_DELAY_DAYS:
        raise InvalidInput(f"--days {days}: a delay is 1 to {MAX_DELAY_DAYS} working days")
    today = today_local(ctx.clock)
    with ctx.uow.writing() as tx:
        dossier = _require(tx.dossiers.get(task_id), task_id)
        actor = tx.organisations.actor(actor_id)
        if actor is None:
            raise NotFound(f"person {actor_id!r} does not exist")
        _check_delay(dossier, actor, today)
        tx.dossiers.set_delay(task_id, reason.strip(), days)
        tx.record(
            DossierDelayDeclared(
                actor=actor.id,
                role=min(actor.roles - NO_BUSINESS).value,  # the role it acts in
                unit=actor.unit,
                organisation=dossier.organisation,
                task_id=task_id,
                from_state=dossier.state.value,
                to_state=dossier.state.value,
                reason=reason.strip(),
                days=days,
                due=dossier.current_due.isoformat(),
            )
        )
    # The row as now stored: only the delay changed.
    view = dossier_view(dataclasses.replace(dossier, delay_reason=reason.strip(), delay_days=days))
    ctx.log.info("dossier.delay_declared", dossier=task_id, actor=actor_id, days=days)
    return view


def _check_delay(dossier: Dossier, actor: Actor, today: dt.date) -> None:
    task_id, due = dossier.task_id, dossier.current_due
    if actor.organisation != dossier.organisation or actor.unit != dossier.lead_unit:
        raise PermissionDenied(
            f"only the handling unit {dossier.lead_unit} declares a delay on dossier {task_id}; "
            f"{actor.id} belongs to {actor.unit}"
        )
    if actor.makes_no_business_move():
        raise PermissionDenied(actor.refusal())
    if dossier.state not in NOT_DONE:
        raise MoveNotAllowed(
            f"dossier {task_id} is {dossier.state.value}: there is nothing left to delay"
        )
    if dossier.extension_count > 0:
        raise MoveNotAllowed(
            f"the return date of dossier {task_id} was already re-set once (to "
            f"{due}); the law allows it once: if late again it is escalated"
        )
    if today >= due:
        raise MoveNotAllowed(
            f"dossier {task_id} is due {due}: a delay is declared before the due "
            f"date (today is {today})"
        )


def _require(dossier: Dossier | None, task_id: int) -> Dossier:
    if dossier is None:
        raise NotFound(f"dossier {task_id} does not exist")
    return dossier


def list_dossiers(
    ctx: Context,
    organisation: str | None = None,
    state: State | None = None,
    late_on: dt.date | None = None,
    *,
    organisations: Collection[str] | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Dossiers by id (each filter when given); `organisations`: only theirs (the API's
    fence for who reads); `after_id` and `limit`: one page."""
    with ctx.uow.reading() as r:
        found = r.dossiers.find(
            organisation,
            state,
            late_on,
            organisations=organisations,
            after_id=after_id,
            limit=limit,
        )
        return [dossier_view(d) for d in found]


def show_dossier(ctx: Context, task_id: int) -> dict[str, Any]:
    with ctx.uow.reading() as r:
        return dossier_view(_require(r.dossiers.get(task_id), task_id))


def list_procedures(ctx: Context, organisation: str | None = None) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        return [
            {
                "code": p.code,
                "name": p.name,
                "working_days": p.working_days,
                "unit": p.unit,
                "organisation": p.organisation,
                "cutoff_hour": p.cutoff_hour,
                "illustrative": p.illustrative,
                "legal_basis": p.legal_basis,
            }
            for p in r.procedures.listed(organisation)
        ]
