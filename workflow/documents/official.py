"""The blocks every administrative document shares, laid out as Nghị định 30/2020/NĐ-CP
(Phụ lục I) lays them out, in HTML and in DOCX:

- the header: on the left the governing body (capitals, regular) over the issuing agency
  (capitals, bold), a short rule, then "Số: 15/TB-SCT"; on the right the national heading
  (bold capitals), the motto (bold, underlined) and the place and date (italic);
- the foot: "Nơi nhận:" and its lines on the left, each ending with ';' and the file copy last
  with '.'; the signature block on the right: the authority ("KT. GIÁM ĐỐC") over the signer's
  title ("PHÓ GIÁM ĐỐC"), room for the signature and the seal, the signer's name.

Deterministic: the same fields give the same text and the same XML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from workflow.documents import docx
from workflow.documents.vietnamese import long_date

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True, slots=True)
class Header:
    governing_body: str | None
    agency: str
    number: str
    place: str
    issued_on: dt.date

    def issuer_lines(self) -> tuple[str, ...]:
        top = (self.governing_body.upper(),) if self.governing_body else ()
        return (*top, self.agency.upper())

    def dated(self) -> str:
        """'Khánh Hòa, ngày 05 tháng 01 năm 2024'."""
        return f"{self.place}, {long_date(self.issued_on)}"


@dataclass(frozen=True, slots=True)
class Foot:
    recipients: tuple[str, ...]  # the file copy ("Lưu: VT, TTR") last
    signer_lines: tuple[str, ...]  # ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")
    signer_name: str | None

    def recipient_lines(self) -> list[str]:
        """'- Sở Nội vụ (b/c);' ... '- Lưu: VT, TTR.'"""
        items = [r.strip().rstrip(" ;.") for r in self.recipients]
        return [f"- {r};" for r in items[:-1]] + [f"- {r}." for r in items[-1:]]


# ----------------------------------------------------------------------------- HTML

CSS = """\
  body { font-family: "Times New Roman", serif; font-size: 13pt; line-height: 1.3; }
  table.official { width: 100%; border-collapse: collapse; }
  table.official td { vertical-align: top; text-align: center; padding: 0; }
  .issuer { width: 40%; } .nation { width: 60%; }
  .rule { display: inline-block; width: 30%; border-top: 1px solid; margin: 1mm 0; }
  .motto { display: inline-block; border-bottom: 1px solid; padding-bottom: 1px; }
  .number { margin-top: 1mm; }
  .recipients { width: 45%; text-align: left !important; font-size: 11pt; }
  .recipients p { margin: 0; }
  .sign { width: 55%; }
  .sign .name { margin-top: 22mm; }
"""


def _br(lines: Sequence[str]) -> Markup:
    return Markup("<br>").join(escape(line) for line in lines)


def header_html(head: Header) -> Markup:
    lines = head.issuer_lines()
    issuer = Markup("<br>").join(
        [
            *(escape(line) for line in lines[:-1]),
            Markup("<strong>{}</strong>").format(lines[-1]),
        ]
    )
    return Markup(
        '<table class="official head"><tr>\n'
        '<td class="issuer">{issuer}<br><span class="rule"></span>'
        '<div class="number">Số: {number}</div></td>\n'
        '<td class="nation"><strong>{nation}</strong><br>'
        '<strong class="motto">{motto}</strong><br><em>{dated}</em></td>\n'
        "</tr></table>"
    ).format(issuer=issuer, number=head.number, nation=NATION, motto=MOTTO, dated=head.dated())


def foot_html(foot: Foot) -> Markup:
    items = Markup("").join(Markup("<p>{}</p>").format(line) for line in foot.recipient_lines())
    return Markup(
        '<table class="official foot"><tr>\n'
        '<td class="recipients"><p><strong><em>Nơi nhận:</em></strong></p>{items}</td>\n'
        '<td class="sign"><strong>{title}</strong>'
        '<p class="name"><strong>{name}</strong></p></td>\n'
        "</tr></table>"
    ).format(items=items, title=_br(foot.signer_lines), name=foot.signer_name or "")


# ----------------------------------------------------------------------------- DOCX


def header_docx(head: Header, width: int) -> str:
    """The header as a borderless two-column table `width` twips wide (40% / 60%)."""
    left = int(width * 0.4)
    lines = head.issuer_lines()
    issuer = [docx.paragraph(line, center=True, size=24) for line in lines[:-1]]
    issuer.append(docx.paragraph(lines[-1], bold=True, center=True, size=24))
    issuer += [
        docx.paragraph("________", center=True, size=20),
        docx.paragraph(f"Số: {head.number}", center=True),
    ]
    nation = [
        docx.paragraph(NATION, bold=True, center=True, size=24),
        docx.paragraph(MOTTO, bold=True, center=True),
        docx.paragraph("_______________________", center=True, size=20),
        docx.paragraph(head.dated(), italic=True, center=True),
    ]
    return docx.columns([issuer, nation], (left, width - left))


def foot_docx(foot: Foot, width: int) -> str:
    """'Nơi nhận' on the left (45%), the signature block on the right."""
    left = int(width * 0.45)
    recipients = [
        docx.paragraph("Nơi nhận:", bold=True, italic=True, size=24),
        *[docx.paragraph(line, size=22) for line in foot.recipient_lines()],
    ]
    sign = [
        *[docx.paragraph(line, bold=True, center=True) for line in foot.signer_lines],
        # Room for the signature and the seal, as on paper.
        *[docx.paragraph("") for _ in range(4)],
        docx.paragraph(foot.signer_name or "", bold=True, center=True),
    ]
    return docx.columns([recipients, sign], (left, width - left))
