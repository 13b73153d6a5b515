"""The few pieces of WordprocessingML the documents need, and a deterministic DOCX package.

A document's bytes are hashed into the audit log, so the same content must give the same
bytes: no timestamps, no generated ids, parts always written in the same order. The package
holds only the parts Word and LibreOffice require (content types, the package relationship,
word/document.xml); without a styles part every run carries its own font and size.

Widths and indents are in twentieths of a point (twips, `dxa`): 1 mm ≈ 56.7.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Literal
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
FIXED_TIME = (2018, 11, 23, 0, 0, 0)  # zip entries carry a time: a fixed one keeps bytes stable

Page = Literal["A4", "A5"]

# Nghị định 30/2020/NĐ-CP, Phụ lục I: A4 with margins top and bottom 20-25 mm, left 30-35 mm,
# right 15-20 mm. The A5 section is the apology letter's (Mẫu số 04 is an A5 form), with the
# same margins, the right one at its 15 mm minimum. Letters written before were bare A5: their
# bytes are kept in `documents`, so their recorded hashes still hold.
_SECTIONS: dict[Page, str] = {
    "A4": (
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1701" '
        'w:header="720" w:footer="720" w:gutter="0"/></w:sectPr>'
    ),
    "A5": (
        '<w:sectPr><w:pgSz w:w="8391" w:h="11906"/>'
        '<w:pgMar w:top="1134" w:right="850" w:bottom="1134" w:left="1701" '
        'w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>'
    ),
}
A4_TEXT_WIDTH = 11906 - 1701 - 1134  # what a full-width table may span on an A4 page
A5_TEXT_WIDTH = 8391 - 1701 - 850  # and on an A5 page

_BORDER_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")


def paragraph(
    text: str,
    *,
    bold: bool = False,
    center: bool = False,
    italic: bool = False,
    justify: bool = False,
    first_line: int = 0,
    size: int = 26,
) -> str:
    """One paragraph of a single run in Times New Roman; `size` in half-points (26 = 13 pt),
    `first_line` the first-line indent in twips."""
    # Child order follows the schema (CT_PPr, CT_RPr): Word rejects a file that breaks it.
    para_props = "".join(
        [
            f'<w:ind w:firstLine="{first_line}"/>' if first_line else "",
            '<w:jc w:val="center"/>' if center else '<w:jc w:val="both"/>' if justify else "",
        ]
    )
    props = f"<w:pPr>{para_props}</w:pPr>" if para_props else ""
    run_props = "".join(
        [
            '<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
            'w:cs="Times New Roman"/>',
            "<w:b/>" if bold else "",
            "<w:i/>" if italic else "",
            f'<w:sz w:val="{size}"/>',
        ]
    )
    return (
        f"<w:p>{props}<w:r><w:rPr>{run_props}</w:rPr>"
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    )


def _cell(content: str, width: int) -> str:
    # A cell without a paragraph is invalid: Word refuses to open the file.
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{content or "<w:p/>"}</w:tc>'


def _table(rows: Sequence[str], widths: Sequence[int], *, bordered: bool) -> str:
    # Borders are set on the table itself: without a styles part there is no table style to
    # inherit them from, and the layout tables must say "none" rather than rely on a default.
    line = 'w:val="single" w:sz="4" w:space="0" w:color="000000"' if bordered else 'w:val="nil"'
    borders = "".join(f"<w:{side} {line}/>" for side in _BORDER_SIDES)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[int],
    *,
    centered: Sequence[int] = (),
    size: int = 24,
) -> str:
    """A bordered table: a bold header row (repeated on each page the table spans), then one
    row per item; `widths` in twips, one per column; the columns in `centered` are centred."""
    if len(header) != len(widths) or any(len(row) != len(widths) for row in rows):
        raise ValueError("a table needs one header, one width and one cell per column")
    head = "".join(
        _cell(paragraph(text, bold=True, center=True, size=size), width)
        for text, width in zip(header, widths, strict=True)
    )
    body = [
        "<w:tr>"
        + "".join(
            _cell(paragraph(text, center=i in centered, size=size), width)
            for i, (text, width) in enumerate(zip(row, widths, strict=True))
        )
        + "</w:tr>"
        for row in rows
    ]
    header_row = f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{head}</w:tr>"
    return _table([header_row, *body], widths, bordered=True)


def columns(cells: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    """Side-by-side blocks (a borderless one-row table, as Word itself lays out a document's
    heading and signature): each block a sequence of paragraph XML."""
    if len(cells) != len(widths):
        raise ValueError("columns need one width per block")
    row = "".join(_cell("".join(c), w) for c, w in zip(cells, widths, strict=True))
    return _table([f"<w:tr>{row}</w:tr>"], widths, bordered=False)


def package(document_xml: str, page: Page = "A4") -> bytes:
    """A .docx holding `document_xml`, the content of the document's body (paragraphs and
    tables, without the section properties, which `page` sets)."""
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{document_xml}'
        f"{_SECTIONS[page]}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    # Stored, not deflated: these documents are a few kilobytes, and zlib's setup costs more
    # than it saves.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", document),
        ):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()
