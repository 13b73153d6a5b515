"""Inspection records and conclusions: the inspector's record (Biên bản kiểm tra), then,
once the office has verified it, the conclusion notice (Thông báo kết luận kiểm tra) and one
fix task per required fix for the inspected unit.

The record is submitted with the normal submit move (state, role, version checks) and kept,
a revision per submission, in the same transaction; the conclusion, its files' hashes and
the fix tasks are recorded once, under the notice key `conclusion:<task>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.clock import LOCAL_TZ, today_local
from workflow.context import Context
from workflow.documents import conclusion as document
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.events import InspectionConcluded
from workflow.domain.inspection import (
    InspectionRecord,
    Loc,
    read_record,
    record_template,
    verified_record,
)
from workflow.domain.issuing import DocumentKind, letterhead, recipients, signature
from workflow.domain.lifecycle import Move
from workflow.domain.roles import Role
from workflow.domain.tasks import TaskView
from workflow.errors import (
    AuditVerificationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RecordInvalid,
)
from workflow.services import tasks as task_service
from workflow.services.document_files import write_recorded
from workflow.services.document_formats import renderings
from workflow.services.inspection_draws import INSPECTION_CATEGORY, inspection_of
from workflow.services.register import take_number
from workflow.services.tasks import AttachedRecord
from workflow.store.queries.inspections import StoredRecord, Target
from workflow.store.repositories.documents import NewDocument
from workflow.store.repositories.notices import NewNotice
from workflow.store.uow import Reader, Tx


def _target_of(r: Reader, task_id: int) -> Target:
    target = r.inspections.target_of(task_id)
    if target is None:
        raise InvalidInput(f"task {task_id} is not an inspection task of any draw")
    return target


def checklist_of(ctx: Context, task_id: int) -> list[int]:
    """The ids of the tasks an inspection task's record must cover."""
    with ctx.uow.reading() as r:
        return _target_of(r, task_id).checklist


def template(ctx: Context, task_id: int) -> str:
    """A record to fill in for an inspection task, listing its checklist."""
    with ctx.uow.reading() as r:
        ids = _target_of(r, task_id).checklist
        found = r.inspections.checked_tasks(ids)
    listed = [(found[i].id, found[i].code, found[i].title) for i in ids if i in found]
    return record_template(listed, today_local(ctx.clock))


def submit_record(
    ctx: Context,
    task_id: int,
    actor_id: str,
    raw: object,
    *,
    locate: Callable[[Loc], str] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Submit an inspection task with its record, checked against the unit's checklist;
    the record is kept (a revision per submission) and written into the submit entry.

    `locate` turns a place in the record into "file:line:column" for the error message.
    """
    with ctx.uow.writing() as tx:
        task = tx.tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        if task.kind != "inspection":
            raise InvalidInput(
                f"task {task_id} is a {task.kind} task, not an inspection task: submit it "
                f"with `planflow tasks submit {task_id}`"
            )
        actor = tx.organisations.actor(actor_id)
        if actor is None:
            raise NotFound(f"person {actor_id!r} does not exist")
        if not actor.has(Role.INSPECTOR):
            held = ", ".join(sorted(actor.roles)) or "no role"
            raise PermissionDenied(
                f"an inspection record is submitted by an inspector; {actor.id} has {held}"
            )
        target = _target_of(tx, task_id)
        try:
            record = read_record(raw, target.checklist, tx.now.astimezone(LOCAL_TZ).date())
        except RecordInvalid as exc:
            if locate is None:
                raise
            loc, message = exc.problems[0]
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            raise InvalidInput(f"{locate(loc)}: {message}{more}") from None
        content = record.as_json()
        record_hash = content_hash(canonical_json(content))
        revision = 1 + tx.inspections.record_count(task_id)
        done = task_service.make_move(
            tx,
            task_id,
            Move.SUBMIT,
            actor_id,
            task.version if expected_version is None else expected_version,
            note=record.summary(),
            attached=AttachedRecord(content, record_hash, revision),
            via="inspection",
        )
        tx.inspections.add_record(task_id, revision, content, record_hash, actor.id, tx.now)
    task_service.log_move(ctx, done)
    return {
        "task": done.task.as_json(),
        "record_revision": revision,
        "record_hash": record_hash,
        "summary": record.summary(),
    }


# ----------------------------------------------------------------------------- conclude


def pending_conclusions(ctx: Context, organisation: str | None = None) -> list[int]:
    """Inspection tasks whose record was verified and that have no conclusion notice yet."""
    with ctx.uow.reading() as r:
        return r.inspections.pending_conclusions(organisation)


@dataclass(frozen=True)
class Conclusion:
    task: int
    unit: str
    period: str
    number: str
    html: str
    docx: str
    content_hash: str
    fix_tasks: list[int]

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "unit": self.unit,
            "period": self.period,
            "number": self.number,
            "html": self.html,
            "docx": self.docx,
            "content_hash": self.content_hash,
            "fix_tasks": self.fix_tasks,
        }


def conclude(ctx: Context, task_ids: Sequence[int], out_dir: Path) -> list[Conclusion]:
    """For each verified inspection task: render the conclusion notice (HTML + DOCX), create
    one fix task per required fix for the inspected unit, record the notice under its key
    with its audit entry; one transaction per batch; a task already concluded is skipped.
    Recorded as the acts of who runs the flow (`ctx.acting`: a person, a schedule, or
    `flow:inspection`)."""
    done: list[Conclusion] = []
    pending: list[NewDocument] = []
    actor = ctx.acting
    with ctx.uow.writing() as tx:
        # By organisation: registers are locked in one order by every batch (no deadlock).
        of = {t.id: t.organisation for t in tx.tasks.of_ids(task_ids)}
        for task_id in sorted(task_ids, key=lambda t: of.get(t, "")):
            found = _conclude_one(tx, task_id, out_dir, actor, pending)
            if found is not None:
                done.append(found)
        tx.documents.add(pending, tx.now)
    write_recorded(pending, out_dir)  # committed: only now do the notices reach the disk
    for c in done:
        ctx.log.info(
            "inspection.conclude", task=c.task, unit=c.unit, period=c.period, fixes=c.fix_tasks
        )
    return done


def _conclude_one(
    tx: Tx, task_id: int, out_dir: Path, actor: str, pending: list[NewDocument]
) -> Conclusion | None:
    """`pending` gets the notice's files, to write once the batch has committed."""
    key = f"conclusion:{task_id}"
    if tx.notices.exists(key):
        return None
    task = tx.tasks.get(task_id)
    if task is None or task.kind != "inspection" or task.completed_at is None:
        return None
    target = _target_of(tx, task_id)
    stored = tx.inspections.latest_record(task_id)
    if stored is None:
        return None
    _require_verified(tx, task_id, stored)
    # Judged as of the day it was verified, in Vietnam (completed_at is stored in UTC: before
    # 07:00 its UTC date is the day before, and a record made that morning looked "future").
    verified_on = task.completed_at.astimezone(LOCAL_TZ).date()
    record = read_record(stored.record, target.checklist, verified_on)
    spec = tx.organisations.require(task.organisation)
    plan = inspection_of(spec)
    names = {u.code: u.name for u in spec.units}
    person_names = tx.organisations.person_names(spec.code)
    checked = tx.inspections.checked_tasks([f.task for f in record.findings])
    now = tx.now
    issued_on = now.astimezone(LOCAL_TZ).date()
    # Its number from the organisation's register, in this transaction: committed with the
    # notice's audit entry, or given back with it.
    number = take_number(tx, spec, DocumentKind.INSPECTION_NOTICE, issued_on)
    label = document.period_label(task.period)
    unit = str(target.unit)
    head = letterhead(spec)
    signer = signature(spec, DocumentKind.INSPECTION_NOTICE)
    # The unit reports its fixes to the office, unless it is the office: then to the team.
    report_to = plan.unit if unit == spec.office_unit else spec.office_unit
    fields = document.ConclusionFields(
        agency=spec.name,
        governing_body=head.governing_body,
        place=head.place,
        number=number,
        issued_on=issued_on,
        period_label=label,
        unit_name=names.get(unit, unit),
        team_name=names.get(plan.unit, plan.unit),
        report_to=names.get(report_to, report_to),
        inspected_on=record.inspected_on,
        inspectors=(person_names.get(stored.submitted_by, stored.submitted_by),),
        basis=f"Kế hoạch kiểm tra công tác cải cách hành chính {label}",
        findings=tuple(
            document.FindingLine(
                code=checked[f.task].code,
                title=checked[f.task].title,
                compliant=f.compliant,
                note=f.note,
            )
            for f in record.findings
        ),
        strengths=record.strengths,
        shortcomings=record.shortcomings,
        fixes=tuple(
            document.FixLine(f.title, f.due, checked[f.task].code if f.task in checked else None)
            for f in record.fixes
        ),
        signer_title=signer.title if signer else plan.signer_title,
        signer_authority=signer.authority if signer else None,
        signer_name=signer.name if signer else None,
        # The inspected unit, the team, the office (each once: the office may be the unit
        # inspected), then the organisation's own list; filed by the team.
        recipients=recipients(
            spec,
            DocumentKind.INSPECTION_NOTICE,
            [names.get(u, u) for u in (unit, plan.unit, spec.office_unit)],
            plan.unit,
        ),
    )
    html = document.render_html(fields)
    docx = document.render_docx(fields)
    # Recorded here, written by `conclude` once the batch has committed (document_files).
    stem = f"TB-{task.period}-{unit}-{task_id}"
    html_doc, docx_doc = (
        NewDocument(
            path=f"inspections/{spec.code}/{task.period}/{stem}.{ext}",
            kind="notice",
            source=key,
            organisation=spec.code,
            target=out_dir / spec.code / task.period / f"{stem}.{ext}",
            sha256=content_hash(data),
            content=data,
        )
        for ext, data in (("html", html.encode("utf-8")), ("docx", docx))
    )
    pending += (html_doc, docx_doc, *renderings((html_doc,), issued_on))  # + its PDF
    html_path, docx_path = html_doc.target, docx_doc.target
    categories = {i: r.category for i, r in checked.items()}
    fix_ids = _fix_tasks(tx, task, unit, record, number, categories, actor)
    digest = content_hash(docx)
    tx.notices.add(
        [
            NewNotice(
                key=key,
                kind="conclusion",
                task_id=task_id,
                organisation=spec.code,
                unit=unit,
                due_date=record.inspected_on,
                issued_at=now,
                path=str(html_path),
                content_hash=digest,
            )
        ]
    )
    tx.record(
        InspectionConcluded(
            actor=actor,
            role="system",
            unit=plan.unit,
            organisation=spec.code,
            task_id=task_id,
            notice=key,
            number=number,
            record_hash=stored.record_hash,
            html_hash=content_hash(html),
            docx_hash=digest,
            path=str(html_path),
            fix_tasks=fix_ids,
        )
    )
    return Conclusion(
        task_id, unit, task.period, number, str(html_path), str(docx_path), digest, fix_ids
    )


def _require_verified(tx: Tx, task_id: int, stored: StoredRecord) -> None:
    """What was verified is what is concluded: the stored record must be the revision the
    office's verify approved, and still hash to the hash its submit entry holds (an owner
    can edit the inspection_records table; the log they cannot, unseen). Else exit 6, and
    the batch's transaction, notices and fix tasks included, is rolled back."""
    verified = verified_record(task_id, tx.audit.of_task(task_id))
    actual = content_hash(canonical_json(stored.record))
    if (stored.revision, actual, stored.record_hash) != (
        verified.revision,
        verified.record_hash,
        verified.record_hash,
    ):
        raise AuditVerificationFailed(
            f"the stored record of inspection task {task_id} (revision {stored.revision}, "
            f"hashing to {actual[:12]}…) is not the one the office verified: audit entry "
            f"{verified.submit_seq}, approved by entry {verified.verify_seq}, holds revision "
            f"{verified.revision} hashing to {verified.record_hash[:12]}…; no conclusion issued"
        )


def _fix_tasks(
    tx: Tx,
    task: TaskView,
    unit: str,
    record: InspectionRecord,
    number: str,
    categories: Mapping[int, str | None],
    actor: str,
) -> list[int]:
    new = [
        task_service.NewTask(
            organisation=task.organisation,
            code=f"{task.code}-KP{i}",
            title=fix.title,
            lead_unit=unit,
            kind="fix",
            period=task.period,
            category=(categories.get(fix.task) if fix.task else None) or INSPECTION_CATEGORY,
            due_date=fix.due,
            deliverable="Báo cáo kết quả khắc phục",
            parent_task=task.id,
        )
        for i, fix in enumerate(record.fixes, start=1)
    ]
    return task_service.insert_new_tasks(
        tx, new, actor=actor, role="system",
        reason=f"Khắc phục theo Thông báo kết luận kiểm tra số {number}",
    )  # fmt: skip
