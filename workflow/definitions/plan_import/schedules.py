"""Vietnamese schedule words ("Thường xuyên", "Quý II/2024", "Trước 30/6/2024") as a plan
file's `schedule` value, with a Vietnamese comment saying what was guessed and why.

Pure: no file, no organisation. The words are matched without diacritics, so that text
OCR'd from a scan ("Trong nam 2023", "Thuong xuyen") reads like the typed original.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# A plan file's schedule: "continuous", "within_year" (the plan's year), {"within_year": Y},
# {"periodic": "quarterly" | "half_yearly" | "yearly"}, {"by": date} or {"per": MONTHLY}.
ScheduleValue = str | dict[str, object]

MIN_YEAR, MAX_YEAR = 1990, 2100
MONTHLY = "hang-thang"  # the named schedule "Hằng tháng": the last day of every month


def month_ends(first: int, last: int) -> list[dt.date]:
    """The last day of each month from January of `first` to December of `last`."""
    return [_last_day(y, m) for y in range(first, last + 1) for m in range(1, 13)]


@dataclass(frozen=True)
class ScheduleGuess:
    value: ScheduleValue
    # What was guessed and why, in Vietnamese; None when the words say exactly this value.
    comment: str | None = None
    understood: bool = True  # False: the words were not understood (a fallback was written)
    years: tuple[int, ...] = ()  # years the words name: the plan's period must cover them


def plain(text: str) -> str:
    """Lower case, no diacritics (đ as d), single spaces: how words are compared."""
    text = text.replace("đ", "d").replace("Đ", "D")
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    )
    return " ".join(stripped.lower().split())


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_YEAR = r"((?:19|20)\d\d)"
_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?(?![\d/])")
_Q = r"(?:iv|iii|ii|i|[1-4])"
# "Quý II/2024", "Quý IV năm 2024", and several: "Quý I, II", "Quý II và quý III/2024".
_QUARTER = re.compile(
    r"\bquy\s*(" + _Q + r"(?:\s*(?:,|va|-|den)\s*(?:quy\s*)?" + _Q + r"\b)*)\b"
    r"(?:\s*(?:/|nam|-)\s*" + _YEAR + ")?"
)
_MONTH = re.compile(r"\bthang\s*(\d{1,2})\s*(?:/|nam|-)\s*" + _YEAR)
# "ngày 15 tháng 6 năm 2024": a date in words, as formal text writes it.
_WORDED = re.compile(r"\bngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\b(?:\s*(?:nam|/|-)\s*" + _YEAR + ")?")
# "6/2024", "06/2024": a month and its year, no day.
_MONTH_YEAR = re.compile(r"(?<![\d/.])(\d{1,2})\s*[/.-]\s*" + _YEAR + r"(?![\d/.])")
_MONTH_ALONE = re.compile(r"\bthang\s*(\d{1,2})\b(?!\s*[/.-]?\s*\d)")
_SPAN = re.compile(_YEAR + r"\s*-\s*" + _YEAR)
_YEAR_ONLY = re.compile(r"(?<!\d)" + _YEAR + r"(?!\d)")
# "Trong năm" as OCR reads it: "trong nam", "trong nim", "trongnam", "trong ndm".
_WITHIN = re.compile(r"\b(?:trong\s*n\w{0,2}m|ca nam|nam)\b")


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _year_of(written: str | None, default: int | None) -> tuple[int | None, bool]:
    """The year written (two digits: 20YY), else the default: (year, was it written)."""
    if written is None:
        return default, False
    year = int(written)
    return (2000 + year if year < 100 else year), True


def read_schedule(text: str | None, year: int | None = None) -> ScheduleGuess:
    """`text` (a cell of the plan's schedule column) as a schedule. `year`: the plan's year,
    for words that name no year ("Trước 30/6", "6 tháng đầu năm")."""
    if text is None or not text.strip():
        return ScheduleGuess(
            "continuous",
            "ĐOÁN: kế hoạch không ghi thời gian; tạm ghi thường xuyên (continuous)",
            understood=False,
        )
    words = plain(text)
    quoted = f"«{' '.join(text.split())}»"
    for reader in (_recurring, _dated, _yearly, _loose):
        found = reader(words, quoted, year)
        if found is not None:
            return found
    return ScheduleGuess(
        "continuous",
        f"KHÔNG HIỂU: {quoted} không đọc được thành thời hạn; tạm ghi thường xuyên "
        "(continuous). Sửa lại: continuous, within_year, {by: YYYY-MM-DD} hoặc "
        "{periodic: quarterly|half_yearly|yearly}",
        understood=False,
    )


def _recurring(words: str, quoted: str, year: int | None) -> ScheduleGuess | None:
    if re.search(r"\b(thuong xuyen|lien tuc|hang ngay|hang tuan)\b", words):
        weekly = re.search(r"\b(hang ngay|hang tuan)\b", words)
        note = (
            f"ĐOÁN: {quoted}: công việc lặp lại liên tục, ghi là thường xuyên (continuous)"
            if weekly
            else None
        )
        return ScheduleGuess("continuous", note)
    if re.search(r"\b(khi|neu) (co )?(phat sinh|yeu cau|can thiet|can)\b|\bdot xuat\b", words):
        return ScheduleGuess(
            "continuous",
            f"ĐOÁN: {quoted}: làm khi có việc, không có hạn riêng; ghi là thường xuyên "
            "(continuous)",
        )
    if re.search(r"\bbao cao 6 thang\b", words):
        return ScheduleGuess(
            {"periodic": "half_yearly"},
            f"ĐOÁN: {quoted}: báo cáo 6 tháng và báo cáo năm: mỗi nửa năm một nhiệm vụ "
            "(half_yearly); các ngày gửi báo cáo giữ trong schedule_text",
        )
    if re.search(r"\b(hang|moi) thang\b", words):
        # No periodic form is monthly: a named schedule of month ends, which build.py declares
        # in the plan's `schedules` (one task per month of the plan's period).
        return ScheduleGuess(
            {"per": MONTHLY},
            f"ĐOÁN: {quoted}: mỗi tháng một nhiệm vụ, hạn là ngày cuối tháng (lịch "
            f"«{MONTHLY}» khai báo trong schedules ở đầu tệp)",
        )
    if re.search(r"\b(hang|moi) quy\b|\bquy mot lan\b|\bdinh ky quy\b", words):
        return ScheduleGuess({"periodic": "quarterly"})
    if re.search(r"\b6 thang\s*(/|mot)\s*lan\b|\b(hang|moi|dinh ky) 6 thang\b|\bnua nam\b", words):
        return ScheduleGuess({"periodic": "half_yearly"})
    if re.search(r"\b(hang|moi) nam\b|\bdinh ky (hang )?nam\b|\bnam mot lan\b", words):
        return ScheduleGuess({"periodic": "yearly"})
    if re.search(r"\bdinh ky\b", words) and not _DATE.search(words):
        return ScheduleGuess(
            {"periodic": "quarterly"},
            f"ĐOÁN: {quoted} không ghi chu kỳ; tạm ghi hằng quý. Sửa nếu kế hoạch định kỳ "
            "6 tháng (half_yearly) hoặc hằng năm (yearly)",
        )
    return None


def _by(day: dt.date, note: str | None) -> ScheduleGuess:
    return ScheduleGuess({"by": day}, note, years=(day.year,))


def _dated(words: str, quoted: str, year: int | None) -> ScheduleGuess | None:
    half = re.search(r"\b6 thang (dau|cuoi) nam\b(?:\s*" + _YEAR + ")?", words)
    if half:
        at, written = _year_of(half.group(2) or _first_year(words), year)
        if at is None:
            return None
        ends = 6 if half.group(1) == "dau" else 12
        why = "hết 6 tháng đầu năm" if ends == 6 else "hết năm"
        return _by(
            _last_day(at, ends),
            f"ĐOÁN: {quoted}: hạn là ngày cuối của kỳ ({why})"
            + ("" if written else f"; năm {at} theo kỳ kế hoạch"),
        )
    quarter = _QUARTER.search(words)
    if quarter:
        named = re.findall(_Q, quarter.group(1).replace("quy", " "))
        number = ROMAN.get(named[-1]) or int(named[-1])
        at, written = _year_of(quarter.group(2), year)
        if at is None:
            return None
        return _by(
            _last_day(at, 3 * number),
            f"ĐOÁN: {quoted}: hạn là ngày cuối quý {number}"
            + ("" if len(named) == 1 else " (quý cuối cùng ghi)")
            + ("" if written else f"; năm {at} theo kỳ kế hoạch"),
        )
    worded = _WORDED.search(words)
    if worded:
        # The same as "15/6/2024": read by the date rule below.
        day, mon, at_year = worded.group(1), worded.group(2), worded.group(3)
        words = words.replace(worded.group(0), f"{day}/{mon}" + (f"/{at_year}" if at_year else ""))
    month = _MONTH.search(words) or _MONTH_YEAR.search(words)
    if month and 1 <= int(month.group(1)) <= 12:
        at = int(month.group(2))
        return _by(_last_day(at, int(month.group(1))), f"ĐOÁN: {quoted}: hạn là ngày cuối tháng")
    alone = _MONTH_ALONE.search(words)
    if alone and 1 <= int(alone.group(1)) <= 12 and year is not None and not _DATE.search(words):
        return _by(
            _last_day(year, int(alone.group(1))),
            f"ĐOÁN: {quoted}: hạn là ngày cuối tháng; năm {year} theo kỳ kế hoạch",
        )
    date = _DATE.search(words)
    if date:
        day, mon = int(date.group(1)), int(date.group(2))
        at, written = _year_of(date.group(3), year)
        if at is None:
            return None
        if not (MIN_YEAR <= at <= MAX_YEAR and 1 <= mon <= 12 and 1 <= day <= 31) or (
            day > _last_day(at, mon).day
        ):
            return ScheduleGuess(
                "continuous",
                f"KHÔNG HIỂU: {quoted}: ngày {date.group(0)} không có; tạm ghi thường xuyên "
                "(continuous). Sửa thành {by: YYYY-MM-DD}",
                understood=False,
            )
        several = len(_DATE.findall(words)) > 1
        notes = []
        if not written:
            notes.append(f"năm {at} theo kỳ kế hoạch")
        if several:
            notes.append("có nhiều ngày: lấy ngày đầu tiên")
        if not re.search(r"\b(truoc|cham nhat|den|han)\b", words):
            notes.append("lấy ngày ghi làm hạn hoàn thành")
        note = f"ĐOÁN: {quoted}: " + "; ".join(notes) if notes else None
        return _by(dt.date(at, mon, day), note)
    return None


def _first_year(words: str) -> str | None:
    found = _YEAR_ONLY.search(words)
    return found.group(1) if found else None


def _yearly(words: str, quoted: str, year: int | None) -> ScheduleGuess | None:
    span = _SPAN.search(words)
    if span:
        first, last = int(span.group(1)), int(span.group(2))
        if first <= last:
            return ScheduleGuess(
                {"by": dt.date(last, 12, 31)},
                f"ĐOÁN: {quoted}: giai đoạn {first}-{last}; hạn là cuối giai đoạn",
                years=(first, last),
            )
    found = _YEAR_ONLY.search(words)
    if found and _WITHIN.search(words):
        at = int(found.group(1))
        # "Trong năm 2023": the words say the year; `within_year` is exact.
        return ScheduleGuess({"within_year": at}, years=(at,))
    if found and re.search(r"\b(truoc|den|cham nhat|hoan thanh)\b", words):
        at = int(found.group(1))
        return ScheduleGuess(
            {"by": dt.date(at, 12, 31)},
            f"ĐOÁN: {quoted}: không ghi ngày; hạn là cuối năm {at}",
            years=(at,),
        )
    if _WITHIN.search(words) and not found:
        return ScheduleGuess(
            "within_year",
            None if re.search(r"\btrong\s*n\w{0,2}m\b", words) else f"ĐOÁN: {quoted}: trong năm",
        )
    return None


def _loose(words: str, quoted: str, year: int | None) -> ScheduleGuess | None:
    if re.search(r"\btheo (ke hoach|quy dinh|yeu cau|chi dao|tien do|thoi gian)\b", words):
        return ScheduleGuess(
            "within_year",
            f"ĐOÁN: {quoted}: không ghi ngày; tạm lấy hạn cuối năm của kế hoạch. Nếu theo một "
            "kế hoạch, văn bản khác, khai báo lịch đó trong schedules và ghi {per: ...}",
        )
    found = _YEAR_ONLY.search(words)
    if found:
        at = int(found.group(1))
        return ScheduleGuess(
            {"within_year": at},
            f"ĐOÁN: {quoted}: chỉ ghi năm {at}; ghi là trong năm {at}",
            years=(at,),
        )
    return None
