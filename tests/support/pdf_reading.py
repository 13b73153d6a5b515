"""Reading the PDFs planflow writes, as a person's reader would: their text (pypdf), their
fonts (embedded or not), their pages' size, and page images (pypdfium2) for the README."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pypdf import PdfReader

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MM_PER_POINT = 25.4 / 72


def normal(text: str) -> str:
    """NFC, every run of white space one space: a line wrapped in the PDF reads as in HTML."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return normal(" ".join(page.extract_text() or "" for page in reader.pages))


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "title", "script", "head", "svg"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script", "head", "svg"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_words(html: str) -> list[str]:
    """The words a person reads in the HTML (no markup, no style, no title; not the charts'
    SVG labels, which a PDF reader may not extract as text)."""
    parser = _Visible()
    parser.feed(html)
    return normal(" ".join(parser.parts)).split(" ")


def fonts(data: bytes) -> dict[str, bool]:
    """Each font the pages use, by its base name: embedded (a FontFile, FontFile2 or
    FontFile3 in its descriptor, or its descendant's) or not."""
    reader = PdfReader(io.BytesIO(data))
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        resources = resources.get_object()
        if "/Font" not in resources:
            continue
        for font in resources["/Font"].get_object().values():
            font = font.get_object()
            described = [font]
            if "/DescendantFonts" in font:
                described += [d.get_object() for d in font["/DescendantFonts"]]
            embedded = False
            for f in described:
                descriptor = f.get("/FontDescriptor")
                if descriptor is not None:
                    descriptor = descriptor.get_object()
                    embedded |= any(
                        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
                    )
            found[str(font["/BaseFont"])] = embedded
    return found


def page_size_mm(data: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width) * MM_PER_POINT), round(float(box.height) * MM_PER_POINT)


def save_page_png(data: bytes, name: str, scale: float = 1.4) -> Path:
    """The first page as docs/screenshots/NAME, written under a temporary name then renamed
    (tests on several workers may write it at once)."""
    import pypdfium2 as pdfium

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    temporary = target.with_name(f".{name}.{os.getpid()}.tmp")
    document = pdfium.PdfDocument(data)
    try:
        document[0].render(scale=scale).to_pil().save(temporary, format="PNG")
    finally:
        document.close()
    temporary.replace(target)
    return target


def embedded_families(data: bytes) -> set[str]:
    """The family names written inside the embedded font programs (their `name` tables):
    what font the PDF really carries, whatever the PDF calls it."""
    from fontTools.ttLib import TTFont

    reader = PdfReader(io.BytesIO(data))
    found: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"].get_object()["/Font"].get_object().values():
            font = font.get_object()
            for f in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                descriptor = f.get("/FontDescriptor")
                if descriptor is None or "/FontFile2" not in descriptor.get_object():
                    continue
                program = descriptor.get_object()["/FontFile2"].get_object().get_data()
                found.add(str(TTFont(io.BytesIO(program))["name"].getDebugName(1)))
    return found
