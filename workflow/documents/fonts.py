"""The font planflow's PDFs embed: Noto Serif, from Debian's `fonts-noto-core`.

Decree 30/2020 asks for Times New Roman (Unicode, TCVN 6909:2001). Times New Roman is not a
free font and Debian does not ship it; Liberation Serif (its metric-compatible clone) ships
in `fonts-liberation` 1.07, which lacks most Vietnamese precomposed letters ("ộ", "ệ", "ư",
"ợ"...). Noto Serif has every one of them, is a Times-like serif, and is already what the
browser tests use (`.ci/run` installs `fonts-noto-core`).

The stylesheet names the files by path (`@font-face { src: url(file://...) }`) under a
family name of its own, `planflow-serif`, and sets it on every element (`!important`, over
the documents' `"Times New Roman", serif`), so what is embedded never depends on what
fontconfig would guess: under the name "Times New Roman" fontconfig's metric aliases would
bring in Liberation Serif, and Pango would fall back to Noto only for the letters Liberation
lacks, mixing two fonts in one word. A missing file is one clear error (exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import InvalidInput

FONT_DIR_ENV = "PLANFLOW_FONT_DIR"  # another folder holding the same four files
DEFAULT_DIR = Path("/usr/share/fonts/truetype/noto")
FAMILY = "planflow-serif"  # a name no system font answers to: only these files
PACKAGE = "fonts-noto-core"


@dataclass(frozen=True, slots=True)
class Face:
    file: str
    weight: str
    style: str


FACES = (
    Face("NotoSerif-Regular.ttf", "normal", "normal"),
    Face("NotoSerif-Bold.ttf", "bold", "normal"),
    Face("NotoSerif-Italic.ttf", "normal", "italic"),
    Face("NotoSerif-BoldItalic.ttf", "bold", "italic"),
)


def font_dir() -> Path:
    return Path(os.environ.get(FONT_DIR_ENV) or DEFAULT_DIR)


def font_files() -> list[Path]:
    """The four faces' files; exit 2 naming the package when one is missing."""
    folder = font_dir()
    found = [folder / face.file for face in FACES]
    missing = [p for p in found if not p.is_file()]
    if missing:
        raise InvalidInput(
            f"the PDF font is missing: {missing[0]}; install Debian's {PACKAGE} "
            f"(apt-get install {PACKAGE}) or set {FONT_DIR_ENV} to a folder holding "
            + ", ".join(face.file for face in FACES)
        )
    return found


def font_face_css() -> str:
    """@font-face rules naming each face's file by path."""
    rules = []
    for face, path in zip(FACES, font_files(), strict=True):
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; src: url("{path.absolute().as_uri()}"); '
            f"font-weight: {face.weight}; font-style: {face.style}; }}"
        )
    return "\n".join(rules)
