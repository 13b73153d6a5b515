"""Reading a plan pasted or OCR'd as plain text: `planflow plans import --from-text FILE`.

Best effort, and nothing silently dropped: every line that starts with an item marker (`I.`,
`2.`, `2)`, `2/`, `(2)`, `2.1.`, `2.1.1`, `a)`, `a.`, `đ)`, `A`, `Điều 2.`, `Nhiệm vụ 2:`, `-`,
`+`, `•`, `*`, `✓`) ends up as a RawSection, a RawItem, one of an item's values ("- Chủ trì:
...") or a `skipped` entry saying why, with its line number.

How the text is read:
- Lines wrapped by the PDF or the OCR are joined back: a line continues the one before when it
  starts in lower case (or with punctuation), when the one before is as long as the text's
  usual full line, or ends with a hyphen; blank lines, lone page numbers and OCR noise between
  them are not breaks. A short line followed by an indented or capitalised one ends a
  paragraph: that is how a heading ("2. Công khai, minh bạch") is told from its text.
- Markers nest as they come: a kind of marker seen before closes the deeper ones (a new `1.`
  after `- ...` bullets is the next sibling of the previous `1.`); a new kind opens a level.
  `2.1` sits under `2`. Codes are hierarchical: `II.1.2` is the second bullet under `1.`
  under `II.`; bullets are numbered by position.
- A marker with items under it, or a roman or capital-letter marker, is a RawSection. A
  heading whose text is unnumbered paragraphs ("1. Nội dung “...”" then paragraphs, as in the
  Lạng Sơn plan) is a RawSection holding one RawItem with that text joined, code `<heading>.1`.
  Text between a heading and its first item is an introduction: skipped, with why.
- Lines such as "Đơn vị chủ trì: ...", "Phối hợp: ...", "Thời gian thực hiện: ...", "Sản
  phẩm: ..." (also as a bullet, or in parentheses in an item's text) and phrases "giao X chủ
  trì", "trước ngày 30/6/2024" fill the item's values as written. Values given under a heading
  before its items apply to the items that do not give their own.
- Sections that are not tasks (mục đích, mục tiêu, yêu cầu, tổ chức thực hiện, kinh phí), the
  opening lines (căn cứ, lời dẫn), the closing paragraph ("Trên đây là ..."), "Nơi nhận" and
  the signature are skipped, each with why; an appendix ("Phụ lục") starts the numbering again.
- Keywords are matched without diacritics, so OCR text that lost them ("II. NHIEM VU", "Chu
  tri", "Thuong xuyen") reads like proper Vietnamese; OCR slips of roman numerals ("Il.",
  "I11.") are read as roman numerals, and of numbers ("l.", "1O.", "2.l.", "l1. Rà soát": a
  roman heading is in capitals) as numbers; each such reading is an item's note ("ĐOÁN: ...").
- Codes are unique in a plan: when the numbering repeats (a scan, a typist), the later code gets
  a letter ("II.2b"; "II.1.a2" after a letter) and a note on every item it gives a code to.
- What a copy or a scan adds is taken out: a byte order mark, Windows line ends, no-break
  spaces, zero-width characters, soft hyphens (one that ends a line joins the word), page
  numbers ("Trang 3/12", "- 3 -") and a line repeated at every page (the agency's name),
  each skipped with why. A hyphen that ends a line before a word in lower case is a break
  ("hành chính-" / "năm": "hành chính năm"); before a number or a capital it stays ("2021-2025").
  A line ending with a word a phrase cannot end with ("của", "và", ...) goes on over a blank
  line. A PDF copied one word per line is read back as lines first (a new line at each marker,
  value name and closing part).
- A table pasted as text (cells separated by tabs, or by runs of spaces) is read once a header
  line names its columns ("TT", "Nội dung", "Đơn vị chủ trì", "Phối hợp", "Thời gian", "Sản
  phẩm"): each row with a number is an item (a roman or capital one a section) with the
  values of its columns; a row without a number goes on with the row above; cells of other
  columns ("Ghi chú") are skipped with why.
"""

from __future__ import annotations

import itertools
import re
import statistics
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workflow.definitions.plan_import.rows import Place, RawItem, RawPlan, RawSection
from workflow.errors import InvalidInput
from workflow.reading import MB, TooLarge, read_at_most

MAX_TEXT_BYTES = 5 * MB
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# The kinds of value an item can carry, as RawItem names them.
LEAD, COOPERATING, SCHEDULE, DELIVERABLE = "lead", "cooperating", "schedule", "deliverable"


def read_text(path: Path) -> RawPlan:
    """Read a plan's text file (UTF-8) into a RawPlan. InvalidInput (exit 2) with one line
    when the file cannot be read, is not UTF-8 or holds no text."""
    name = path.name
    try:
        raw = read_at_most(path, MAX_TEXT_BYTES)
    except TooLarge as big:
        raise InvalidInput(
            f"{name}: the file is {big.size:,} bytes; a plan's text is at most "
            f"{MAX_TEXT_BYTES:,} bytes"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file: {exc.strerror}") from None
    return parse_text(decode(raw, name), name)


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (a byte order mark allowed), else InvalidInput naming the first bad line.

    No guess at another encoding: Windows-1258 and the legacy TCVN3/VNI font encodings
    all decode without an error into different, plausible-looking words, and a plan
    imported with wrong words is worse than a request to save the file as UTF-8 again."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"{name}: line {line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save it as UTF-8 (Vietnamese text needs it) and import it again"
        ) from None


def parse_text(text: str, source: str) -> RawPlan:
    """The plan in `text`; `source` names it in the plan and in messages. InvalidInput when
    the text holds nothing but blanks."""
    if not text.strip():
        raise InvalidInput(
            f"{source}: the file holds no text; give the plan's text, one line per line "
            "of the document"
        )
    # Lines as an editor counts them (str.splitlines would also break at the form feeds
    # pdftotext puts between pages); control characters are no part of a plan's words.
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    # A PDF's copy carries no-break spaces, zero-width characters and soft hyphens that no
    # one sees; a soft hyphen that ends a line marks a word broken there (joined without space)
    text = _INVISIBLE.sub("", text.translate(_SPACES))
    text = _CONTROL.sub(" ", text)
    texts = [line.rstrip() for line in text.split("\n")]
    glued = {k for k, line in enumerate(texts) if line.endswith(_SOFT_HYPHEN)}
    texts = [line.replace(_SOFT_HYPHEN, "") for line in texts]
    lines = [
        _Line(number, line, len(line) - len(line.lstrip()), glued=number - 1 in glued)
        for number, line in enumerate(texts, 1)
    ]
    lines = _one_word_lines_joined(lines)
    reader = _Reader(source, _usual_width(lines), _repeated(lines))
    for line in lines:
        reader.feed(line)
    return reader.finish()


_SOFT_HYPHEN = "\u00ad"
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u3000": " "})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


# --- lines and markers ------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    text: str  # without the trailing whitespace
    indent: int
    glued: bool = False  # it ended with a soft hyphen: the next line goes on without a space

    @property
    def stripped(self) -> str:
        return self.text.strip()


@dataclass(frozen=True)
class _Marker:
    kind: str  # "roman", "upper", "arabic1", "arabic2", ..., "lower", "bullet-", "bullet+", ...
    written: str  # as written: "II.", "2.1.", "a)", "-"
    value: str | None  # what the code takes: "II", "2.1", "a"; None for bullets (position)
    rest: str  # the line's text after the marker
    note: str | None = None  # how an OCR slip was read ("l1." as "11."), for the item's comment


_FOLD_CACHE: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    folded = _FOLD_CACHE.get(ch)
    if folded is None:
        base = "d" if ch in "đĐ" else unicodedata.normalize("NFD", ch)[0].lower()
        folded = base if len(base) == 1 else ch
        _FOLD_CACHE[ch] = folded
    return folded


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one, so that positions found in the
    folded text are positions in the original: "Đơn vị chủ trì" -> "don vi chu tri"."""
    return "".join(_fold_char(ch) for ch in text)


def _words(text: str) -> str:
    """Folded, with only letters, digits and single spaces: for keyword tests ("THU'C HIEN")."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", re.sub(r"['’`]", "", fold(text))).split())


BULLETS = {
    "-": "-",
    "–": "-",
    "—": "-",
    "+": "+",
    "•": "•",
    "●": "•",
    "·": "•",
    "∙": "•",
    "*": "*",
    "▪": "▪",
    "■": "▪",
    "○": "○",
    "◦": "○",
    # Word's Symbol and Wingdings bullets, pasted as private-use characters
    "\uf0b7": "•",
    "\uf0a7": "▪",
    "\uf0d8": "➢",
    "\uf076": "❖",
    "❖": "❖",
    "➢": "➢",
    "►": "➢",
    "✓": "✓",
}
_ARABIC = re.compile(r"(\d{1,2}(?:\.\d{1,2})*)(\.|\)|/)?(?:\s*\|)?(?=\s|\||$)\s*\|?\s*(.*)$")
_ARABIC_GLUED = re.compile(r"(\d{1,2}(?:\.\d{1,2})*)\.(?=[A-ZĐ])(.*)$")  # "1.Tổ chức"
_ROMAN = re.compile(r"([IVXl1]{1,5})(\.|\))?(?=[\s|]|$)\s*(\|)?\s*(.*)$")
_LOWER = re.compile(r"([a-zđ])([.)])\s+(.*)$")
_PAREN = re.compile(r"\(\s*(\d{1,2}|[a-zđ])\s*\)\s*(.*)$")  # "(1) Rà soát", "(a) ..."
# "Điều 1.", "Nhiệm vụ 1:", "Nội dung 2." (folded): a numbered part named by a word
_WORDED = re.compile(r"(dieu|nhiem vu|noi dung|giai phap|muc)\s+(\d{1,2})\s*[.:]\s+(.*)$")
# An OCR'd number with a letter for a digit: "1O." (10), "2.l." (2.1); a token with dots
# cannot be a roman numeral, and "O" is no roman digit
_OCR_NUMBER = re.compile(r"([0-9lO]{1,2}(?:\.[0-9lO]{1,2})+|[0-9O]*O[0-9O]*)([.)/])?\s+(.*)$")


def _code_letter(letter: str) -> str:
    """A letter as a plan's code takes it (ASCII): "đ" is written "dd", as Telex types it."""
    return {"đ": "dd", "Đ": "DD"}.get(letter, letter)


_UPPER = re.compile(r"([A-HJ-UWYZĐ])(?:([.)])|\s*(\|))?\s+(.*)$")


def _roman(token: str) -> str | None:
    """`token` read as a roman numeral up to 39 (OCR slips "Il", "I11", "11l" included)."""
    if not re.search(r"[IVXl]", token):
        return None
    value = token.replace("l", "I").replace("1", "I")
    if not re.fullmatch(r"X{0,3}(IX|IV|V?I{0,3})", value) or not value:
        return None
    return value


def _mostly_capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def parse_marker(line: str) -> _Marker | None:
    """The item marker a line starts with, and the text after it; None when it has none."""
    s = line.strip()
    if len(s) < 2:
        return None
    glyph = BULLETS.get(s[0])
    if glyph is not None:
        rest = s[1:].strip()
        if not rest or rest[0] in BULLETS or rest[0] == ">":  # "--", "->": not a bullet
            return None
        if not any(ch.isalpha() for ch in rest):
            return None  # "- 3 -": a page number
        return _Marker("bullet" + glyph, s[0], None, rest)
    m = _PAREN.match(s)
    if m is not None and m.group(2).strip():
        code = _code_letter(m.group(1))
        kind = "paren-number" if code.isdigit() else "paren-letter"
        return _Marker(kind, f"({m.group(1)})", code, m.group(2).strip())
    m = _WORDED.match(fold(s))
    if m is not None and m.group(3).strip():
        written = s[: m.start(3)].strip()
        return _Marker("worded-" + m.group(1), written, m.group(2), s[m.start(3) :].strip())
    m = _OCR_NUMBER.match(s)
    token = m.group(1) if m is not None else ""
    if (
        m is not None
        and re.search("[0-9]", token)
        and re.search("[lO]", token)
        and m.group(3)[:1].isalpha()
    ):
        number = token.replace("l", "1").replace("O", "0")
        written = token + (m.group(2) or "")
        note = f"ĐOÁN: số thứ tự «{written}» (lỗi nhận dạng chữ) đọc là «{number}»"
        return _Marker(f"arabic{number.count('.') + 1}", written, number, m.group(3), note)
    m = _ARABIC.match(s) or _ARABIC_GLUED.match(s) if s[0].isdigit() else None
    if m is not None:
        number, rest = m.group(1), m.group(m.lastindex or 1)
        written = number + ("." if m.re is _ARABIC_GLUED else (m.group(2) or ""))
        if not rest.strip() or not any(ch.isalpha() or ch in "“\"'(" for ch in rest):
            return None
        depth = number.count(".") + 1
        return _Marker(f"arabic{depth}", written, number, rest.strip())
    m = _ROMAN.match(s)
    if m is not None:
        value = _roman(m.group(1))
        rest = m.group(4).strip()
        punctuated = m.group(2) is not None or m.group(3) is not None
        token = m.group(1)
        # a roman part's heading is in capitals: "l1. Rà soát" is item 11 misread
        misread = value and rest and re.search(r"[l1]", token) and not _mostly_capitals(rest)
        if misread and m.group(2) is not None and rest[:1].isupper():
            number = token.replace("l", "1").replace("I", "1")
            written = token + m.group(2)
            note = f"ĐOÁN: số thứ tự «{written}» (lỗi nhận dạng chữ) đọc là «{number}.»"
            return _Marker("arabic1", written, number, rest, note)
        if value and rest and (punctuated or _mostly_capitals(rest)):
            dot = m.group(2) or ""
            written = token + dot
            slip = f"ĐOÁN: số thứ tự «{written}» (lỗi nhận dạng chữ) đọc là «{value}{dot}»"
            return _Marker("roman", written, value, rest, slip if token != value else None)
    m = _LOWER.match(s)
    if m is not None and m.group(3).strip():
        letter = m.group(1)
        return _Marker("lower", letter + m.group(2), _code_letter(letter), m.group(3).strip())
    m = _UPPER.match(s)
    if m is not None:
        rest = m.group(4).strip()
        if rest and (rest[:1].isupper() if m.group(2) else _mostly_capitals(rest)):
            letter = m.group(1)
            return _Marker("upper", letter + (m.group(2) or ""), _code_letter(letter), rest)
    return None


# --- values written as "Chủ trì: ..." -------------------------------------------------------

_FIELD_KEY = (
    r"(?:(?:don vi|co quan|phong|bo phan)\s+)?(?:chu tri|phoi hop)(?:\s+thuc hien)?"
    r"|thoi gian(?:\s+(?:thuc hien|hoan thanh))?|thoi han(?:\s+hoan thanh)?"
    r"|tien do(?:\s+(?:thuc hien|hoan thanh))?"
    r"|san pham(?:\s+dau ra)?|ket qua\s*/\s*san pham|ket qua dau ra"
)
_FIELD_AT_START = re.compile(rf"^\(?\s*({_FIELD_KEY})\s*:\s*")
_FIELD_LATER = re.compile(rf"[;,.]\s*({_FIELD_KEY})\s*:\s*")
_BEFORE_DATE = re.compile(r"^(?:hoan thanh\s+)?truoc ngay\b")
_BEFORE_DATE_INLINE = re.compile(
    r"\btruoc ngay\s+\d{1,2}\s*"
    r"(?:/\s*\d{1,2}(?:\s*/\s*\d{2,4})?|thang\s+\d{1,2}(?:\s+nam\s+\d{4})?)"
)
# "giao Phòng Quản lý đầu tư chủ trì", "do Văn phòng chủ trì": a unit's name, capitalised,
# without a comma (else "do yêu cầu của cấp trên, Văn phòng chủ trì" would name a unit)
_LEAD_INLINE = re.compile(r"\b(?:giao(?: cho)?|do)\s+([^,;()]{2,80}?)\s+chu tri\b")


def _field_of(key: str) -> str:
    if "chu tri" in key:
        return LEAD
    if "phoi hop" in key:
        return COOPERATING
    if key.startswith(("thoi", "tien")):
        return SCHEDULE
    return DELIVERABLE


def _split_fields(text: str) -> list[tuple[str, str]] | None:
    """("lead", "Văn phòng Sở"), ... for a text that starts with a value's name; None if not.
    Several values may share the text: "Chủ trì: Phòng A; phối hợp: Phòng B"."""
    folded = fold(text)
    first = _FIELD_AT_START.match(folded)
    if first is None:
        if _BEFORE_DATE.match(folded):
            return [(SCHEDULE, text)]
        return None
    found: list[tuple[str, str]] = []
    key, start = first.group(1), first.end()
    for later in _FIELD_LATER.finditer(folded, start):
        found.append((_field_of(key), text[start : later.start()]))
        key, start = later.group(1), later.end()
    found.append((_field_of(key), text[start:]))
    return found


def _value(text: str) -> str:
    """A value as written, without the sentence's closing punctuation or parenthesis."""
    value = " ".join(text.split())
    if value.startswith("(") and value.count("(") > value.count(")"):
        value = value[1:]
    if value.endswith(")") and value.count(")") > value.count("("):
        value = value[:-1]
    return value.rstrip(" .;,").strip()


# --- the document's parts -----------------------------------------------------------------

# Headings of parts that hold no tasks (OCR reads Đ as P: "MUC PiCH")
_NOT_TASKS = re.compile(r"^(muc [dp]ich|muc tieu|yeu cau|to chuc thuc hien|kinh phi|can cu)\b")
_APPENDIX = re.compile(r"^phu luc\b")
_CLOSING = re.compile(r"^tren day la\b")
_RECIPIENTS = re.compile(r"^noi nh[a-z]n\b")
_TITLE = re.compile(r"^ke hoach\b")
_BASIS = re.compile(r"^(can cu|thuc hien|theo|xet)\b")
_TITLE_STOP = re.compile(r"^(thuc hien|can cu|theo|thi hanh|trien khai|de |nham )")
_NUMBER = re.compile(r"^so\s*:?\s*(\d+\s*/\s*[0-9A-Za-zĐđ&.-]+(?:-[0-9A-Za-zĐđ&.]+)*)")
_LONE_NUMBER = re.compile(r"^[-–(]?\s*\d{1,3}\s*[-–)]?$")


@dataclass(eq=False)
class _Node:
    marker: _Marker
    line: int
    parent: _Node | None
    appendix: bool
    position: int  # among its siblings with the same marker, from 1: a bullet's number
    head: list[_Line] = field(default_factory=list)
    body: list[_Line] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # children of each marker kind
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)
    heading_open: bool = True  # the marker's own text may still go on
    row: bool = False  # its line has a "|" (a table's column rule read by the OCR)


@dataclass
class _Table:
    columns: list[str]  # what each column holds: "number", "text", "lead", ..., "other"
    names: list[str]  # as the header writes them
    tabs: bool  # cells are separated by tabs (else by runs of spaces)
    floor: int  # the open levels the rows hang under
    last: _Node | None = None  # the last row read


_VALUES = {LEAD, COOPERATING, SCHEDULE, DELIVERABLE}


def _cells(text: str, tabs: bool) -> list[str]:
    if tabs:
        return [cell.strip() for cell in text.split("\t")]
    return [cell.strip() for cell in re.split(r"\s{2,}", text.strip())]


def _column(cell: str) -> str:
    """What a table's column holds, from its heading as written."""
    words = _words(cell)
    if words in ("tt", "stt", "so tt", "so thu tu", "thu tu"):
        return "number"
    if "chu tri" in words:
        return LEAD
    if "phoi hop" in words:
        return COOPERATING
    if words.startswith(("thoi gian", "thoi han", "tien do", "moc thoi gian")):
        return SCHEDULE
    if words.startswith(("san pham", "ket qua")):
        return DELIVERABLE
    heads = ("noi dung", "nhiem vu", "ten nhiem vu", "cong viec", "giai phap", "hoat dong")
    if words.startswith(heads):
        return "text"
    return "other"


def _row_marker(number: str, words: str) -> _Marker | None:
    """A table row's number and text read as an item's line ("1", "1.2", "I", "a")."""
    if not number:
        return _Marker("row", "", None, words)
    for written in (number, number + ".", number + ")"):
        marker = parse_marker(f"{written} {words}")
        if marker is not None:
            return marker
    return None


@dataclass
class _Field:
    node: _Node
    name: str


def _depth(kind: str) -> int:
    """An arabic marker's depth ("arabic2" for "2.1"); 0 for the other kinds."""
    return int(kind[6:]) if kind.startswith("arabic") else 0


def _usual_width(lines: list[_Line]) -> int:
    """The length of a full line of this text: the median length of lines that are followed
    by a line starting in lower case (wrapped for sure); 70 when too few are."""
    texts = [line.stripped for line in lines if line.stripped]
    wrapped = [
        len(current)
        for current, following in itertools.pairwise(texts)
        if following[0].islower() and parse_marker(following) is None
    ]
    return int(statistics.median(wrapped)) if len(wrapped) >= 5 else 70


_PAGE = re.compile(r"^(?:trang|page)\s*\d{1,3}(?:\s*(?:/|tren|of)\s*\d{1,3})?\s*$")
_REPEATED = "dòng lặp lại ở đầu hoặc cuối các trang (tên cơ quan, tiêu đề trang)"


def _repeated(lines: list[_Line]) -> set[str]:
    """Lines a PDF or a scan repeats on every page (the agency's name, the plan's short
    title): the same words, no item nor value, three times or more and apart, or twice
    each beside a page's number."""
    seen: dict[str, list[int]] = {}
    pages: list[int] = []
    before = ""
    for line in lines:
        text = " ".join(line.text.split())
        if not text:
            continue
        if _LONE_NUMBER.match(text) or _PAGE.match(fold(text)):
            pages.append(line.number)
        elif (
            len(text) >= 6
            and not text.endswith((".", ";", ",", ":"))
            and not before.endswith(":")  # "Thời gian:" / "Thường xuyên" is a value
        ):
            seen.setdefault(text, []).append(line.number)
        before = text

    def by_a_page_number(number: int) -> bool:
        return any(abs(number - page) <= 3 for page in pages)

    return {
        text
        for text, numbers in seen.items()
        if len(numbers) >= 2
        and (
            all(by_a_page_number(number) for number in numbers)
            or (len(numbers) >= 3 and min(b - a for a, b in itertools.pairwise(numbers)) >= 5)
        )
        and parse_marker(text) is None
        and _split_fields(text) is None
    }


# A marker standing alone on its line, as a PDF copied one word per line gives it
_LONE_MARKER = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,2})*[.)/]|\d{1,2}(?:\.\d{1,2})+|[IVXl]{1,5}[.)]|[a-zđ][.)]"
    r"|\(\d{1,2}\)|[-+•*✓–])$"
)
_KEY_HEADS = {"vi", "quan", "phan", "phong"}  # "Đơn vị | chủ trì:": one value's name
_BREAK_BEFORE = re.compile(r"^(?:tren day|noi nhan|phu luc)\b")


def _one_word_lines_joined(lines: list[_Line]) -> list[_Line]:
    """A PDF copied with one word per line, read back as lines: a new line at each item
    marker, value name ("Chủ trì:") and closing part, and at blank lines. Other texts are
    returned as they are."""
    full = [line for line in lines if line.stripped]
    single = sum(1 for line in full if len(line.stripped.split()) == 1)
    if len(full) < 20 or single < 0.7 * len(full):
        return lines
    joined: list[_Line] = []
    words: list[_Line] = []

    def close() -> None:
        if words:
            text = " ".join(word.stripped for word in words)
            joined.append(_Line(words[0].number, text, 0, glued=words[-1].glued))
            words.clear()

    for k, line in enumerate(lines):
        if not line.stripped:
            close()
            continue
        ahead = " ".join(word.stripped for word in lines[k : k + 6] if word.stripped)
        last = words[-1].stripped if words else ""
        field = _FIELD_AT_START.match(fold(ahead)) and _words(last) not in _KEY_HEADS
        starts = _LONE_MARKER.match(line.stripped) or field or _BREAK_BEFORE.match(_words(ahead))
        if starts and not _LONE_MARKER.match(last):
            close()
        words.append(line)
    close()
    return joined


def _is_noise(text: str) -> str | None:
    """Why a line is debris of the page or the OCR, or None: a lone page number, the
    signature placeholder, a line with no word in it."""
    if _LONE_NUMBER.match(text):
        return "dòng chỉ có một số (số trang, hoặc số thứ tự tách khỏi dòng của nó)"
    if _PAGE.match(fold(text)):
        return "số trang"
    if text.startswith("#"):
        return "chỗ ký của văn bản"
    if re.search(r"\d\d", text):
        return None  # "10/01/2025.": the end of a sentence
    words = re.findall(r"[^\W\d_]+", text)
    if not any(len(w) >= 3 for w in words) and sum(len(w) >= 2 for w in words) < 2:
        return "dòng nhiễu (không có chữ đọc được)"
    return None


class _Reader:
    """Feeds lines one by one into the document's tree, then writes the RawPlan from it."""

    def __init__(self, source: str, width: int, repeated: set[str]) -> None:
        self.plan = RawPlan(source=source)
        self.width = width
        self.repeated = repeated
        self.table: _Table | None = None  # the columns of a table pasted as text
        self.used: dict[str, int] = {}  # codes given, and the line that has each
        self.renamed: dict[int, list[str]] = {}  # id(node) -> why its code is not as written
        self.zone = "header"  # header, body, closing, recipients, appendix-header
        self.roots: list[_Node] = []
        self.root_kinds: dict[str, int] = {}
        self.stack: list[_Node] = []
        self.previous: _Line | None = None  # the last line of text taken (not noise)
        self.field: _Field | None = None  # the value the next lines may continue
        self.prose: list[_Line] = []  # a paragraph of text that is no item, and why
        self.prose_reason = ""
        self.title_lines: list[_Line] | None = None
        self.title_heading = ""
        self.appendix = False
        self.codes: dict[int, str] = {}  # id(node) -> its code, as written into the plan

    # - reading -

    def feed(self, line: _Line) -> None:
        text = line.stripped
        if not text:
            return
        if self._table_line(line):
            return
        marker = parse_marker(text)
        if marker is None:
            noise = _is_noise(text)
            if noise is None and " ".join(text.split()) in self.repeated:
                noise = _REPEATED
            if noise is not None:
                self._skip(line.number, noise, text)
                return
        words = _words(text)
        if marker is None and _APPENDIX.match(words):
            self._close_zone("appendix-header")
            self.appendix = True
            self._prose(line, "tiêu đề phụ lục, không phải nhiệm vụ")
        elif _RECIPIENTS.match(words):
            self._close_zone("recipients")
            self._prose(line, "nơi nhận và chữ ký, không phải nhiệm vụ")
        elif marker is None and _CLOSING.match(words) and self.zone == "body":
            self._close_zone("closing")
            self._prose(line, "lời kết của văn bản, không phải nhiệm vụ")
        elif self.zone == "header":
            self._header(line, marker)
        elif self.zone in ("closing", "recipients"):
            if marker is not None:
                reason = "nơi nhận" if self.zone == "recipients" else "sau lời kết của văn bản"
                self._flush_prose()
                self._skip(line.number, f"{reason}, không phải nhiệm vụ", text)
                self.previous = line
            else:
                self._prose(line, self.prose_reason)
        elif self.zone == "appendix-header" and marker is None:
            self._prose(line, self.prose_reason)
        else:
            if self.zone != "body":
                self._flush_prose()
                self.zone = "body"
            self._body(line, marker)

    def _header(self, line: _Line, marker: _Marker | None) -> None:
        text = line.stripped
        folded = fold(text)
        # the first item starts the plan's body, but "- Căn cứ Luật ...;" is still its opening
        basis = marker is not None and _BASIS.match(_words(marker.rest)) is not None
        if marker is not None and not basis:
            self._flush_prose()
            self.zone = "body"
            self._body(line, marker)
            return
        number = _NUMBER.match(folded)
        if number is not None and self.plan.number is None:
            self.plan.number = re.sub(r"\s+", "", text[number.start(1) : number.end(1)])
        heading = _TITLE.match(folded) and text[:8].isupper()  # "KẾ HOẠCH", not "Kế hoạch số"
        if self.plan.title is None and self.title_lines is None and heading:
            self._flush_prose()
            self.title_heading = text[: len("ke hoach")]
            rest = text[len("ke hoach") :].strip()
            self.title_lines = [_Line(line.number, rest, 0)] if rest else []
            self.previous = line
            return
        if self.title_lines is not None and self.plan.title is None:
            # the first line names the plan even when it starts "Thực hiện nâng cao ..."
            opening = not self.title_lines or not _TITLE_STOP.match(folded)
            if marker is None and opening and len(self.title_lines) < 5:
                self.title_lines.append(line)
                self.previous = line
                return
            self._end_title()
        if marker is not None:
            self._flush_prose()
            self._skip(line.number, "phần mở đầu của văn bản, không phải nhiệm vụ", text)
            self.previous = line
            return
        self._prose(line, "phần mở đầu (căn cứ, lời dẫn), không phải nhiệm vụ")

    def _end_title(self) -> None:
        if self.title_lines is None or self.plan.title is not None:
            return
        subtitle = _join(self.title_lines)[0]
        heading = self.title_heading.capitalize()
        self.plan.title = f"{heading} {subtitle}".strip() if subtitle else self.title_heading

    def _body(self, line: _Line, marker: _Marker | None) -> None:
        text = line.stripped
        top = self.stack[-1] if self.stack else None
        fields = _split_fields(marker.rest if marker is not None else text)
        if fields is not None and top is not None:
            # "Chủ trì: ..." (or "- Chủ trì: ...") belongs to the item above it
            for name, value in fields:
                top.fields.setdefault(name, (value, line.number))
            name = fields[-1][0]
            taken = top.fields[name][1] == line.number  # not a repeat of a value given
            self.field = _Field(top, name) if taken else None
            top.heading_open = False
            self.previous = line
            return
        if marker is not None:
            self._open(line, marker)
            self.field = None
            self.previous = line
            return
        if top is None:  # text before any marker of an appendix
            self._prose(line, "tiêu đề phụ lục, không phải nhiệm vụ")
            return
        if self.field is not None and (self._continues(line) or self._value_goes_on()):
            value, where = self.field.node.fields[self.field.name]
            self.field.node.fields[self.field.name] = (f"{value} {text}", where)
            self.previous = line
            return
        self.field = None
        if top.heading_open and (self._continues(line) or self._heading_goes_on(top, line)):
            top.head.append(line)
        else:
            top.heading_open = False
            top.body.append(line)
        self.previous = line

    def _open(self, line: _Line, marker: _Marker, floor: int = 0) -> _Node:
        """The node `marker` starts, hung where its kind belongs; `floor` open levels stay
        open whatever the kind (a table's rows go under the heading before the table)."""
        misread = marker.note is not None and marker.written[:1] == "l" and marker.value == "1"
        if misread and any(node.marker.value == "k" for node in self.stack[floor:]):
            # "l)" after "k)": the letter l of the list, not a misread "1."
            marker = _Marker("lower", marker.written, "l", marker.rest)
        kind = marker.kind
        stack = self.stack
        if any(node.marker.kind == kind for node in stack[floor:]):
            while stack[-1].marker.kind != kind:  # the next sibling of an open level
                stack.pop()
            stack.pop()
        elif kind.startswith("arabic"):
            # "4.2" goes under the open "4", past any bullets; "2" after "1.3" closes "1.3"
            depth = _depth(kind)
            if any(0 < _depth(node.marker.kind) < depth for node in stack[floor:]):
                while not 0 < _depth(stack[-1].marker.kind) < depth:
                    stack.pop()
            else:
                while any(_depth(node.marker.kind) > depth for node in stack[floor:]):
                    stack.pop()
        parent = self.stack[-1] if self.stack else None
        siblings = parent.children if parent is not None else self.roots
        counts = parent.kinds if parent is not None else self.root_kinds
        position = counts[kind] = counts.get(kind, 0) + 1
        node = _Node(marker, line.number, parent, self.appendix, position, row="|" in line.text)
        node.head.append(_Line(line.number, marker.rest, 0, glued=line.glued))
        siblings.append(node)
        self.stack.append(node)
        return node

    # - a table pasted as text: "TT<TAB>Nội dung<TAB>Đơn vị chủ trì<TAB>Thời gian" -

    def _table_line(self, line: _Line) -> bool:
        """Whether `line` is a table's header or row, taken here; a table is read only after
        a header line that names its columns."""
        text = line.text.lstrip(" ")
        tabs = "\t" in text
        spaced = re.search(r"\S\s{2,}\S", line.stripped) is not None
        words = _words(line.stripped)
        if any(part.match(words) for part in (_APPENDIX, _RECIPIENTS, _CLOSING)):
            self.table = None  # "Nơi nhận:<TAB>KT. GIÁM ĐỐC": the document's next part
            return False
        table = self.table
        if table is None or table.tabs != tabs:
            if not (tabs or spaced):
                return self._table_ends(line)
            cells = _cells(text, tabs)
            columns = [_column(cell) for cell in cells]
            if len(cells) < 3 or "text" not in columns or not _VALUES & set(columns):
                return self._table_ends(line)
            self._flush_prose()
            self._end_title()
            if self.zone != "body":
                self.stack = []
            self.zone = "body"
            self.table = _Table(columns, cells, tabs, len(self.stack))
            named = ", ".join(f"«{cell}»" for cell in cells if cell)
            self._skip(line.number, "dòng tiêu đề của bảng, các cột", named)
            self.previous = line
            return True
        if not (tabs or spaced):
            return self._table_ends(line)
        row = dict(zip(table.columns, _cells(text, tabs), strict=False))
        number = row.get("number", "").strip()
        words = " ".join(row.get("text", "").split())  # the task's words
        if number or "number" not in table.columns:
            marker = _row_marker(number, words) if words else None
            if marker is None:
                self._skip(line.number, "hàng của bảng không có nội dung nhiệm vụ", line.stripped)
                return True
            node = self._open(line, marker, table.floor)
            node.row = True
            table.last = node
            for name in _VALUES:
                if row.get(name, "").strip():
                    node.fields[name] = (row[name], line.number)
        elif table.last is not None:  # a row's cells going on over another line
            node = table.last
            if words:
                node.head.append(_Line(line.number, words, 0, glued=line.glued))
            for name in _VALUES:
                more = row.get(name, "").strip()
                if more:
                    value, where = node.fields.get(name, ("", line.number))
                    node.fields[name] = (f"{value} {more}".strip(), where)
        else:
            self._skip(line.number, "hàng của bảng trước hàng có số thứ tự", line.stripped)
            return True
        others = [cell for column, cell in row.items() if column == "other" and cell.strip()]
        if others:
            self._skip(
                line.number, "ô của cột không nhập (ghi chú, kinh phí, ...)", "; ".join(others)
            )
        self.field = None
        self.previous = line
        return True

    def _table_ends(self, line: _Line) -> bool:
        """A line without columns: a table's text going on, or, when it starts a part
        ("III. TỔ CHỨC THỰC HIỆN"), the table's end. Never takes the line."""
        if self.table is not None:
            marker = parse_marker(line.stripped)
            if marker is not None and marker.kind in ("roman", "upper"):
                self.table = None
        return False

    def _continues(self, line: _Line) -> bool:
        """Whether `line` goes on with the text of the line before it (wrapped there)."""
        previous = self.previous
        if previous is None:
            return False
        before, text = previous.stripped, line.stripped
        first = text[0]
        if first.islower() or first in ",;:.)]}…%/&":
            return True
        if first.isdigit():
            return True
        if before.endswith("-") and not before.endswith(" -"):
            return True
        if before.endswith(","):
            return True  # a list goes on
        if previous.glued or before.rsplit(" ", 1)[-1].lower() in _JOINING:
            return True  # a word broken by a soft hyphen; "... của" / "Sở" is one phrase
        if line.indent >= 1 and first.isupper():
            return False  # an indented capital starts a paragraph
        if before.endswith(("”", '"', ":", "“")):
            return False
        return len(before) >= 0.8 * self.width

    def _value_goes_on(self) -> bool:
        """A value ("Phối hợp: Các phòng, Trung tâm / Phục vụ hành chính công") is a phrase: a
        line after it goes on with it unless the value ended as a sentence does."""
        previous = self.previous.stripped if self.previous is not None else ""
        return not previous.endswith((".", ";", "!", "?", "”", '"'))

    def _heading_goes_on(self, node: _Node, line: _Line) -> bool:
        """A heading in capitals wrapped onto a second line in capitals ("... PHÂN CÔNG /
        THỰC HIỆN")."""
        head = " ".join(part.stripped for part in node.head)
        return _mostly_capitals(head) and _mostly_capitals(line.stripped)

    def _close_zone(self, zone: str) -> None:
        self._flush_prose()
        self._end_title()
        self.table = None  # "Trên đây là ...", "Nơi nhận": a table before them has ended
        self.stack = []
        self.field = None
        self.zone = zone

    def _prose(self, line: _Line, reason: str) -> None:
        if self.prose and (reason != self.prose_reason or not self._continues(line)):
            self._flush_prose()
        if not self.prose:
            self.prose_reason = reason
        self.prose.append(line)
        self.previous = line

    def _flush_prose(self) -> None:
        if self.prose:
            self._skip(self.prose[0].number, self.prose_reason, _join(self.prose)[0])
            self.prose = []

    def _skip(self, line: int, reason: str, text: str) -> None:
        self.plan.skipped.append((Place(line=line), f"{reason}: {text}"))

    # - writing the plan -

    def finish(self) -> RawPlan:
        self._flush_prose()
        self._end_title()
        used: set[str] = set()
        for root in self.roots:
            self._emit(root, None, used, None, {})
        self.plan.skipped.sort(key=lambda entry: entry[0].line or 0)
        return self.plan

    def _code(self, node: _Node, parent_code: str | None, used_tops: set[str]) -> str:
        marker = node.marker
        value = marker.value if marker.value is not None else str(node.position)
        if marker.kind.startswith("arabic"):
            # "2.1" carries its own hierarchy: it hangs from the nearest non-arabic level
            base = node.parent
            while base is not None and base.marker.kind.startswith("arabic"):
                base = base.parent
            prefix = self.codes.get(id(base)) if base is not None else None
        else:
            prefix = parent_code
        code = f"{prefix}.{value}" if prefix else value
        if prefix is None:
            if node.appendix and code in used_tops:
                code = f"PL.{code}"  # an appendix numbered again from I
            used_tops.add(code)
        code = self._unique(code, node)
        self.codes[id(node)] = code
        return code

    def _unique(self, code: str, node: _Node) -> str:
        """`code`, or when the plan has it already (a scan's numbering repeats or was misread:
        "2." twice), `code` with a letter ("II.2b", "II.1.a2"), said in the comments of the
        items it gives: a plan's codes are unique."""
        first = self.used.get(code)
        if first is None:
            self.used[code] = node.line
            return code
        # "II.12" -> "II.12b"; a letter's code takes a digit: "a" -> "a2", not "ab"
        letter = code.rpartition(".")[2].islower()
        suffixes: Iterator[object] = (
            itertools.count(2)
            if letter
            else itertools.chain("bcdefghkmnpqrstuvwxyz", (f"z{n}" for n in itertools.count(2)))
        )
        given = next(f"{code}{s}" for s in suffixes if f"{code}{s}" not in self.used)
        self.used[given] = node.line
        self.renamed.setdefault(id(node), []).append(
            f"ĐOÁN: mã {code} đã có ở dòng {first} (văn bản đánh số lặp lại hoặc nhận dạng sai); "
            f"đặt mã {given} để các mã không trùng, kiểm tra số thứ tự"
        )
        return given

    def _emit(
        self,
        node: _Node,
        parent_code: str | None,
        used_tops: set[str],
        not_tasks: str | None,
        inherited: dict[str, tuple[str, int]],
    ) -> None:
        code = self._code(node, parent_code, used_tops)
        head = _join(node.head)[0]
        body, body_offsets = _join(node.body)
        written = node.marker.written
        title = _section_title(head)
        sectioned = bool(node.children) or node.marker.kind in ("roman", "upper")
        heading = sectioned or (body and _heading_like(head))
        if not_tasks is None and heading and _NOT_TASKS.match(_words(head)):
            not_tasks = f"{code}. {title}"
        if not_tasks is not None:
            why = f'thuộc mục "{not_tasks}", không phải nhiệm vụ'
            if node.marker.kind in ("roman", "upper") and node.parent is None:
                # the heading stays a section, as the hand-made plans keep it
                self.plan.sections.append(RawSection(code, title, Place(line=node.line)))
                if body:
                    self._skip(node.body[0].number, why, body)
            else:
                shown = f"{written} {head}" + (f" — {body}" if body else "")
                self._skip(node.line, why, shown)
            self._skip_fields(node, f'thuộc mục "{not_tasks}"')
            for child in node.children:
                self._emit(child, code, used_tops, not_tasks, {})
            return
        # an OCR'd table's row: its columns run on over the next lines, no heading there
        row = node.row or any("|" in part.text for part in node.body)
        if sectioned or (body and _heading_like(head) and not row):
            self.plan.sections.append(RawSection(code, title, Place(line=node.line)))
            if node.children:
                if body:
                    why = f'đoạn dẫn của mục "{code}. {title}", không phải nhiệm vụ'
                    self._skip(node.body[0].number, why, body)
                passed = {**inherited, **node.fields}
                for child in node.children:
                    self._emit(child, code, used_tops, None, passed)
            elif body:
                if _parenthetical(body):
                    why = f'ghi chú của mục "{code}. {title}", không phải nhiệm vụ'
                    self._skip(node.body[0].number, why, body)
                    self._skip_fields(node, f'mục "{code}. {title}"')
                else:
                    self._item(
                        self._unique(f"{code}.1", node),
                        "",
                        body,
                        body_offsets,
                        node.body[0].number,
                        code,
                        node,
                        inherited,
                    )
            else:
                self._skip_fields(node, f'mục "{code}. {title}"')
            return
        text, offsets = _join(node.head + node.body)
        section = parent_code if node.parent is not None and parent_code else None
        self._item(code, written, text, offsets, node.line, section, node, inherited)

    def _item(
        self,
        code: str,
        number: str,
        text: str,
        offsets: list[tuple[int, int]],
        line: int,
        section: str | None,
        node: _Node,
        inherited: dict[str, tuple[str, int]],
    ) -> None:
        title, found = _inline_values(text, offsets)
        values: dict[str, tuple[str, int]] = {**inherited, **found, **node.fields}
        # the guesses that made its code: its own and those of the headings above it
        notes: list[str] = []
        above: _Node | None = node
        while above is not None:
            notes += self.renamed.get(id(above), [])
            if above.marker.note is not None:
                notes.append(f"{above.marker.note} (dòng {above.line})")
            above = above.parent
        self.plan.items.append(
            RawItem(
                code=code,
                number=number,
                title=title,
                place=Place(line=line),
                section=section,
                lead=_value(values[LEAD][0]) if LEAD in values else None,
                cooperating=_value(values[COOPERATING][0]) if COOPERATING in values else None,
                schedule=_value(values[SCHEDULE][0]) if SCHEDULE in values else None,
                deliverable=_value(values[DELIVERABLE][0]) if DELIVERABLE in values else None,
                places={name: Place(line=where) for name, (_, where) in values.items()},
                notes=tuple(notes),
            )
        )

    def _skip_fields(self, node: _Node, where: str) -> None:
        for name, (value, line) in node.fields.items():
            self._skip(
                line, f"{_FIELD_NAMES[name]} của {where}, không có nhiệm vụ nhận", _value(value)
            )


_FIELD_NAMES = {
    LEAD: "đơn vị chủ trì",
    COOPERATING: "đơn vị phối hợp",
    SCHEDULE: "thời gian",
    DELIVERABLE: "sản phẩm",
}


# Words a phrase does not end with: a line ending with one goes on in the next line even
# when that starts with a capital ("... thuộc thẩm quyền của" / "Sở Kế hoạch và Đầu tư").
# With their diacritics: folded, "tử" (điện tử) would be "từ"
_JOINING = {
    "của", "và", "các", "những", "về", "theo", "trong", "cho", "với", "để", "tại", "đối",
    "một", "là", "được", "từ", "đến", "hoặc", "như", "giữa", "thuộc", "giao",
}  # fmt: skip


def _join(lines: list[_Line]) -> tuple[str, list[tuple[int, int]]]:
    """The lines as one text, and where each line starts in it: (offset, line number).

    A line that ends with a hyphen goes on without a space when a number or a capital
    follows ("2021-" / "2025", "KT-" / "XH"); before a word in lower case the hyphen is the
    OCR's or the typist's line break, not a Vietnamese word's ("hành chính-" / "năm")."""
    text = ""
    offsets: list[tuple[int, int]] = []
    glued = False
    for line in lines:
        part = " ".join(line.text.split())
        if not part:
            continue
        hyphen = text.endswith("-") and not text.endswith(" -") and text[-2:-1].isalnum()
        if hyphen and text[-2:-1].isalpha() and part[0].islower():
            text = text[:-1] + " "
        elif text and not hyphen and not glued:
            text += " "
        offsets.append((len(text), line.number))
        text += part
        glued = line.glued
    return text, offsets


def _line_at(offsets: list[tuple[int, int]], index: int) -> int:
    found = offsets[0][1] if offsets else 0
    for start, number in offsets:
        if start > index:
            break
        found = number
    return found


def _inline_values(
    text: str, offsets: list[tuple[int, int]]
) -> tuple[str, dict[str, tuple[str, int]]]:
    """An item's text without its "(Chủ trì: ...; Thời gian: ...)" part, and the values
    found in its text: those parentheses, "giao X chủ trì", "trước ngày 30/6/2024"."""
    found: dict[str, tuple[str, int]] = {}
    kept = text
    for group in reversed(list(re.finditer(r"\(([^()]*)\)", text))):
        values = _split_fields(group.group(1))
        if values is None or _BEFORE_DATE.match(fold(group.group(1))):
            continue
        for name, value in values:
            found.setdefault(name, (value, _line_at(offsets, group.start())))
        kept = (kept[: group.start()].rstrip() + kept[group.end() :]).strip()
    folded = fold(text)
    if LEAD not in found:
        lead = _LEAD_INLINE.search(folded)
        if lead is not None and text[lead.start(1)].isupper():
            found[LEAD] = (text[lead.start(1) : lead.end(1)], _line_at(offsets, lead.start()))
    if SCHEDULE not in found:
        dates = list(_BEFORE_DATE_INLINE.finditer(folded))
        if len(dates) == 1:
            date = dates[0]
            found[SCHEDULE] = (text[date.start() : date.end()], _line_at(offsets, date.start()))
    return kept, found


def _section_title(head: str) -> str:
    """A heading as a name: without the OCR's column rules and its closing "." or ":"."""
    return head.strip().strip("|").strip().rstrip(":.").strip()


def _heading_like(head: str) -> bool:
    """A heading names what follows; a task's own text ends as a sentence does."""
    return not head.rstrip().endswith((".", ";", "!", "?"))


def _parenthetical(body: str) -> bool:
    return body.startswith("(") and body.endswith(")")
