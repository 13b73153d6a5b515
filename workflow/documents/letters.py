"""The apology letter: Mẫu số 04 (Thông tư 01/2018/TT-VPCP, "Phiếu xin lỗi và hẹn lại ngày trả
kết quả"; from 1/7/2025 Thông tư 03/2025/TT-VPCP, "Văn bản xin lỗi và đề nghị gia hạn thời
gian giải quyết"), as HTML and as DOCX, laid out as Nghị định 30/2020/NĐ-CP has it
(`documents.official`): A5, as the form is.

Both renderings are deterministic: the same fields give the same bytes, so the letter's
content hash (recorded in the audit log) can be recomputed by anyone holding the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jinja2 import Environment

from workflow.documents import official
from workflow.documents.docx import A5_TEXT_WIDTH, package, paragraph
from workflow.documents.vietnamese import short_date, time_and_date


@dataclass(frozen=True, slots=True)
class LetterForm:
    """One version of Mẫu số 04: the labels of its fields, in its order. The version in force
    on the letter's date is used (`form_for`)."""

    version: str
    effective_from: dt.date
    received: str
    due: str
    reason: str
    new_due: str


# Thông tư 01/2018/TT-VPCP, Mẫu số 04: "Phiếu xin lỗi và hẹn lại ngày trả kết quả".
FORM_2018 = LetterForm(
    version="TT01-2018",
    effective_from=dt.date(2018, 6, 21),  # as the 2018 rule set (Nghị định 61/2018)
    received="Thời gian nhận hồ sơ",
    due="Thời gian hẹn trả kết quả",
    reason="Lý do chậm trễ",
    new_due="Thời gian hẹn lại trả kết quả",
)
# Nghị định 118/2025/NĐ-CP, Thông tư 03/2025/TT-VPCP (from 1/7/2025), Mẫu số 04: "Văn bản xin
# lỗi và đề nghị gia hạn thời gian giải quyết". Its labels follow the form's title; they are
# not yet checked against the circular's text (definitions/rules/apology-2025.yaml says so).
FORM_2025 = LetterForm(
    version="TT03-2025",
    effective_from=dt.date(2025, 7, 1),
    received="Thời gian tiếp nhận hồ sơ",
    due="Thời hạn giải quyết theo quy định",
    reason="Lý do chưa giải quyết đúng hạn",
    new_due="Đề nghị gia hạn thời gian giải quyết đến",
)
FORMS = (FORM_2018, FORM_2025)


def form_for(issued_on: dt.date) -> LetterForm:
    """The version of the form in force on the letter's date (the 2018 one before 1/7/2025)."""
    eligible = [f for f in FORMS if f.effective_from <= issued_on] or [FORMS[0]]
    return max(eligible, key=lambda f: f.effective_from)


PERSON_SALUTATION = "Ông/Bà"
ORGANISATION_SALUTATION = "Quý cơ quan, tổ chức"


@dataclass(frozen=True, slots=True)
class LetterFields:
    agency: str
    governing_body: str | None  # "UBND TỈNH LẠNG SƠN", over the agency in the header
    place: str  # "Lạng Sơn" in "Lạng Sơn, ngày 05 tháng 6 năm 2024"
    number: str  # from the outgoing register: "01/PXL-SKHĐT"
    issued_on: dt.date
    form_code: str
    form_title: str
    form_source: str
    applicant_name: str
    applicant_is_organisation: bool  # "Kính gửi: Công ty ..." rather than "Ông/Bà ..."
    applicant_address: str | None
    applicant_contact: str | None
    dossier_code: str
    procedure_name: str
    received_at: dt.datetime  # local time
    original_due: dt.date
    missed_due: dt.date
    reason: str  # the delay the handling unit declared
    apology_text: str
    new_due: dt.date
    signer_name: str | None
    signer_title: str  # "PHÓ GIÁM ĐỐC"
    signer_authority: str | None  # "KT. GIÁM ĐỐC"
    recipients: tuple[str, ...]  # "Nơi nhận", the file copy last
    legal_basis: tuple[str, ...]

    @property
    def form(self) -> LetterForm:
        return form_for(self.issued_on)

    def addressee(self) -> str:
        """'Công ty TNHH Hoa Sen', or 'Ông/Bà Nguyễn Văn A'."""
        if self.applicant_is_organisation:
            return self.applicant_name
        return f"{PERSON_SALUTATION} {self.applicant_name}"

    def apology(self) -> str:
        """The rule set's apology, speaking to an organisation as one."""
        if self.applicant_is_organisation:
            return self.apology_text.replace(PERSON_SALUTATION, ORGANISATION_SALUTATION)
        return self.apology_text

    def lines(self) -> list[tuple[str, str]]:
        """The letter's body as (label, value) pairs, in the form's order; the new date once."""
        form = self.form
        return [
            ("Cơ quan giải quyết hồ sơ", self.agency),
            ("Địa chỉ", self.applicant_address or ""),
            ("Điện thoại / thư điện tử", self.applicant_contact or ""),
            ("Mã hồ sơ", self.dossier_code),
            ("Thủ tục hành chính", self.procedure_name),
            (form.received, time_and_date(self.received_at)),
            (form.due, short_date(self.original_due)),
            (form.reason, self.reason),
            (form.new_due, short_date(self.new_due)),
        ]

    def header(self) -> official.Header:
        return official.Header(
            self.governing_body, self.agency, self.number, self.place, self.issued_on
        )

    def foot(self) -> official.Foot:
        lines = (self.signer_authority,) if self.signer_authority else ()
        return official.Foot(
            self.recipients, (*(x.upper() for x in lines), self.signer_title.upper()),
            self.signer_name,
        )  # fmt: skip


_HTML = Environment(autoescape=True, keep_trailing_newline=True).from_string(
    """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{{ f.form_title }} – {{ f.number }}</title>
<style>
  @page { size: A5; margin: 20mm 15mm 20mm 30mm; }
{{ css }}  body { max-width: 128mm; margin: 10mm auto; }
  h1 { font-size: 14pt; text-align: center; margin: 6mm 0 3mm; }
  .form { text-align: right; font-style: italic; font-size: 11pt; margin: 0 0 2mm; }
  .to { text-align: center; margin: 0 0 3mm; }
  dl { display: grid; grid-template-columns: 45% 55%; row-gap: 1.5mm; margin: 0 0 3mm; }
  dt { font-weight: normal; } dd { margin: 0; font-weight: bold; }
  .apology { text-align: justify; text-indent: 10mm; }
  .foot { margin-top: 6mm; }
  .basis { font-size: 10pt; color: #444; margin-top: 8mm; }
</style>
</head>
<body>
<p class="form">{{ f.form_code }} ({{ f.form_source }})</p>
{{ head }}
<h1>{{ f.form_title | upper }}</h1>
<p class="to">Kính gửi: {{ f.addressee() }}</p>
<dl>
{% for label, value in f.lines() %}  <dt>{{ label }}:</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
<p class="apology">{{ f.apology() }}</p>
<div class="foot">{{ foot }}</div>
<p class="basis">Căn cứ: {{ f.legal_basis | join("; ") }}.</p>
</body>
</html>
"""
)


def render_html(fields: LetterFields) -> str:
    return _HTML.render(
        f=fields,
        css=official.CSS,
        head=official.header_html(fields.header()),
        foot=official.foot_html(fields.foot()),
    )


def render_docx(fields: LetterFields) -> bytes:
    width = A5_TEXT_WIDTH
    paragraphs = [
        paragraph(f"{fields.form_code} ({fields.form_source})", italic=True, size=22),
        official.header_docx(fields.header(), width),
        paragraph(""),
        paragraph(fields.form_title.upper(), bold=True, center=True, size=28),
        paragraph(f"Kính gửi: {fields.addressee()}", center=True),
        *[paragraph(f"{label}: {value}") for label, value in fields.lines()],
        paragraph(fields.apology(), justify=True, first_line=567),
        paragraph(""),
        official.foot_docx(fields.foot(), width),
        paragraph("Căn cứ: " + "; ".join(fields.legal_basis) + ".", italic=True, size=20),
    ]
    return package("".join(paragraphs), page="A5")  # A5, as the form is
