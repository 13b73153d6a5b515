"""The periodic report rendered from its snapshot: JSON and CSV for machines, and an HTML
report in Vietnamese for people (the office sends it upward to Sở Nội vụ), with its charts
drawn as inline SVG (no script, nothing fetched from the network).

Every rendering is a pure function of the stored snapshot: the same snapshot gives the same
bytes, so a file can be checked against the snapshot whose hash the audit log holds.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment

from workflow.clock import LOCAL_TZ
from workflow.definitions.vocabulary import BY_CODE
from workflow.documents.spreadsheet import SafeWriter
from workflow.documents.vietnamese import long_date, short_date, time_and_date
from workflow.domain.periods import parse_period

STATE_NAMES = {
    "assigned": "Đã giao, chưa thực hiện",
    "in_progress": "Đang thực hiện",
    "submitted": "Đã trình, chờ duyệt",
    "verified": "Đã duyệt hoàn thành",
    "closed": "Đã đóng",
}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
RULE_TEXT = {
    "reporting": "kỳ chốt số liệu theo Nghị định số 09/2019/NĐ-CP: từ ngày 15 tháng trước kỳ "
    "đến ngày 14 tháng cuối kỳ",
    "calendar": "kỳ số liệu theo lịch dương",
}

# ----------------------------------------------------------------------------- JSON, CSV


def render_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


_ROW_COUNTS = (
    "tasks",
    *(f"state_{state}" for state in STATE_NAMES),  # the tasks in each state now
    "tasks_due",
    "tasks_started",
    "tasks_submitted",
    "tasks_returned",
    "tasks_verified",
    "tasks_closed",
    "tasks_completed",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_withdrawn",
    "tasks_open_at_end",
    "tasks_overdue",
    "tasks_due_next",
    "completion_pct",
    "on_time_pct",
    "dossiers_received",
    "dossiers_resolved",
    "dossiers_resolved_on_time",
    "dossiers_resolved_late",
    "dossiers_pending",
    "dossiers_overdue",
    "dossiers_on_time_pct",
    "apology_letters",
    "escalations",
    "inspections_done",
)
CSV_COLUMNS = (
    "snapshot",
    "organisation",
    "period",
    "window_from",
    "window_to",
    "provisional",
    "plan",
    "category",
    "index",
    "unit",
    *_ROW_COUNTS,
)


def render_csv(report: Mapping[str, Any]) -> str:
    """One row per plan × category × unit (dossiers, letters and inspections on the unit's
    row with no plan and no category); empty cells for none and for rates of nothing. Safe
    to open in a spreadsheet (`workflow.documents.spreadsheet`)."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    head = [
        report["snapshot"],
        report["organisation"]["code"],
        report["period"],
        report["window"]["from"],
        report["window"]["to"],
        "true" if report.get("provisional") else "false",
    ]
    for row in report["rows"]:
        flat = dict(row) | {f"state_{s}": n for s, n in row["tasks_by_state"].items()}
        index = BY_CODE[row["category"]].index if row["category"] in BY_CODE else None
        cells = [row["plan"], row["category"], index, row["unit"]]
        cells += [flat.get(c) for c in _ROW_COUNTS]
        writer.writerow([*head, *("" if c is None else c for c in cells)])
    return out.getvalue()


# ----------------------------------------------------------------------------- words, numbers


def period_label(key: str) -> str:
    """'quý II năm 2024', '6 tháng đầu năm 2024', 'năm 2024'."""
    period = parse_period(key)
    if period.granularity == "quarter":
        return f"quý {ROMAN[period.index]} năm {period.year}"
    if period.granularity == "half":
        return f"6 tháng {'đầu' if period.index == 1 else 'cuối'} năm {period.year}"
    return f"năm {period.year}"


def number(value: int | None) -> str:
    """1.234.567: Vietnamese groups thousands with dots."""
    return "–" if value is None else f"{value:,}".replace(",", ".")


def pct(value: float | None) -> str:
    """66,7%: Vietnamese writes a decimal comma; '–' when there was nothing to count."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",") + "%"


def _local(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(LOCAL_TZ)


# ----------------------------------------------------------------------------- charts


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None
    x: float
    y: float
    width: float
    height: float
    colour: str

    @property
    def text(self) -> str:
        return pct(self.value)


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[tuple[str, float, float, str], ...]  # text, x, y, anchor
    grid: tuple[tuple[float, float, float, float], ...]  # x1, y1, x2, y2
    legend: tuple[tuple[str, str], ...] = ()  # colour, text


BLUE, ORANGE = "#1f5fa8", "#d9822b"


def completion_chart(by_unit: Sequence[Mapping[str, Any]]) -> Chart | None:
    """Horizontal bars: each unit's completion rate (units with tasks due only)."""
    units = [u for u in by_unit if u["tasks"] and u["completion_pct"] is not None]
    if not units:
        return None
    left, bar_h, gap, top, plot_w = 190, 18, 8, 26, 380
    height = top + len(units) * (bar_h + gap) + 24
    bars: list[Bar] = []
    labels: list[tuple[str, float, float, str]] = []
    for i, u in enumerate(units):
        y = top + i * (bar_h + gap)
        name = f"{u['unit']} – {u['name']}" if u.get("name") else str(u["unit"])
        name = name if len(name) <= 30 else name[:29] + "…"
        w = plot_w * float(u["completion_pct"]) / 100
        bars.append(Bar(name, u["completion_pct"], left, y, w, bar_h, BLUE))
        labels.append((name, left - 6, y + bar_h - 5, "end"))
    marks = [(left + plot_w * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]
    grid = tuple((x, top - 6, x, height - 18) for x, _ in marks)
    labels += [(text, x, height - 6, "middle") for x, text in marks]
    return Chart(
        "Biểu đồ 1. Tỷ lệ hoàn thành nhiệm vụ theo đơn vị",
        left + plot_w + 60,
        height,
        tuple(bars),
        tuple(labels),
        grid,
    )


def on_time_chart(trend: Sequence[Mapping[str, Any]]) -> Chart | None:
    """Grouped vertical bars per quarter: tasks completed on time, dossiers resolved on time."""
    if not trend:
        return None
    left, top, plot_h, group_w, bar_w = 50, 30, 180, 110, 34
    bottom = top + plot_h
    bars: list[Bar] = []
    labels: list[tuple[str, float, float, str]] = []
    for i, q in enumerate(trend):
        x0 = left + 20 + i * group_w
        for j, (key, colour) in enumerate(
            (("on_time_pct", BLUE), ("dossiers_on_time_pct", ORANGE))
        ):
            value = q[key]
            h = 0.0 if value is None else plot_h * float(value) / 100
            bars.append(Bar(q["period"], value, x0 + j * (bar_w + 4), bottom - h, bar_w, h, colour))
        label = f"Quý {ROMAN[parse_period(q['period']).index]}"
        labels.append((label, x0 + bar_w + 2, bottom + 16, "middle"))
    right = left + 20 + len(trend) * group_w
    marks = [(bottom - plot_h * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]
    grid = tuple((left, y, right, y) for y, _ in marks)
    labels += [(text, left - 4, y + 4, "end") for y, text in marks]
    return Chart(
        "Biểu đồ 2. Tỷ lệ đúng hạn theo kỳ",
        max(right + 20, 480),  # room for the legend
        bottom + 50,
        tuple(bars),
        tuple(labels),
        grid,
        ((BLUE, "Nhiệm vụ hoàn thành đúng hạn"), (ORANGE, "Hồ sơ TTHC giải quyết đúng hạn")),
    )


# ----------------------------------------------------------------------------- HTML

_ENV = Environment(
    autoescape=True, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
)
_ENV.filters |= {
    "number": number,
    "pct": pct,
    "short_date": lambda s: short_date(dt.date.fromisoformat(s)),
    "f": lambda x: f"{float(x):.1f}",
}
TASK_COLUMNS = {
    "tasks": "Số nhiệm vụ",
    "tasks_completed": "Hoàn thành",
    "tasks_completed_on_time": "Đúng hạn",
    "tasks_completed_late": "Trễ hạn",
    "tasks_overdue": "Quá hạn",
    "tasks_due_next": "Đến hạn kỳ sau",
    "completion_pct": "Tỷ lệ hoàn thành",
}
# What was done in the period, from the audit log's moves (tasks that made each move).
MOVE_COLUMNS = {
    "tasks_started": "Bắt đầu thực hiện",
    "tasks_submitted": "Trình kết quả",
    "tasks_returned": "Bị trả lại",
    "tasks_verified": "Được duyệt",
    "tasks_closed": "Đóng",
    "tasks_withdrawn": "Dừng thực hiện",
}
INDEX_NAMES = {
    "PAPI": "Chỉ số PAPI",
    "PAR INDEX": "Chỉ số cải cách hành chính (PAR INDEX)",
    "SIPAS": "Chỉ số hài lòng (SIPAS)",
}
DOSSIER_COLUMNS = {
    "dossiers_received": "Tiếp nhận",
    "dossiers_resolved": "Đã giải quyết",
    "dossiers_resolved_on_time": "Đúng hạn",
    "dossiers_resolved_late": "Trễ hạn",
    "dossiers_pending": "Đang giải quyết",
    "dossiers_overdue": "Quá hạn",
    "apology_letters": "Phiếu xin lỗi",
    "escalations": "Báo cáo lãnh đạo",
    "dossiers_on_time_pct": "Tỷ lệ đúng hạn",
}
TREND_COLUMNS = {
    "tasks_completed": "Nhiệm vụ hoàn thành",
    "tasks_completed_on_time": "Đúng hạn",
    "on_time_pct": "Tỷ lệ",
    "dossiers_resolved": "Hồ sơ đã giải quyết",
    "dossiers_resolved_on_time": "Đúng hạn",
    "dossiers_on_time_pct": "Tỷ lệ",
}

# The page itself is a template file beside this module (`templates/report.html`), so that
# its layout reads (and can be edited) as HTML; same template, same bytes.
_HTML = _ENV.from_string(
    (resources.files("workflow.documents") / "templates" / "report.html").read_text("utf-8")
)


def render_html(report: Mapping[str, Any]) -> str:
    """The report in Vietnamese, for people; figures as the snapshot holds them."""
    generated = _local(report["generated_at"])
    inspected = [u["name"] or u["unit"] for u in report["by_unit"] if u.get("inspected")]
    return _HTML.render(
        r=report,
        label=period_label(report["period"]),
        issued=long_date(dt.date.fromisoformat(report["as_of"])),
        generated=time_and_date(generated),
        rule_text=RULE_TEXT.get(report["window"]["rule"], report["window"]["rule"]),
        states=STATE_NAMES,
        completion=completion_chart(report["by_unit"]),
        on_time=on_time_chart(report["trend"]),
        inspected=inspected,
        task_columns=list(TASK_COLUMNS),
        task_titles=list(TASK_COLUMNS.values()),
        move_columns=list(MOVE_COLUMNS),
        move_titles=list(MOVE_COLUMNS.values()),
        index_names=INDEX_NAMES,
        next_label=period_label(report["next_period"]["period"])
        if report.get("next_period")
        else "kỳ sau",
        dossier_columns=list(DOSSIER_COLUMNS),
        dossier_titles=list(DOSSIER_COLUMNS.values()),
        trend_columns=list(TREND_COLUMNS),
        trend_titles=list(TREND_COLUMNS.values()),
        quarter=lambda key: f"Quý {ROMAN[parse_period(key).index]}/{parse_period(key).year}",
    )
