"""The formats each recorded document also comes in: a PDF of every HTML letter, notice and
report (`documents.pdf`), an XLSX of every report CSV (`documents.workbook`).

The letters', notices' and reports' services call `renderings` on the files they record, in
the same transaction: the renderings are recorded beside them (`documents`: bytes, SHA-256,
path) and written after the commit with them, so `planflow documents verify` and `restore`
cover them too. They are renderings of hashed documents: the audit log holds the HTML's
(DOCX's, the snapshot's) hash, not theirs (docs/documents-formats.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from workflow.documents import pdf, workbook
from workflow.domain.audit_chain import content_hash
from workflow.store.repositories.documents import NewDocument

RENDERED = ("pdf", "xlsx")  # extensions of renderings: recorded, not in the audit log


def renderings(documents: Sequence[NewDocument], dated: dt.datetime | dt.date) -> list[NewDocument]:
    """The PDF of each HTML file and the XLSX of each report CSV among `documents`, dated
    `dated` (the document's own date: a letter's, a notice's, a report's generation)."""
    out = []
    for doc in documents:
        stem, _, ext = doc.path.rpartition(".")
        if ext == "html":
            data = pdf_of(doc.content.decode("utf-8"), doc.kind, dated)
            out.append(_beside(doc, stem, "pdf", data))
        elif ext == "csv" and doc.kind == "report":
            data = xlsx_of(doc.content.decode("utf-8"), dated)
            out.append(_beside(doc, stem, "xlsx", data))
    return out


def pdf_of(html: str, kind: str, dated: dt.datetime | dt.date) -> bytes:
    """The PDF of a letter's, a notice's or a report's HTML, on its kind's paper."""
    return pdf.render_pdf(html, paper=pdf.paper_of(kind), dated=dated)


def xlsx_of(csv_text: str, dated: dt.datetime | dt.date | None) -> bytes:
    """The workbook of a report's CSV: its header and rows, numbers as numbers."""
    header, rows = workbook.from_csv(csv_text)
    when = dated if isinstance(dated, dt.datetime) else None
    return workbook.workbook([workbook.Sheet("bao-cao", header, rows)], when)


def report_file(report: Mapping[str, Any], ext: str) -> bytes:
    """A stored report's PDF or XLSX, rendered from the snapshot alone: the bytes the
    aggregate flow recorded for it (both are dated by its generation)."""
    from workflow.documents import report as document

    dated = dt.datetime.fromisoformat(str(report["generated_at"]))
    if ext == "pdf":
        return pdf_of(document.render_html(report), "report", dated)
    if ext == "xlsx":
        return xlsx_of(document.render_csv(report), dated)
    raise ValueError(f"no {ext} rendering of a report")


def _beside(doc: NewDocument, stem: str, ext: str, data: bytes) -> NewDocument:
    return replace(
        doc,
        path=f"{stem}.{ext}",
        target=doc.target.with_suffix(f".{ext}"),
        sha256=content_hash(data),
        content=data,
    )
