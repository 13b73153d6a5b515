"""A RawPlan, as a reader found it, into the text of a plan file (`kind: plan`) for the
organisation: unit names as unit codes, schedule words as schedules, a category for each
task, and a Vietnamese comment on every value that was guessed, so that the person who
imports the plan reviews exactly those.

Comment markers, for a reviewer to search: `ĐOÁN` (guessed), `GẦN ĐÚNG` (a close match of a
name), `KHÔNG HIỂU` (words not understood: a placeholder was written), `VẤN ĐỀ` (a problem
the file cannot say right by itself; also reported as a problem line), `CHƯA NHẬP` (rows of
the document that were not taken, listed at the end of the file).
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, field

from workflow.definitions.models import OrganisationSpec
from workflow.definitions.plan_import import categories
from workflow.definitions.plan_import.rows import Place, RawItem, RawPlan
from workflow.definitions.plan_import.schedules import (
    MAX_YEAR,
    MIN_YEAR,
    MONTHLY,
    ScheduleGuess,
    ScheduleValue,
    month_ends,
    plain,
    read_schedule,
)
from workflow.definitions.plan_import.units import UnitMatch, Units, outside, without_lead
from workflow.definitions.scaffold import SCHEMA_LINE, _quoted, slug, this_year

GUESS_MARKS = ("ĐOÁN", "GẦN ĐÚNG", "KHÔNG HIỂU")
PROBLEM_MARK = "VẤN ĐỀ"
WIDTH = 100


@dataclass(frozen=True)
class Options:
    plan_id: str | None = None
    year: int | None = None  # the plan's year, when the document does not say
    schema: str = SCHEMA_LINE  # the editor's schema line (scaffold.schema_line of the target)


@dataclass
class Built:
    text: str
    tasks: int = 0
    guesses: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, naming row and column
    skipped: list[str] = field(default_factory=list)  # one line each: where, why


def where(place: Place) -> str:
    """`bảng 1, hàng 7, cột «Đơn vị chủ trì»`: a place, for a comment."""
    parts: list[str] = []
    if place.sheet is not None:
        parts.append(f"trang tính «{place.sheet}»")
    if place.table is not None:
        parts.append(f"bảng {place.table}")
    if place.row is not None:
        parts.append(f"hàng {place.row}")
    if place.line is not None:
        parts.append(f"dòng {place.line}")
    if place.column is not None:
        parts.append(f"cột «{place.column}»")
    return ", ".join(parts) or "văn bản"


class _Writer:
    """The file's lines, counting the guesses as they are commented."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.guesses = 0

    def comment(self, text: str, indent: str = "") -> None:
        if text.startswith(GUESS_MARKS):
            self.guesses += 1
        for line in textwrap.wrap(
            " ".join(text.split()), WIDTH - len(indent) - 2, break_long_words=False
        ):
            self.lines.append(f"{indent}# {line}")

    def line(self, text: str) -> None:
        self.lines.append(text)


def _years(text: str | None) -> tuple[int, int] | None:
    """`giai đoạn 2021-2025` -> (2021, 2025); `năm 2023` -> (2023, 2023)."""
    if not text:
        return None
    words = plain(text)
    span = re.search(r"((?:19|20)\d\d)\s*-\s*((?:19|20)\d\d)", words)
    if span and int(span.group(1)) <= int(span.group(2)):
        return int(span.group(1)), int(span.group(2))
    found = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", words)]
    found = [y for y in found if MIN_YEAR <= y <= MAX_YEAR]
    return (max(found), max(found)) if found else None


def _period(raw: RawPlan, options: Options) -> tuple[int, int, str | None]:
    """The plan's first and last year, and the comment on the guess."""
    if options.year is not None:
        return options.year, options.year, None
    named = [y for item in raw.items for y in read_schedule(item.schedule).years]
    titled = _years(raw.title)
    if titled is not None:
        first, last = min([titled[0], *named]), max([titled[1], *named])
        extra = " và các thời hạn trong bảng" if (first, last) != titled else ""
        return first, last, f"ĐOÁN: thời gian thực hiện theo năm ghi trong tiêu đề{extra}"
    if named:
        return (
            min(named),
            max(named),
            "ĐOÁN: thời gian thực hiện theo các thời hạn ghi trong bảng (văn bản không ghi năm "
            "của kế hoạch)",
        )
    year = this_year()
    return year, year, f"ĐOÁN: văn bản không ghi năm; tạm lấy năm {year}. Sửa, hoặc dùng --year"


def _schedule_text(value: ScheduleValue) -> str:
    if isinstance(value, str):
        return value
    key, inner = next(iter(value.items()))
    shown = inner.isoformat() if isinstance(inner, dt.date) else inner
    return f"{{{key}: {shown}}}"


def build(raw: RawPlan, org: OrganisationSpec, options: Options) -> Built:
    units = Units(org)
    first, last, period_note = _period(raw, options)
    out = _Writer()
    problems: list[str] = []
    tasks = len(raw.items)
    out.line(options.schema)
    out.comment(
        f"Kế hoạch nhập từ «{raw.source}» bằng planflow plans import: {tasks} nhiệm vụ. Mỗi giá "
        "trị được đoán có ghi chú ngay trên nó: ĐOÁN (đoán), GẦN ĐÚNG (tên gần giống), KHÔNG "
        "HIỂU (không đọc được), VẤN ĐỀ (phải sửa). Xem lại từng ghi chú, sửa nếu sai, rồi kiểm "
        "tra: planflow plans validate TỆP-CƠ-QUAN.yaml TỆP-NÀY.yaml"
    )
    out.line("kind: plan")
    plan_id = options.plan_id or slug(f"{org.code}-{_stem(raw.source)}")
    if options.plan_id is None:
        out.comment("ĐOÁN: mã kế hoạch đặt theo mã cơ quan và tên tệp; đổi nếu cần (không dấu)")
    out.line(f"id: {plan_id}")
    out.line(f"organisation: {org.code}")
    if raw.title:
        title = _sentence_case(raw.title)
        if title != raw.title:
            out.comment(
                "ĐOÁN: văn bản viết hoa cả trích yếu; ghi lại bằng chữ thường: kiểm tra các tên "
                "riêng (tên tỉnh, cơ quan) và viết hoa lại"
            )
        out.line(f"title: {_quoted(title)}")
    else:
        out.comment("ĐOÁN: văn bản không có dòng «KẾ HOẠCH ...»; ghi trích yếu của kế hoạch")
        out.line(f"title: {_quoted('Kế hoạch nhập từ ' + raw.source)}")
    out.comment("ĐOÁN: cơ quan ban hành theo tệp cơ quan")
    out.line(f"issuer: {_quoted(org.name)}")
    if raw.number:
        out.line(f"number: {_quoted(raw.number)}")
    if period_note:
        out.comment(period_note)
    out.line("period:")
    out.line(f"  start: {first}-01-01")
    out.line(f"  end: {last}-12-31")
    if raw.sections:
        out.line("")
        out.comment("Các mục của bảng (hàng nhóm: A, I, II, ...), như văn bản ghi.")
        out.line("sections:")
        for section in raw.sections:
            out.line(f"  - code: {_quoted(section.code)}  # {where(section.place)}")
            out.line(f"    title: {_quoted(section.title)}")
    if any(read_schedule(i.schedule, first).value == {"per": MONTHLY} for i in raw.items):
        out.line("")
        out.comment(
            "Lịch «Hằng tháng»: ngày cuối mỗi tháng của kỳ kế hoạch; mỗi ngày một nhiệm vụ."
        )
        out.line("schedules:")
        out.line(f"  - id: {MONTHLY}")
        out.line('    title: "Hằng tháng"')
        out.line(f"    dates: [{', '.join(d.isoformat() for d in month_ends(first, last))}]")
    out.line("")
    out.line("tasks:")
    titles = {s.code: s.title for s in raw.sections}
    for item in raw.items:
        problems += _task(out, item, units, org, titles, raw.title, first, last)
    skipped = [f"{p.describe()}: {why}" for p, why in raw.skipped]
    if raw.skipped:
        out.line("")
        out.comment(
            f"CHƯA NHẬP: {len(raw.skipped)} hàng của văn bản không phải nhiệm vụ hay hàng nhóm "
            "nên không được nhập. Kiểm tra; hàng nào là nhiệm vụ thì thêm vào tasks:"
        )
        for place, why in raw.skipped:
            out.comment(f"- {where(place)}: {why}")
    return Built("\n".join(out.lines) + "\n", tasks, out.guesses, problems, skipped)


def _sentence_case(title: str) -> str:
    """`Kế hoạch CẢI THIỆN CHỈ SỐ PAPI` -> `Kế hoạch cải thiện chỉ số PAPI`: a title written
    in capitals, as a heading prints it, in the case a plan file keeps; abbreviations (PAPI,
    CCHC, a word without a vowel) stay as written."""
    letters = [c for c in title if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) < 0.7 * len(letters):
        return title
    words = []
    for k, word in enumerate(title.split()):
        core = word.strip('().,;:“”"')
        keep = core.isupper() and (len(core) <= 5 and not _syllable(core))
        words.append(
            word if keep or (k == 0 and word[:1].isupper() and not word.isupper()) else word.lower()
        )
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _syllable(word: str) -> bool:
    """Whether an upper-case word reads as a Vietnamese syllable (CẢI, NĂM) rather than an
    abbreviation (PAPI, CCHC, TTHC, SIPAS): a syllable has its vowels together."""
    vowels = [plain(c) in "aeiouy" for c in word]
    if not any(vowels):
        return False
    first = vowels.index(True)
    last = len(vowels) - 1 - vowels[::-1].index(True)
    return (
        all(vowels[first : last + 1])
        and len(word) - last - 1 <= 2
        and first <= 3
        and (plain(word) not in ("papi", "sipas"))
    )


def _stem(source: str) -> str:
    return source.rsplit(".", 1)[0] if "." in source else source


def _task(
    out: _Writer,
    item: RawItem,
    units: Units,
    org: OrganisationSpec,
    titles: dict[str, str],
    plan_title: str | None,
    first: int,
    last: int,
) -> list[str]:
    problems: list[str] = []
    ind = "    "
    out.line(f"  - code: {_quoted(item.code)}  # {where(item.place)}")
    if not item.number or item.number in ("-", "+", "*"):
        out.comment("ĐOÁN: hàng không ghi số thứ tự; mã đặt theo thứ tự trong mục", ind)
    for note in item.notes:
        out.comment(note, ind)
    out.line(f"{ind}title: {_quoted(item.title)}")
    headings = _headings(item.section, titles)
    category = categories.guess(item.title, headings, plan_title)
    out.comment(category.comment, ind)
    out.line(f"{ind}category: {category.code}")

    lead_place = item.places.get("lead", item.place)
    coop_place = item.places.get("cooperating", item.place)
    lead = units.read(item.lead)
    coop = units.read(item.cooperating)
    notes: list[str] = []
    lead_code, moved = _lead(lead, coop, units, org, notes)
    for name in lead.unknown:
        problems.append(_unknown(lead_place, name, units, org))
        notes.append(
            f"{PROBLEM_MARK}: «{name}» ({where(lead_place)}) không khớp đơn vị nào của tệp cơ "
            f"quan; sửa tên trong văn bản hoặc thêm đơn vị vào tệp cơ quan. Các đơn vị: "
            f"{units.listing()}"
        )
    if not item.lead:
        notes.append(f"ĐOÁN: văn bản không ghi đơn vị chủ trì; tạm ghi đơn vị đầu mối {lead_code}")
    elif lead_code is None:
        lead_code = org.office_unit
        notes.append(f"tạm ghi đơn vị đầu mối {org.office_unit}")
    assert lead_code is not None
    notes += [_marked(c) for c in lead.comments]
    for note in notes:
        out.comment(note, ind)
    out.line(f"{ind}lead_unit: {lead_code}")

    cooperating = [c for c in moved if c != lead_code]
    for code in without_lead([lead_code], coop):
        if code not in cooperating:
            cooperating.append(code)
    for note in coop.comments:
        out.comment(_marked(note), ind)
    for name in coop.unknown:
        if outside(name):
            # cooperating_units holds only the organisation's unit and group codes: a body
            # outside it (Sở Nội vụ, UBND các huyện) cooperates all the same, said here.
            out.comment(
                f"ĐOÁN: «{name}»: cơ quan ngoài {org.name}; cooperating_units chỉ ghi mã đơn vị, "
                "nhóm của tệp cơ quan nên cơ quan này chỉ ghi ở đây. Nếu là đơn vị của cơ quan, "
                "thêm vào tệp cơ quan rồi ghi mã vào danh sách",
                ind,
            )
            continue
        problems.append(_unknown(coop_place, name, units, org))
        out.comment(
            f"{PROBLEM_MARK}: «{name}» ({where(coop_place)}) không khớp đơn vị hay nhóm nào của "
            f"tệp cơ quan; chưa ghi vào danh sách. Các đơn vị: {units.listing()}",
            ind,
        )
    out.line(f"{ind}cooperating_units: [{', '.join(cooperating)}]")

    guess = _fit(read_schedule(item.schedule, first), first, last)
    if guess.comment:
        out.comment(guess.comment, ind)
    outside_period = _outside(guess.value, first, last)
    if outside_period is not None:
        place = item.places.get("schedule", item.place)
        shown = " ".join((item.schedule or "").split())
        problems.append(
            f'{place.describe()}: "{shown}" ({outside_period}) is outside the plan\'s period '
            f"{first}-01-01 to {last}-12-31; correct it, or the plan's year (--year)"
        )
        out.comment(
            f"{PROBLEM_MARK}: «{shown}» ({where(place)}, {outside_period}) ngoài kỳ kế hoạch "
            f"{first}-{last}; tạm ghi hạn cuối kỳ. Sửa thời hạn, hoặc kỳ kế hoạch (--year)",
            ind,
        )
        guess = ScheduleGuess({"by": dt.date(last, 12, 31)}, None, guess.understood, guess.years)
    out.line(f"{ind}schedule: {_schedule_text(guess.value)}")
    if item.schedule:
        out.line(f"{ind}schedule_text: {_quoted(' '.join(item.schedule.split()))}")
    if item.deliverable:
        out.line(f"{ind}deliverable: {_quoted(' '.join(item.deliverable.split()))}")
    return problems


def _marked(note: str) -> str:
    return note if note.startswith((*GUESS_MARKS, PROBLEM_MARK)) else f"ĐOÁN: {note}"


def _lead(
    lead: UnitMatch, coop: UnitMatch, units: Units, org: OrganisationSpec, notes: list[str]
) -> tuple[str | None, list[str]]:
    """The lead unit, and the codes of the lead cell that go to the cooperating ones: a
    task has one lead unit. A group in the lead cell ("Các phòng") with one unit in the
    cooperating cell: that unit leads and the group cooperates (how agencies mean it)."""
    singles = [c for c in lead.codes if c not in units.groups]
    if singles:
        rest = [c for c in lead.codes if c != singles[0]]
        if rest:
            notes.append(
                f"ĐOÁN: cột chủ trì ghi nhiều đơn vị; {singles[0]} chủ trì, "
                f"{', '.join(rest)} đưa vào phối hợp"
            )
        return singles[0], rest
    if lead.codes:  # only groups
        coop_singles = [c for c in coop.codes if c not in units.groups]
        if len(coop_singles) == 1:
            notes.append(
                f"ĐOÁN: cột chủ trì ghi nhóm {', '.join(lead.codes)}; một nhiệm vụ có một đơn vị "
                f"chủ trì: {coop_singles[0]} (cột phối hợp) chủ trì, nhóm đưa vào phối hợp"
            )
            return coop_singles[0], lead.codes
        notes.append(
            f"ĐOÁN: cột chủ trì ghi nhóm {', '.join(lead.codes)}; một nhiệm vụ có một đơn vị chủ "
            f"trì: tạm ghi đơn vị đầu mối {org.office_unit}, nhóm đưa vào phối hợp"
        )
        return org.office_unit, lead.codes
    return (org.office_unit if not lead.unknown else None), []


def _unknown(place: Place, name: str, units: Units, org: OrganisationSpec) -> str:
    return f'{place.describe()}: unknown unit "{name}"; the units of {org.code}: {units.listing()}'


def _headings(section: str | None, titles: dict[str, str]) -> list[tuple[str, str]]:
    """The sections above a task, innermost first (A.IV.2, A.IV, A)."""
    out: list[tuple[str, str]] = []
    code = section
    while code:
        if code in titles:
            out.append((code, titles[code]))
        code = code.rpartition(".")[0]
    return out


def _outside(value: ScheduleValue, first: int, last: int) -> str | None:
    """The date or year a schedule names outside the plan's years, as written in the file
    (None: within them, or a schedule without a date)."""
    if isinstance(value, dict):
        inner = next(iter(value.values()))
        if isinstance(inner, dt.date) and not first <= inner.year <= last:
            return inner.isoformat()
        if isinstance(inner, int) and not first <= inner <= last:
            return str(inner)
    return None


def _fit(guess: ScheduleGuess, first: int, last: int) -> ScheduleGuess:
    """The schedule within the plan's period: `within_year` names its year when the plan
    spans several."""
    if guess.value == "within_year" and first != last:
        note = (guess.comment + "; " if guess.comment else "ĐOÁN: ") + (
            f"kế hoạch nhiều năm: ghi năm đầu {first}"
        )
        return ScheduleGuess({"within_year": first}, note, guess.understood, guess.years)
    return guess
