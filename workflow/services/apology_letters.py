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
from workflow.domain.issuing import (
    DocumentKind,
    applicant_is_organisation,
    letterhead,
    recipients,
    signature,
)
from workflow.errors import InvalidInput
from workflow.store.queries.dossiers import Dossier
from workflow.store.repositories.documents import NewDocument
from workflow.store.repositories.dossiers import Extension
from workflow.store.repositories.notices import NewNotice
from workflow.store.repositories.tasks import DueDateChange

ACTOR = "flow:apology"  # who issues letters when nobody was authenticated (a simulation)


def missing_reason(dossier: Dossier) -> str | None:
    """Why a dossier cannot have its letter yet: the letter states the reason for the delay,
    and only the handling unit knows it (`dossiers delay --reason`); None when declared."""
    if dossier.delay_reason and dossier.delay_reason.strip():
        return None
    return (
        f"dossier {dossier.task_id} ({dossier.code}): no apology letter without the reason "
        f"for the delay; the handling unit {dossier.lead_unit} declares it with "
        f"`planflow dossiers delay {dossier.task_id} --reason TEXT --days N`"
    )


@dataclass(frozen=True, slots=True)
class IssuedLetter:
    """A letter rendered, and what its batch records for it (its files are written once
    the batch has committed)."""

    report: dict[str, Any]  # what the flow reports of it
    event: ApologyIssued
    moved: DueDateChange  # the task's due date, by compare-and-set on its version
    extension: Extension
    notice: NewNotice
    files: tuple[NewDocument, NewDocument]  # HTML and DOCX


def issue_letter(
    dossier: Dossier,
    procedure_name: str,
    action: Apology,
    rules: ApologyRules,
    org: OrganisationSpec,
    *,
    number: str,
    as_of: dt.date,
    out_dir: Path,
    key: str,
    now: dt.datetime,
    actor: str = ACTOR,
) -> IssuedLetter:
    """Render the letter (HTML and DOCX); nothing is stored nor written here.
    `actor`: who the letter's entry records as issuing it (the person who started the run,
    its schedule, or `flow:apology`); `number`: the one the organisation's register gave it
    in the batch's transaction (`services.register`)."""
    refused = missing_reason(dossier)
    if refused is not None:
        raise InvalidInput(refused)
    contact = " / ".join(x for x in (dossier.applicant_phone, dossier.applicant_email) if x)
    head = letterhead(org)
    signer = signature(org, DocumentKind.APOLOGY_LETTER)
    assert signer is not None  # a letter always has one (the head of the agency at least)
    fields = LetterFields(
        agency=org.name,
        governing_body=head.governing_body,
        place=head.place,
        number=number,
        issued_on=as_of,
        form_code=rules.form_code,
        form_title=rules.form_title,
        form_source=rules.form_source,
        applicant_name=dossier.applicant_name,
        applicant_is_organisation=applicant_is_organisation(dossier.applicant_name),
        applicant_address=dossier.applicant_address,
        applicant_contact=contact or None,
        dossier_code=dossier.code,
        procedure_name=procedure_name,
        received_at=dossier.received_at.astimezone(LOCAL_TZ),
        original_due=dossier.original_due,
        missed_due=action.missed_due,
        reason=str(dossier.delay_reason).strip(),
        apology_text=rules.apology_text,
        new_due=action.new_due,
        signer_name=signer.name,
        signer_title=signer.title,
        signer_authority=signer.authority,
        # Addressed to the applicant ("Như trên"), then the organisation's own list; filed by
        # the handling unit.
        recipients=recipients(org, DocumentKind.APOLOGY_LETTER, ["Như trên"], dossier.lead_unit),
        legal_basis=rules.legal_basis,
    )
    html = render_html(fields).encode("utf-8")
    docx = render_docx(fields)
    # Rendered here, written only after the batch's transaction commits (`files`): a batch
    # that loses a conflict leaves no file behind that disagrees with the letter recorded.
    stem = f"{dossier.code}-{action.missed_due.isoformat()}"
    html_doc, docx_doc = (
        NewDocument(
            path=f"letters/{org.code}/{stem}.{ext}",
            kind="letter",
            source=key,
            organisation=org.code,
            target=out_dir / "letters" / org.code / f"{stem}.{ext}",
            sha256=content_hash(data),
            content=data,
        )
        for ext, data in (("html", html), ("docx", docx))
    )
    html_path, docx_path = html_doc.target, docx_doc.target
    letter_hash = html_doc.sha256
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
        docx_sha256=docx_doc.sha256,
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
        (html_doc, docx_doc),
    )
