"""The formats every letter, notice and report comes in, on SQLite and PostgreSQL: the PDF
(its text the HTML's, Vietnamese intact; its fonts embedded; A5 for a letter, A4 for a
notice and a report; the same bytes when rendered again), the report's XLSX (its CSV's
table, read back with openpyxl); all recorded and checked by `documents verify`; the pages
rendered as PNG for the README (docs/screenshots/letter.png, notice.png, report-pdf.png)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Engine, update

from tests.integration.test_dossiers import HEAD, run_apology
from tests.support import documents as made
from tests.support.pdf_reading import (
    embedded_families,
    fonts,
    html_words,
    normal,
    page_size_mm,
    pdf_text,
    save_page_png,
)
from workflow.documents import report as report_document
from workflow.domain.audit_chain import content_hash
from workflow.errors import AuditVerificationFailed
from workflow.services import Context, documents, reports
from workflow.services import dossiers as dossier_service
from workflow.services.document_formats import pdf_of, report_file
from workflow.store.queries.documents import StoredDocument
from workflow.store.tables import documents as documents_table

HEADING = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


def letters(ctx: Context, out: Path, count: int = 1) -> list[Path]:
    """`count` apology letters of 5/6/2024, their HTML and DOCX by the flow, their PDF by
    `documents.letter_pdfs` (on demand); each dossier's delay declared by its unit first (a
    letter states the reason the unit gave)."""
    made.load_definitions(ctx)
    for dossier in made.late_dossiers(ctx, count):
        dossier_service.delay(ctx, dossier, "Cần xác minh thông tin chủ sở hữu", 2, HEAD)
    issued = run_apology(ctx, 5, out).letters
    assert len(issued) == count
    made_now = documents.letter_pdfs(ctx)
    pdfs = [Path(letter["path"]).with_suffix(".pdf") for letter in issued]
    assert (sorted(made_now.written), made_now.current) == (sorted(map(str, pdfs)), 0)
    return sorted([*(Path(p) for x in issued for p in (x["path"], x["docx"])), *pdfs])


def by_suffix(paths: list[Path]) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for p in paths:
        found.setdefault(p.suffix, []).append(p)
    return found


def dated_as_written(pdf: bytes) -> dt.date | dt.datetime:
    """The date the PDF says it was made: the document's own (never the clock's)."""
    raw = str(PdfReader(io.BytesIO(pdf)).metadata["/CreationDate"])  # type: ignore[index]
    digits = raw.removeprefix("D:").rstrip("Z'").replace("+00'00", "")
    if len(digits) == 8:
        return dt.datetime.strptime(digits, "%Y%m%d").date()
    return dt.datetime.strptime(digits[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def assert_reads_as_its_html(pdf: bytes, html: str) -> str:
    """Every word of the HTML is in the PDF's text, diacritics and all; and the PDF's fonts
    are all embedded. Returns the text."""
    text = pdf_text(pdf)
    squeezed = text.replace(" ", "")  # a word wrapped after "/" or "-" reads as two
    missing = [w for w in html_words(html) if w and w not in squeezed]
    assert not missing, (missing[:20], text[:400])
    used = fonts(pdf)
    assert used and all(used.values()), used  # every font embedded (FontFile2/3)
    assert all("planflow-serif" in name for name in used), used  # ours alone, no fallback
    assert embedded_families(pdf) == {"Noto Serif"}  # and it is Noto Serif
    return text


def assert_rendered_again_alike(pdf: bytes, html: str, kind: str) -> None:
    again = pdf_of(html, kind, dated_as_written(pdf))
    assert again == pdf  # deterministic: the same HTML and date give the same bytes


def test_a_letter_s_pdf_is_its_html_on_a5_with_fonts_embedded(ctx: Context, tmp_path: Path) -> None:
    written = by_suffix(letters(ctx, tmp_path))
    [html_path], [pdf_path] = written[".html"], written[".pdf"]
    html, pdf = html_path.read_text("utf-8"), pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = assert_reads_as_its_html(pdf, html)
    for phrase in (HEADING, MOTTO, "LSN-SKHDT-240603-0001", "Hộ số 0", "xin lỗi"):
        assert normal(phrase).lower() in text.lower(), phrase
    # A5, as the form and its DOCX are, unless the letter's own CSS sets its page (A4).
    own_a4 = re.search(r"@page\s*\{[^}]*size:\s*A4", html)
    assert page_size_mm(pdf) == ((210, 297) if own_a4 else (148, 210))
    # Dated by the letter's audit entry (issued at 07:00 Vietnam time), not by the clock.
    assert dated_as_written(pdf) == dt.datetime(2024, 6, 5, 0, 0, tzinfo=dt.UTC)
    assert_rendered_again_alike(pdf, html, "letter")
    checked = documents.verify(ctx)
    assert (checked.ok, checked.by_kind) == (True, {"letter": 2})  # its HTML and DOCX
    if "sqlite" in str(ctx.engine.url):
        save_page_png(pdf, "letter.png")


def test_a_notice_s_pdf_is_its_html_on_a4(ctx: Context, tmp_path: Path) -> None:
    written = by_suffix(made.notice(ctx, tmp_path))
    [html_path], [pdf_path] = written[".html"], written[".pdf"]
    html, pdf = html_path.read_text("utf-8"), pdf_path.read_bytes()
    text = assert_reads_as_its_html(pdf, html)
    for phrase in (HEADING, MOTTO, "Chưa niêm yết TTHC", "Niêm yết TTHC"):
        assert normal(phrase) in text, phrase
    assert page_size_mm(pdf) == (210, 297)  # A4, Decree 30/2020
    assert_rendered_again_alike(pdf, html, "notice")
    assert documents.verify(ctx).ok
    if "sqlite" in str(ctx.engine.url):
        save_page_png(pdf, "notice.png")


def test_a_report_s_pdf_and_xlsx_are_its_html_and_csv(ctx: Context, tmp_path: Path) -> None:
    written = by_suffix(made.report(ctx, tmp_path))
    assert sorted(written) == [".csv", ".html", ".json", ".pdf", ".xlsx"]
    html = written[".html"][0].read_text("utf-8")
    pdf = written[".pdf"][0].read_bytes()
    text = assert_reads_as_its_html(pdf, html)
    assert HEADING in text
    assert page_size_mm(pdf) == (210, 297)
    report = json.loads(written[".json"][0].read_text("utf-8"))
    assert report["hash"] in text.replace(" ", "")  # the snapshot's hash closes it
    generated = dt.datetime.fromisoformat(report["generated_at"]).replace(microsecond=0)
    assert dated_as_written(pdf) == generated  # dated by the snapshot, not the clock
    assert_rendered_again_alike(pdf, html, "report")

    xlsx = written[".xlsx"][0].read_bytes()
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None and sheet.title == "bao-cao"
    table = list(csv.reader(io.StringIO(written[".csv"][0].read_text("utf-8-sig"))))
    got = [
        [("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert got[0] == table[0] and len(got) == len(table)
    for xlsx_row, csv_row in zip(got[1:], table[1:], strict=True):
        assert [_number(c) for c in xlsx_row] == [_number(c) for c in csv_row]
    numbers = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row]
    assert any(isinstance(c, int) for c in numbers)  # figures stay numbers

    stored = reports.show(ctx, report["snapshot"])
    assert report_file(stored, "xlsx") == xlsx  # the API's and the web's download: the same
    assert report_file(stored, "pdf") == pdf
    assert report_document.render_html(stored) == html
    checked = documents.verify(ctx)
    assert (checked.ok, checked.by_kind) == (True, {"report": 5})
    recorded = {d.path.rsplit(".", 1)[1]: d.sha256 for d in _recorded(ctx)}
    assert recorded["pdf"] == content_hash(pdf) and recorded["xlsx"] == content_hash(xlsx)
    if "sqlite" in str(ctx.engine.url):
        save_page_png(pdf, "report-pdf.png")


def _number(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell


def _recorded(ctx: Context) -> list[StoredDocument]:
    with ctx.uow.reading() as r:
        return list(r.documents.every(None))


def test_a_notice_s_changed_pdf_is_named_and_restored(ctx: Context, tmp_path: Path) -> None:
    [pdf_path] = by_suffix(made.notice(ctx, tmp_path))[".pdf"]
    original = pdf_path.read_bytes()
    pdf_path.write_bytes(original.replace(b"%PDF-", b"%PDF-", 1) + b"\n% edited\n")
    [finding] = documents.verify(ctx).findings
    assert (finding.file, finding.problem) == (str(pdf_path), documents.CHANGED)
    assert documents.restore(ctx).restored == [str(pdf_path)]
    assert pdf_path.read_bytes() == original


def test_letters_pdfs_are_made_on_demand_from_the_checked_html(
    ctx: Context, engine: Engine, tmp_path: Path
) -> None:
    """A letter's PDF is made by `documents.letter_pdfs` (`planflow documents pdf`), not by
    the flow: again, it writes nothing; a PDF changed or deleted is written again, the same
    bytes; a letter whose HTML was altered in the database gets none, and is named."""
    written = by_suffix(letters(ctx, tmp_path / "output", count=2))
    first, second = written[".pdf"]
    original = first.read_bytes()
    again = documents.letter_pdfs(ctx)
    assert (again.written, again.current) == ([], 2)
    first.write_bytes(original + b"%")
    second.unlink()
    mended = documents.letter_pdfs(ctx)
    assert (sorted(mended.written), mended.current) == (sorted([str(first), str(second)]), 0)
    assert first.read_bytes() == original
    # The desk's download (`/desk/letters/ID?format=pdf`): the same bytes, made on demand.
    by_path = {d.path: d.id for d in _recorded(ctx)}
    html_id = by_path[f"letters/LSN-SKHDT/{first.with_suffix('.html').name}"]
    assert documents.letter_pdf(ctx, "LSN-SKHDT", html_id) == original
    docx_id = by_path[f"letters/LSN-SKHDT/{first.with_suffix('.docx').name}"]
    assert documents.letter_pdf(ctx, "LSN-SKHDT", docx_id) is None
    assert documents.letter_pdf(ctx, "QNA-BQLKKT", html_id) is None  # another agency's
    elsewhere = documents.letter_pdfs(ctx, ["LSN-SKHDT"], tmp_path / "copy")
    assert len(elsewhere.written) == 2
    assert (tmp_path / "copy" / first.relative_to(tmp_path / "output")).read_bytes() == original
    with engine.begin() as conn:
        conn.execute(
            update(documents_table)
            .where(documents_table.c.path.like("%0001-2024-06-06.html"))
            .values(content=b"<p>Da giai quyet</p>")
        )
    with pytest.raises(AuditVerificationFailed, match="was altered"):
        documents.letter_pdf(ctx, "LSN-SKHDT", html_id)
    refused = documents.letter_pdfs(ctx)
    [problem] = refused.unrenderable
    assert problem.problem == documents.ALTERED and problem.path.endswith("0001-2024-06-06.html")
    assert refused.current == 1
