"""One apology letter (Mẫu số 04): its fields, its HTML and DOCX files, and what issuing it
writes (the task's and the dossier's new due date, its notice, its audit event), for the
apology flow's batch (`services.apology`) to write with the rest of the batch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.clock import LOCAL_TZ
from workflow.definitions.models import OrganisationSpec
from workflow.documents.letters import LetterFields, render_docx, render_html
from workflow.domain.apology import Apology, ApologyRules
from workflow.domain.audit_chain import content_hash
from workflow.domain.events import ApologyIssued
from workflow.domain.roles import Role
from workflow.store.queries.dossiers import Dossier
from workflow.store.repositories.dossiers import Extension
from workflow.store.repositories.notices import NewNotice
from workflow.store.repositories.tasks import DueDateChange

ACTOR = "flow:apology"  # who issues letters when nobody was authenticated (a simulation)
DEFAULT_REASON = "Hồ sơ chưa được giải quyết xong trong thời hạn quy định"


@dataclass(frozen=True, slots=True)
class IssuedLetter:
    """A letter written to its files, and what its batch writes for it."""

    report: dict[str, Any]  # what the flow reports of it
    event: ApologyIssued
    moved: DueDateChange  # the task's due date, by compare-and-set on its version
    extension: Extension
    notice: NewNotice


def letter_number(number: int, organisation: str) -> str:
    """The letter's number: the organisation's count of letters, e.g. 001/PXL-LSN-SKHDT."""
    return f"{number:03d}/PXL-{organisation}"


def issue_letter(
    dossier: Dossier,
    procedure_name: str,
    action: Apology,
    rules: ApologyRules,
    org: OrganisationSpec,
    *,
    number: int,
    as_of: dt.date,
    out_dir: Path,
    key: str,
    now: dt.datetime,
    actor: str = ACTOR,
) -> IssuedLetter:
    """Render the letter and write its files; nothing is stored in the database here.
    `actor`: who the letter's entry records as issuing it (the person who started the run,
    its schedule, or `flow:apology`)."""
    contact = " / ".join(x for x in (dossier.applicant_phone, dossier.applicant_email) if x)
    fields = LetterFields(
        agency=org.name,
        province=org.province,
        number=letter_number(number, org.code),
        issued_on=as_of,
        form_code=rules.form_code,
        form_title=rules.form_title,
        form_source=rules.form_source,
        applicant_name=dossier.applicant_name,
        applicant_address=dossier.applicant_address,
        applicant_contact=contact or None,
        dossier_code=dossier.code,
        procedure_name=procedure_name,
        received_at=dossier.received_at.astimezone(LOCAL_TZ),
        original_due=dossier.original_due,
        missed_due=action.missed_due,
        reason=dossier.delay_reason or DEFAULT_REASON,
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
    stem = f"{dossier.code}-{action.missed_due.isoformat()}"
    html_path, docx_path = folder / f"{stem}.html", folder / f"{stem}.docx"
    # Written before the commit, under a name fixed by the notice key: a run that dies after
    # writing rewrites the same bytes next time; nothing points at the file until it commits.
    html_path.write_bytes(html)
    docx_path.write_bytes(docx)
    letter_hash = content_hash(html)
    task_id, extension, state = dossier.task_id, dossier.extension_count + 1, dossier.state.value
    report = {
        "dossier": task_id,
        "code": dossier.code,
        "organisation": org.code,
        "number": fields.number,
        "path": str(html_path),
        "docx": str(docx_path),
        "missed_due": action.missed_due.isoformat(),
        "new_due": action.new_due.isoformat(),
        "late": action.late,
        "hash": letter_hash,
    }
    event = ApologyIssued(
        actor=actor,
        role="system",
        organisation=org.code,
        task_id=task_id,
        from_state=state,
        to_state=state,
        code=dossier.code,
        letter_sha256=letter_hash,
        docx_sha256=content_hash(docx),
        number=fields.number,
        missed_due=action.missed_due.isoformat(),
        new_due=action.new_due.isoformat(),
        extension=extension,
        working_days=action.extension_working_days,
        version=dossier.version + 1,
        rules=rules.id,
        file=html_path.name,
    )
    notice = NewNotice(
        key=key,
        kind="apology",
        task_id=task_id,
        organisation=org.code,
        unit=dossier.lead_unit,
        due_date=action.missed_due,
        issued_at=now,
        new_due=action.new_due,
        path=str(html_path),
        content_hash=letter_hash,
    )
    return IssuedLetter(
        report,
        event,
        DueDateChange(task_id, dossier.version, action.new_due),
        Extension(task_id, action.new_due, extension),
        notice,
    )


def _signer(org: OrganisationSpec) -> str:
    leaders = sorted(p.name for p in org.people if Role.LEADER in p.roles)
    return leaders[0] if leaders else ""
