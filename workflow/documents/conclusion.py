"""The inspection conclusion notice, "Thông báo kết luận kiểm tra công tác cải cách hành
chính", as HTML and as DOCX, laid out as Nghị định 30/2020/NĐ-CP has administrative documents
laid out: the issuing agency and the number top left, the national motto, place and date top
right, the title, the body, then "Nơi nhận" bottom left and the signature bottom right.

Both renderings are deterministic: the same fields give the same bytes, so the notice's
content hash (recorded in the audit log) can be recomputed by anyone holding the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jinja2 import Environment

from workflow.documents import docx, official
from workflow.documents.vietnamese import period_label, short_date

__all__ = [
    "ConclusionFields",
    "FindingLine",
    "FixLine",
    "period_label",
    "render_docx",
    "render_html",
]


@dataclass(frozen=True, slots=True)
class FindingLine:
    code: str  # task code, e.g. "A.I.3"
    title: str  # the task's content
    compliant: bool
    note: str


@dataclass(frozen=True, slots=True)
class FixLine:
    title: str
    due: dt.date
    task_code: str | None  # the task it remedies, if any


@dataclass(frozen=True, slots=True)
class ConclusionFields:
    agency: str  # "Ban Quản lý các Khu kinh tế và Khu công nghiệp tỉnh Quảng Nam"
    governing_body: str | None  # "UBND TỈNH QUẢNG NAM", over the agency in the header
    place: str  # "Quảng Nam" (the place in "Quảng Nam, ngày 20 tháng 5 năm 2024")
    number: str  # from the outgoing register: "12/TB-KKTCN"
    issued_on: dt.date
    period_label: str  # "năm 2024", "quý II năm 2024"
    unit_name: str  # the inspected unit
    team_name: str  # "Đoàn kiểm tra cải cách hành chính của Ban Quản lý"
    report_to: str  # where the unit reports its fixes: the office, or the team when the
    # inspected unit is the office itself ("Phòng Hành chính và Tổng hợp")
    inspected_on: dt.date
    inspectors: tuple[str, ...]  # names of the inspectors who signed the record
    basis: str  # "Kế hoạch kiểm tra công tác cải cách hành chính năm 2024"
    findings: tuple[FindingLine, ...]
    strengths: tuple[str, ...]
    shortcomings: tuple[str, ...]
    fixes: tuple[FixLine, ...]
    signer_title: str  # "PHÓ TRƯỞNG BAN"
    signer_authority: str | None  # "KT. TRƯỞNG BAN"
    signer_name: str | None
    recipients: tuple[str, ...]  # "Nơi nhận", each once, the file copy ("Lưu: VT, DKT") last

    def header(self) -> official.Header:
        return official.Header(
            self.governing_body, self.agency, self.number, self.place, self.issued_on
        )

    def foot(self) -> official.Foot:
        top = (self.signer_authority.upper(),) if self.signer_authority else ()
        return official.Foot(self.recipients, (*top, self.signer_title.upper()), self.signer_name)


# ----------------------------------------------------------------------------- wording

NO_ITEMS = "Không có."
NO_FIXES = "Không có nội dung phải khắc phục."
FINDINGS_HEADER = ("STT", "Mã nhiệm vụ", "Nội dung nhiệm vụ", "Kết quả", "Ghi chú")
FIXES_HEADER = ("STT", "Nội dung khắc phục", "Thời hạn", "Nhiệm vụ liên quan")


def _names(names: tuple[str, ...]) -> str:
    """'A', 'A và B', 'A, B và C'."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]


def _verdict(line: FindingLine) -> str:
    return "Đạt" if line.compliant else "Chưa đạt"


def _title(f: ConclusionFields) -> str:
    return f"Kết luận kiểm tra công tác cải cách hành chính {f.period_label} đối với {f.unit_name}"


def _opening(f: ConclusionFields) -> str:
    signed = f" do {_names(f.inspectors)} ký" if f.inspectors else ""
    return (
        f"Thực hiện {f.basis}, ngày {short_date(f.inspected_on)} {f.team_name} đã tiến hành "
        f"kiểm tra công tác cải cách hành chính {f.period_label} tại {f.unit_name}. "
        f"Căn cứ Biên bản kiểm tra ngày {short_date(f.inspected_on)}{signed}, {f.agency} "
        "thông báo kết luận kiểm tra như sau:"
    )


def _tally(f: ConclusionFields) -> str:
    passed = sum(1 for line in f.findings if line.compliant)
    return f"Đạt {passed}/{len(f.findings)} nhiệm vụ."


def _request(f: ConclusionFields) -> str:
    return (
        f"Yêu cầu {f.unit_name} thực hiện các nội dung khắc phục nêu trên đúng thời hạn và "
        f"báo cáo kết quả về {f.report_to}."
    )


def _finding_rows(f: ConclusionFields) -> list[tuple[str, ...]]:
    return [
        (str(i), line.code, line.title, _verdict(line), line.note)
        for i, line in enumerate(f.findings, start=1)
    ]


def _fix_rows(f: ConclusionFields) -> list[tuple[str, ...]]:
    return [
        (str(i), fix.title, short_date(fix.due), fix.task_code or "")
        for i, fix in enumerate(f.fixes, start=1)
    ]


# ----------------------------------------------------------------------------- HTML

_HTML = Environment(autoescape=True, keep_trailing_newline=True).from_string(
    """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Thông báo kết luận kiểm tra – {{ f.number }}</title>
<style>
  @page { size: A4; margin: 20mm 20mm 20mm 30mm; }
{{ css }}  body { max-width: 160mm; margin: 10mm auto; line-height: 1.35; }
  h1 { font-size: 14pt; text-align: center; margin: 8mm 0 0; }
  .subject { text-align: center; font-weight: bold; margin: 0 0 6mm; }
  .body p { text-align: justify; text-indent: 10mm; margin: 2mm 0; }
  h2 { font-size: 13pt; margin: 4mm 0 2mm; }
  ul { list-style: none; padding-left: 10mm; margin: 0; }
  table.grid { border-collapse: collapse; width: 100%; font-size: 12pt; margin: 2mm 0; }
  table.grid th, table.grid td { border: 1px solid #000; padding: 1mm 2mm; vertical-align: top; }
  table.grid td.c { text-align: center; }
  .foot { margin-top: 8mm; }
</style>
</head>
<body>
{% macro grid(name, header, rows, centered) -%}
<table class="grid {{ name }}">
<thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr>
{%- for cell in row %}<td{% if loop.index0 in centered %} class="c"{% endif %}>{{ cell }}</td>
{%- endfor %}</tr>
{% endfor %}</tbody>
</table>
{%- endmacro -%}
{{ head }}
<h1>THÔNG BÁO</h1>
<p class="subject">{{ title }}</p>
<div class="body">
<p>{{ opening }}</p>
<h2>I. Ưu điểm</h2>
{% if f.strengths %}<ul class="items">
{% for item in f.strengths %}  <li>- {{ item }}</li>
{% endfor %}</ul>
{% else %}<p>{{ no_items }}</p>
{% endif %}<h2>II. Tồn tại, hạn chế</h2>
{% if f.shortcomings %}<ul class="items">
{% for item in f.shortcomings %}  <li>- {{ item }}</li>
{% endfor %}</ul>
{% else %}<p>{{ no_items }}</p>
{% endif %}<h2>III. Kết quả kiểm tra việc thực hiện nhiệm vụ</h2>
{% if findings %}{{ grid("findings", findings_header, findings, (0, 3)) }}
<p>{{ tally }}</p>
{% else %}<p>{{ no_items }}</p>
{% endif %}<h2>IV. Yêu cầu khắc phục</h2>
{% if fixes %}{{ grid("fixes", fixes_header, fixes, (0, 2, 3)) }}
<p>{{ request }}</p>
{% else %}<p>{{ no_fixes }}</p>
{% endif %}</div>
<div class="foot">{{ foot }}</div>
</body>
</html>
"""
)


def render_html(fields: ConclusionFields) -> str:
    return _HTML.render(
        f=fields,
        css=official.CSS,
        head=official.header_html(fields.header()),
        foot=official.foot_html(fields.foot()),
        title=_title(fields),
        opening=_opening(fields),
        findings=_finding_rows(fields),
        findings_header=FINDINGS_HEADER,
        tally=_tally(fields),
        fixes=_fix_rows(fields),
        fixes_header=FIXES_HEADER,
        request=_request(fields),
        no_items=NO_ITEMS,
        no_fixes=NO_FIXES,
    )


# ----------------------------------------------------------------------------- DOCX

_INDENT = 567  # 1 cm first-line indent for body paragraphs
_FINDINGS_WIDTHS = (650, 1300, 3921, 1200, 2000)
_FIXES_WIDTHS = (650, 4621, 1500, 2300)


def _body(text: str) -> str:
    return docx.paragraph(text, justify=True, first_line=_INDENT)


def _heading(text: str) -> str:
    return docx.paragraph(text, bold=True, first_line=_INDENT)


def _items(items: tuple[str, ...]) -> list[str]:
    # Dashes written out rather than Word numbering: a numbering part would be one more part
    # to keep byte-stable, for no gain on paper.
    return [_body(f"- {item}") for item in items] or [_body(NO_ITEMS)]


def render_docx(fields: ConclusionFields) -> bytes:
    f = fields
    head = official.header_docx(f.header(), docx.A4_TEXT_WIDTH)
    blocks = [
        head,
        docx.paragraph(""),
        docx.paragraph("THÔNG BÁO", bold=True, center=True, size=28),
        docx.paragraph(_title(f), bold=True, center=True),
        docx.paragraph(""),
        _body(_opening(f)),
        _heading("I. Ưu điểm"),
        *_items(f.strengths),
        _heading("II. Tồn tại, hạn chế"),
        *_items(f.shortcomings),
        _heading("III. Kết quả kiểm tra việc thực hiện nhiệm vụ"),
    ]
    if f.findings:
        blocks += [
            docx.table(FINDINGS_HEADER, _finding_rows(f), _FINDINGS_WIDTHS, centered=(0, 3)),
            _body(_tally(f)),
        ]
    else:
        blocks.append(_body(NO_ITEMS))
    blocks.append(_heading("IV. Yêu cầu khắc phục"))
    if f.fixes:
        blocks += [
            docx.table(FIXES_HEADER, _fix_rows(f), _FIXES_WIDTHS, centered=(0, 2, 3)),
            _body(_request(f)),
        ]
    else:
        blocks.append(_body(NO_FIXES))
    foot = official.foot_docx(f.foot(), docx.A4_TEXT_WIDTH)
    blocks += [docx.paragraph(""), foot]
    return docx.package("".join(blocks), page="A4")
