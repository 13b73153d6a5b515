"""The apology letter: Mẫu số 04 (Thông tư 01/2018/TT-VPCP, or the form of the regime in force),
"Phiếu xin lỗi và hẹn lại ngày trả kết quả", as HTML and as DOCX.

Both renderings are deterministic: the same fields give the same bytes, so the letter's
content hash (recorded in the audit log) can be recomputed by anyone holding the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jinja2 import Environment

from workflow.documents.docx import package, paragraph
from workflow.documents.vietnamese import long_date, short_date, time_and_date


@dataclass(frozen=True, slots=True)
class LetterFields:
    agency: str
    province: str
    number: str
    issued_on: dt.date
    form_code: str
    form_title: str
    form_source: str
    applicant_name: str
    applicant_address: str | None
    applicant_contact: str | None
    dossier_code: str
    procedure_name: str
    received_at: dt.datetime  # local time
    original_due: dt.date
    missed_due: dt.date
    reason: str
    apology_text: str
    new_due: dt.date
    signer_name: str
    signer_title: str
    legal_basis: tuple[str, ...]

    def lines(self) -> list[tuple[str, str]]:
        """The letter's body as (label, value) pairs, in the form's order."""
        return [
            ("Cơ quan giải quyết hồ sơ", self.agency),
            ("Kính gửi", self.applicant_name),
            ("Địa chỉ", self.applicant_address or ""),
            ("Điện thoại / thư điện tử", self.applicant_contact or ""),
            ("Mã hồ sơ", self.dossier_code),
            ("Thủ tục hành chính", self.procedure_name),
            ("Thời gian nhận hồ sơ", time_and_date(self.received_at)),
            ("Thời gian hẹn trả kết quả", short_date(self.original_due)),
            ("Lý do chậm trễ", self.reason),
            ("Thời gian hẹn lại trả kết quả", short_date(self.new_due)),
        ]


_HTML = Environment(autoescape=True, keep_trailing_newline=True).from_string(
    """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{{ f.form_title }} – {{ f.dossier_code }}</title>
<style>
  body { font-family: "Times New Roman", serif; max-width: 148mm; margin: 10mm auto;
         font-size: 13pt; }
  .head { display: flex; justify-content: space-between; text-align: center; }
  .head div { width: 48%; }
  h1 { font-size: 14pt; text-align: center; margin: 8mm 0 2mm; }
  .form { text-align: right; font-style: italic; font-size: 11pt; }
  dl { display: grid; grid-template-columns: 45% 55%; row-gap: 2mm; }
  dt { font-weight: normal; } dd { margin: 0; font-weight: bold; }
  .sign { text-align: center; margin-left: 50%; margin-top: 8mm; }
  .basis { font-size: 10pt; color: #444; margin-top: 10mm; }
</style>
</head>
<body>
<p class="form">{{ f.form_code }} ({{ f.form_source }})</p>
<div class="head">
  <div><strong>{{ f.agency | upper }}</strong><br>Số: {{ f.number }}</div>
  <div><strong>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</strong><br><u>Độc lập - Tự do - Hạnh phúc</u><br>
  <em>{{ f.province }}, {{ long_date(f.issued_on) }}</em></div>
</div>
<h1>{{ f.form_title | upper }}</h1>
<dl>
{% for label, value in f.lines() %}  <dt>{{ label }}:</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
<p>{{ f.apology_text }}</p>
<p>Ngày hẹn lại trả kết quả: <strong>{{ long_date(f.new_due) }}</strong>.</p>
<div class="sign"><strong>{{ f.signer_title }}</strong><br><br><br>
<strong>{{ f.signer_name }}</strong></div>
<p class="basis">Căn cứ: {{ f.legal_basis | join("; ") }}.</p>
</body>
</html>
"""
)


def render_html(fields: LetterFields) -> str:
    return _HTML.render(f=fields, long_date=long_date)


def render_docx(fields: LetterFields) -> bytes:
    paragraphs = [
        paragraph(f"{fields.form_code} ({fields.form_source})", italic=True),
        paragraph(fields.agency.upper(), bold=True),
        paragraph(f"Số: {fields.number}"),
        paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True),
        paragraph("Độc lập - Tự do - Hạnh phúc", bold=True, center=True),
        paragraph(f"{fields.province}, {long_date(fields.issued_on)}", italic=True, center=True),
        paragraph(fields.form_title.upper(), bold=True, center=True),
        *[paragraph(f"{label}: {value}") for label, value in fields.lines()],
        paragraph(fields.apology_text),
        paragraph(f"Ngày hẹn lại trả kết quả: {long_date(fields.new_due)}.", bold=True),
        paragraph(fields.signer_title, bold=True, center=True),
        paragraph(fields.signer_name, bold=True, center=True),
        paragraph("Căn cứ: " + "; ".join(fields.legal_basis) + ".", italic=True),
    ]
    return package("".join(paragraphs), page="A5")  # A5, as the form is
