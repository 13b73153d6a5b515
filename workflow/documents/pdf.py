"""PDF renderings of the letters, notices and reports: their HTML laid out on paper by
WeasyPrint (Pango), with the font embedded (`fonts`: Noto Serif, by file path).

**Pages.** Notices and reports: A4 with Decree 30/2020's margins (top and bottom 20 mm, left
30 mm, right 15 mm). The apology letter (Mẫu số 04, a "phiếu"): A5, as its HTML and DOCX
are, top and bottom 15 mm, left 20 mm, right 12 mm. A document whose own CSS declares an
`@page` keeps it: its layout is its author's. On paper the page's margins replace the
screen's centring (`body`'s `max-width` and `margin`).

**Determinism.** The same HTML gives the same bytes: WeasyPrint writes no creation date
unless given one, and is given the document's own date (the letter's date, the notice's,
the report's generation time), never the clock; the PDF's /ID is derived from the HTML's
SHA-256 rather than drawn at random; fonts are subset the same way every time. So a PDF is
a *rendering of a hashed document*: the audit log records the HTML's (and DOCX's) SHA-256,
and the PDF is recorded with its own SHA-256 in `documents` (`planflow documents verify`
checks it, `restore` writes it back), like a report's CSV and HTML; rendering the logged
HTML again with the same WeasyPrint and font files gives the same PDF byte for byte. Another
WeasyPrint release or font build may lay it out differently: the HTML is the record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
from typing import Literal

from workflow.documents.fonts import FAMILY, font_face_css

# WeasyPrint warns (logging) of each CSS rule it skips, fontTools of each table it drops
# while subsetting: a flow's output is its result and its log, not a renderer's chatter.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

Paper = Literal["A4", "A5"]
MEDIA_TYPE = "application/pdf"

# Decree 30/2020, Appendix I: A4; top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
_PAGES: dict[Paper, str] = {
    "A4": "@page { size: A4; margin: 20mm 15mm 20mm 30mm; }",
    "A5": "@page { size: A5; margin: 15mm 12mm 15mm 20mm; }",
}
# One rendering at a time in a process: Pango and fontconfig, below WeasyPrint, are not
# documented as safe across threads (`planflow web` serves downloads from several threads,
# Prefect runs tasks in threads); a PDF takes ~0.1-0.5 s, the rest of a request far less.
_ONE_AT_A_TIME = threading.Lock()
_SVG_FONT = re.compile(r'font-family="[^"]*"')
_PAPER: dict[str, Paper] = {"letter": "A5", "notice": "A4", "report": "A4"}
_PRINT = f"""
* {{ font-family: "{FAMILY}" !important; }}
body {{ max-width: none !important; margin: 0 !important; }}
"""


def paper_of(kind: str) -> Paper:
    """The paper of a document kind (letter, notice, report)."""
    return _PAPER.get(kind, "A4")


def render_pdf(html: str, *, paper: Paper = "A4", dated: dt.datetime | dt.date) -> bytes:
    """`html` as a PDF on `paper` (unless its CSS sets its own @page), dated `dated`."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # The PDF's /ID: the first half of the HTML's SHA-256, the hash the audit log records of
    # a letter's HTML: the PDF names the document it renders.
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    css = font_face_css() + _PRINT
    # An inline SVG (a report's charts) takes its font from its own attribute, not from
    # the page's CSS: it is pointed at the same font.
    html = _SVG_FONT.sub(f'font-family="{FAMILY}"', html)
    if "@page" not in html:
        css += _PAGES[paper]
    with _ONE_AT_A_TIME:
        fonts = FontConfiguration()  # @font-face rules take effect only through one
        document = HTML(string=html, base_url=None).render(
            stylesheets=[CSS(string=css, font_config=fonts)], font_config=fonts
        )
        stamp = _w3c(dated)
        document.metadata.created = stamp
        document.metadata.modified = stamp
        pdf = document.write_pdf(pdf_identifier=identifier)
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return bytes(pdf)


def _w3c(when: dt.datetime | dt.date) -> str:
    if isinstance(when, dt.datetime):
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC)
        return when.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return when.isoformat()
