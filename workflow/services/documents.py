"""Checking the letters, notices and report files on disk against what the database recorded
of them, and writing back the missing and the changed.

Every file a flow writes is recorded, bytes and SHA-256, in the transaction that records its
letter, notice or snapshot (`documents`), and written to disk only after that commits
(`document_files`). `verify` reads each recorded file where it was written (or under
another output folder, `--out`) and names each one missing or whose bytes no longer hash to
the recorded SHA-256; `restore` writes those back, byte for byte, atomically.

The stored copy is checked first: against its own SHA-256, and against what the audit log
recorded of it (a letter's and a notice's files' hashes are in their entries; a report's
JSON file holds its snapshot, whose hash the `report.snapshot` entry holds). A copy that
fails either was altered in the database: it is named and never written out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.context import Context
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.events import ApologyIssued, InspectionConcluded, ReportSnapshotted
from workflow.domain.filters import AuditFilter
from workflow.errors import AuditVerificationFailed, InvalidInput
from workflow.services.document_formats import RENDERED, pdf_of
from workflow.store import files
from workflow.store.queries.documents import StoredDocument
from workflow.store.uow import Reader

MISSING = "missing"
CHANGED = "changed"
ALTERED = "altered in the database"  # the stored copy no longer hashes to its SHA-256
NOT_LOGGED = "not the audit log's"  # the stored copy is not what the document's entry holds
# A report's JSON file is its snapshot plus these; the rest, as canonical JSON, is what the
# `report.snapshot` entry's hash covers (its CSV and HTML are rendered from it).
_REPORT_EXTRAS = ("snapshot", "hash", "files", "created", "seconds")


@dataclass(frozen=True, slots=True)
class Finding:
    path: str  # as recorded, under the output folder
    file: str  # where it was looked for
    kind: str  # letter, notice, report
    source: str  # the notice key, or report:<snapshot>
    problem: str  # MISSING, CHANGED, ALTERED
    actual: str | None = None  # the SHA-256 found (a changed file, an altered copy)
    recorded: str | None = None

    def line(self) -> str:
        if self.problem == MISSING:
            return f"{self.kind} {self.file}: missing (recorded by {self.source})"
        if self.problem == CHANGED:
            return (
                f"{self.kind} {self.file}: changed: hashes to {(self.actual or '')[:12]}…, "
                f"recorded {(self.recorded or '')[:12]}… (by {self.source})"
            )
        if self.problem == NOT_LOGGED:
            return (
                f"{self.kind} {self.path}: the copy the database keeps is not the one the audit "
                f"log recorded: {self.actual} (by {self.source}); it cannot be restored from it"
            )
        return (
            f"{self.kind} {self.path}: the copy the database keeps was altered: it hashes to "
            f"{(self.actual or '')[:12]}…, recorded {(self.recorded or '')[:12]}… "
            f"(by {self.source}); it cannot be restored from it"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "file": self.file,
            "kind": self.kind,
            "source": self.source,
            "problem": self.problem,
            "actual": self.actual,
            "recorded": self.recorded,
        }


@dataclass
class Verification:
    checked: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "by_kind": dict(sorted(self.by_kind.items())),
            "problems": [f.as_json() for f in self.findings],
        }


@dataclass
class Restoration:
    restored: list[str] = field(default_factory=list)  # the files written
    unrestorable: list[Finding] = field(default_factory=list)  # altered in the database
    checked: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "restored": self.restored,
            "unrestorable": [f.as_json() for f in self.unrestorable],
        }


def verify(
    ctx: Context, organisations: Collection[str] | None = None, out: Path | None = None
) -> Verification:
    """Check every recorded document (of `organisations`, when given) on disk: where it was
    written, or under `out` (the output folder: letters/, inspections/, reports/)."""
    result = Verification()
    for kind, finding, _content in _check(ctx, organisations, out):
        result.checked += 1
        result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
        if finding is not None:
            result.findings.append(finding)
    return result


def restore(
    ctx: Context, organisations: Collection[str] | None = None, out: Path | None = None
) -> Restoration:
    """Write back, byte for byte and atomically, every recorded document missing or changed
    on disk (only those); a copy altered in the database is left out and named."""
    result = Restoration()
    writes: list[tuple[Path, bytes]] = []
    for _kind, finding, content in _check(ctx, organisations, out):
        result.checked += 1
        if finding is None:
            continue
        if finding.problem in (ALTERED, NOT_LOGGED):
            result.unrestorable.append(finding)
            continue
        writes.append((Path(finding.file), content))
    try:
        result.restored = [str(p) for p in files.write_all(writes)]
    except OSError as exc:
        raise InvalidInput(
            f"cannot restore the documents: {exc.strerror or exc} ({exc.filename or ''}); "
            "nothing half-written is left: free the space or fix the folder and run it again"
        ) from exc
    ctx.log.info(
        "documents.restore",
        actor=ctx.acting,
        restored=len(result.restored),
        unrestorable=len(result.unrestorable),
    )
    return result


@dataclass
class Rendering:
    """`letter_pdfs`: the PDFs written, those already on disk as rendered, and the letters
    whose stored HTML was altered (named, never rendered)."""

    written: list[str] = field(default_factory=list)
    current: int = 0
    unrenderable: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "current": self.current,
            "unrenderable": [f.as_json() for f in self.unrenderable],
        }


def letter_pdfs(
    ctx: Context, organisations: Collection[str] | None = None, out: Path | None = None
) -> Rendering:
    """Write the PDF of every recorded apology letter beside its HTML (`<stem>.pdf`, or
    under `out`), rendered from the HTML the database keeps once it is checked against its
    SHA-256 and the letter's audit entry, dated by that entry: the same letter always gives
    the same bytes, so a PDF already there and equal is left alone. Letters are many (the
    flow issues thousands a day at ~3 ms each, a PDF takes ~100 ms): their PDFs are made on
    demand, not by the flow; notices' and reports' PDFs are made with them."""
    result = Rendering()
    with ctx.uow.reading() as r:
        for code in organisations or ():
            r.organisations.require(code)
        logged = _logged_hashes(r, organisations)
        dated = _letter_dates(r, organisations)
        letters = [
            doc
            for doc in r.documents.every(organisations)
            if doc.kind == "letter" and doc.path.endswith(".html")
        ]
    writes: list[tuple[Path, bytes]] = []
    for doc in letters:
        finding = _finding(doc, out, logged)
        if finding is not None and finding.problem in (ALTERED, NOT_LOGGED):
            result.unrenderable.append(finding)
            continue
        target = _location(doc, out).with_suffix(".pdf")
        data = pdf_of(doc.content.decode("utf-8"), "letter", dated[doc.source])
        try:
            if target.read_bytes() == data:
                result.current += 1
                continue
        except OSError:
            pass
        writes.append((target, data))
    try:
        result.written = [str(p) for p in files.write_all(writes)]
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the letters' PDFs: {exc.strerror or exc} ({exc.filename or ''})"
        ) from exc
    ctx.log.info("documents.letter_pdfs", written=len(result.written), current=result.current)
    return result


def letter_pdf(ctx: Context, organisation: str, document_id: int) -> bytes | None:
    """The PDF of one recorded letter's HTML (the desk's download), made on demand as
    `letter_pdfs` makes it: the same bytes. None: no such letter HTML of the organisation;
    exit 6 (AuditVerificationFailed) if its stored copy was altered."""
    with ctx.uow.reading() as r:
        doc = r.documents.one(document_id, organisation, "letter")
        if doc is None or not doc.path.endswith(".html"):
            return None
        # Only this letter's entries (its dossier's), not the organisation's year of them.
        dossier = doc.source.split(":")[1] if doc.source.count(":") == 2 else ""
        entries = r.audit.query(
            AuditFilter(
                organisations=frozenset([organisation]),
                action=ApologyIssued.ACTION,
                subject=f"task:{dossier}",
            )
        )
    logged = _letter_hashes(entries)
    dated = _letter_dates_of(entries)
    finding = _finding(doc, None, logged)
    if finding is not None and finding.problem in (ALTERED, NOT_LOGGED):
        raise AuditVerificationFailed(finding.line())
    return pdf_of(doc.content.decode("utf-8"), "letter", dated[doc.source])


def _letter_dates(r: Reader, organisations: Collection[str] | None) -> dict[str, dt.datetime]:
    """When each letter was issued (its `dossier.apology` entry), by its notice key."""
    fence = None if organisations is None else frozenset(organisations)
    return _letter_dates_of(
        r.audit.query(AuditFilter(organisations=fence, action=ApologyIssued.ACTION))
    )


def _letter_key(entry: dict[str, Any]) -> str:
    """A `dossier.apology` entry's letter, as its documents name their source."""
    return f"apology:{entry['subject'].removeprefix('task:')}:{entry['data'].get('missed_due')}"


def _letter_dates_of(entries: Iterable[dict[str, Any]]) -> dict[str, dt.datetime]:
    out: dict[str, dt.datetime] = {}
    for entry in entries:
        at = entry["at"]
        out[_letter_key(entry)] = (
            at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        )
    return out


def _letter_hashes(entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    """What `dossier.apology` entries recorded of their letters' files, by `source|ext`."""
    out: dict[str, str] = {}
    for entry in entries:
        key = _letter_key(entry)
        out[f"{key}|html"] = str(entry["data"].get("letter_sha256"))
        out[f"{key}|docx"] = str(entry["data"].get("docx_sha256"))
    return out


def _check(
    ctx: Context, organisations: Collection[str] | None, out: Path | None
) -> list[tuple[str, Finding | None, bytes]]:
    """Each recorded document's kind, its finding (None: the file is as recorded) and, for
    those that differ only, the bytes to restore (a year of letters is not held at once)."""
    found: list[tuple[str, Finding | None, bytes]] = []
    with ctx.uow.reading() as r:
        for code in organisations or ():
            r.organisations.require(code)  # a mistyped --org is exit 2, not "0 checked"
        logged = _logged_hashes(r, organisations)
        for doc in r.documents.every(organisations):
            finding = _finding(doc, out, logged)
            found.append((doc.kind, finding, b"" if finding is None else doc.content))
    return found


def _location(doc: StoredDocument, out: Path | None) -> Path:
    return Path(doc.written_to) if out is None else out / doc.path


def _logged_hashes(r: Reader, organisations: Collection[str] | None) -> dict[str, str]:
    """What the audit log recorded of each document, by `source|ext`: the letters' and the
    notices' files' SHA-256, a report's snapshot hash (its JSON file's content)."""
    fence = None if organisations is None else frozenset(organisations)
    out = _letter_hashes(
        r.audit.query(AuditFilter(organisations=fence, action=ApologyIssued.ACTION))
    )
    for entry in r.audit.query(AuditFilter(organisations=fence, action=InspectionConcluded.ACTION)):
        data = entry["data"]
        out[f"{data.get('notice')}|html"] = str(data.get("html_hash"))
        out[f"{data.get('notice')}|docx"] = str(data.get("docx_hash"))
    for entry in r.audit.query(AuditFilter(organisations=fence, action=ReportSnapshotted.ACTION)):
        out[f"{entry['subject']}|json"] = str(entry["data"].get("hash"))
    return out


def _against_the_log(doc: StoredDocument, logged: dict[str, str]) -> str | None:
    """Why the stored copy is not what the audit log recorded of it (None: it is, or the
    log records no hash of this file: a report's CSV and HTML)."""
    ext = doc.path.rsplit(".", 1)[-1]
    if doc.kind == "report" and ext != "json":
        return None
    if ext in RENDERED:  # a PDF or XLSX rendering: the log holds its source's hash
        return None
    recorded = logged.get(f"{doc.source}|{ext}")
    if recorded is None:
        return "no audit entry records it"
    actual = doc.sha256
    if doc.kind == "report":
        try:
            content = json.loads(doc.content)
            actual = content_hash(canonical_json(
                {k: v for k, v in content.items() if k not in _REPORT_EXTRAS}
            ))  # fmt: skip
        except (ValueError, AttributeError):
            return "it is not a report's JSON"
    if actual != recorded:
        return f"it hashes to {actual[:12]}…, the audit log says {recorded[:12]}…"
    return None


def _finding(doc: StoredDocument, out: Path | None, logged: dict[str, str]) -> Finding | None:
    stored = hashlib.sha256(doc.content).hexdigest()
    where = _location(doc, out)

    def problem(what: str, actual: str | None = None) -> Finding:
        return Finding(doc.path, str(where), doc.kind, doc.source, what, actual, doc.sha256)

    if stored != doc.sha256:
        return problem(ALTERED, stored)
    differs = _against_the_log(doc, logged)
    if differs is not None:
        return problem(NOT_LOGGED, differs)
    try:
        data = where.read_bytes()
    except FileNotFoundError:
        return problem(MISSING)
    except OSError as exc:  # a folder in its place, no permission to read it
        return problem(CHANGED, f"unreadable: {exc.strerror or exc}")
    actual = hashlib.sha256(data).hexdigest()
    return None if actual == doc.sha256 else problem(CHANGED, actual)
