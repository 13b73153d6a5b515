"""The periodic report rendered from its snapshot: JSON and CSV for machines, and an HTML
report in Vietnamese for people (the office sends it upward to Sở Nội vụ), with its charts
drawn as inline SVG (no script, nothing fetched from the network).

Every rendering is a pure function of the stored snapshot: the same snapshot gives the same
bytes, so a file can be checked against the snapshot whose hash the audit log holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from workflow.clock import LOCAL_TZ
from workflow.documents.vietnamese import long_date, short_date, time_and_date
from workflow.domain.sampling import parse_period

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
    *(f"tasks_{state}" for state in STATE_NAMES),
    "tasks_completed",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_overdue",
    "tasks_returned",
    "tasks_withdrawn",
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
    "plan",
    "category",
    "unit",
    *_ROW_COUNTS,
)


def render_csv(report: Mapping[str, Any]) -> str:
    """One row per plan × category × unit (dossiers, letters and inspections on the unit's
    row with no plan and no category); empty cells for none and for rates of nothing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [
        report["snapshot"],
        report["organisation"]["code"],
        report["period"],
        report["window"]["from"],
        report["window"]["to"],
    ]
    for row in report["rows"]:
        flat = dict(row) | {f"tasks_{s}": n for s, n in row["tasks_by_state"].items()}
        cells = [row["plan"], row["category"], row["unit"], *(flat[c] for c in _ROW_COUNTS)]
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
    "tasks_returned": "Bị trả lại",
    "completion_pct": "Tỷ lệ hoàn thành",
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

_HTML = _ENV.from_string(
    """{% macro chart(c) %}
<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ c.width }}" height="{{ c.height }}"
     viewBox="0 0 {{ c.width }} {{ c.height }}" role="img" aria-label="{{ c.title }}"
     font-family="Times New Roman, serif" font-size="12">
{% for x1, y1, x2, y2 in c.grid %}
<line x1="{{ x1 | f }}" y1="{{ y1 | f }}" x2="{{ x2 | f }}" y2="{{ y2 | f }}" stroke="#ccc"/>
{% endfor %}
{% for b in c.bars %}
<rect x="{{ b.x | f }}" y="{{ b.y | f }}" width="{{ b.width | f }}" height="{{ b.height | f }}"
      fill="{{ b.colour }}"><title>{{ b.label }}: {{ b.text }}</title></rect>
{% endfor %}
{% for text, x, y, anchor in c.labels %}
<text x="{{ x | f }}" y="{{ y | f }}" text-anchor="{{ anchor }}">{{ text }}</text>
{% endfor %}
{% for b in c.bars %}
{% if c.legend %}
<text x="{{ (b.x + b.width / 2) | f }}" y="{{ (b.y - 3) | f }}" text-anchor="middle"
      font-size="10">{{ b.text }}</text>
{% else %}
<text x="{{ (b.x + b.width + 4) | f }}" y="{{ (b.y + b.height - 5) | f }}"
      font-size="10">{{ b.text }}</text>
{% endif %}
{% endfor %}
{% for colour, text in c.legend %}
<rect x="{{ 20 + loop.index0 * 210 }}" y="6" width="12" height="12" fill="{{ colour }}"/>
<text x="{{ 36 + loop.index0 * 210 }}" y="16">{{ text }}</text>
{% endfor %}
</svg>
<figcaption>{{ c.title }}</figcaption>
</figure>
{% endmacro %}
{% macro cells(x, names) %}
{% for name in names %}
<td class="n">{{ x[name] | pct if name.endswith("_pct") else x[name] | number }}</td>
{% endfor %}
{% endmacro %}
{% macro heads(titles) %}{% for title in titles %}<th>{{ title }}</th>{% endfor %}{% endmacro %}
<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Báo cáo {{ label }} – {{ r.organisation.name }}</title>
<style>
  body { font-family: "Times New Roman", serif; max-width: 190mm; margin: 10mm auto;
         font-size: 13pt; line-height: 1.35; color: #000; }
  .head { display: flex; justify-content: space-between; text-align: center; }
  .head div { width: 48%; }
  h1 { font-size: 14pt; text-align: center; margin: 8mm 0 0; }
  h2 { font-size: 13pt; margin: 6mm 0 2mm; }
  .subtitle { text-align: center; font-weight: bold; margin: 0 0 4mm; }
  .to { text-align: center; margin-bottom: 4mm; }
  table { border-collapse: collapse; width: 100%; font-size: 11pt; margin: 2mm 0 4mm; }
  th, td { border: 1px solid #000; padding: 1mm 1.5mm; }
  th { background: #eee; } td.n { text-align: right; white-space: nowrap; }
  .note { font-style: italic; } .warn { border: 1px solid #000; padding: 2mm; }
  figure { margin: 4mm 0; text-align: center; } figcaption { font-style: italic; }
  .sign { display: flex; justify-content: space-between; margin-top: 8mm; }
  .sign .to-list { width: 45%; font-size: 11pt; } .sign .who { width: 45%; text-align: center; }
  .proof { font-size: 10pt; color: #333; margin-top: 12mm; border-top: 1px solid #999;
           padding-top: 2mm; word-break: break-all; }
</style>
</head>
<body>
<div class="head">
  <div><strong>{{ r.organisation.name | upper }}</strong><br>
  Số: ......./BC-{{ r.office_unit }}</div>
  <div><strong>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</strong><br>
  <u>Độc lập - Tự do - Hạnh phúc</u><br>
  <em>{{ r.organisation.province }}, {{ issued }}</em></div>
</div>
<h1>BÁO CÁO</h1>
<p class="subtitle">Kết quả thực hiện kế hoạch cải cách hành chính {{ label }}</p>
<p class="to">Kính gửi: Sở Nội vụ tỉnh {{ r.organisation.province }}.</p>
<p>Số liệu từ ngày {{ r.window.from | short_date }} đến ngày {{ r.window.to | short_date }}
({{ rule_text }}), tính đến {{ generated }}.</p>
{% if r.provisional %}
<p class="warn">Số liệu tạm tính: kỳ số liệu chưa kết thúc tại thời điểm lập báo cáo.</p>
{% endif %}
{% if r.previous %}
<p class="warn">Báo cáo này (lần lập thứ {{ r.revision }}) thay thế báo cáo số hiệu
{{ r.previous.snapshot }}. Lý do lập lại: {{ r.reason }}.</p>
{% endif %}

<h2>I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ</h2>
{% set t = r.totals %}
<p>Trong kỳ có <strong>{{ t.tasks | number }}</strong> nhiệm vụ đến hạn. Đã hoàn thành
{{ t.tasks_completed | number }} nhiệm vụ, đạt {{ t.completion_pct | pct }} (đúng hạn
{{ t.tasks_completed_on_time | number }}, trễ hạn {{ t.tasks_completed_late | number }}; tỷ lệ
đúng hạn {{ t.on_time_pct | pct }}); {{ t.tasks_overdue | number }} nhiệm vụ quá hạn chưa hoàn
thành; {{ t.tasks_returned | number }} nhiệm vụ phải làm lại ít nhất một lần;
{{ t.tasks_withdrawn | number }} nhiệm vụ dừng thực hiện.</p>
<p><strong>1. Tình trạng các nhiệm vụ</strong></p>
<table>
<tr><th>Tình trạng</th><th>Số nhiệm vụ</th></tr>
{% for state, name in states.items() %}
<tr><td>{{ name }}</td><td class="n">{{ t.tasks_by_state[state] | number }}</td></tr>
{% endfor %}
<tr><th>Tổng số</th><td class="n"><strong>{{ t.tasks | number }}</strong></td></tr>
</table>
<p><strong>2. Theo kế hoạch</strong></p>
<table>
<tr><th>Kế hoạch</th>{{ heads(task_titles) }}</tr>
{% for p in r.by_plan %}
<tr><td>
{% if p.plan %}
{{ p.title }} <em>({{ p.plan }}, phiên bản {{ p.version }})</em>
{% else %}
Nhiệm vụ ngoài kế hoạch (khắc phục sau kiểm tra)
{% endif %}
</td>
{{ cells(p, task_columns) }}</tr>
{% else %}
<tr><td colspan="8" class="note">Không có nhiệm vụ đến hạn trong kỳ.</td></tr>
{% endfor %}
</table>
<p><strong>3. Theo nhóm chỉ số</strong></p>
<table>
<tr><th>Chỉ số</th><th>Nội dung</th>{{ heads(task_titles) }}</tr>
{% for c in r.by_category %}
<tr><td>{{ c.index or "" }}</td><td>{{ c.name or c.category or "Chưa phân nhóm" }}</td>
{{ cells(c, task_columns) }}</tr>
{% else %}
<tr><td colspan="9" class="note">Không có nhiệm vụ đến hạn trong kỳ.</td></tr>
{% endfor %}
</table>
<p><strong>4. Theo đơn vị chủ trì</strong></p>
<table>
<tr><th>Đơn vị</th>{{ heads(task_titles) }}</tr>
{% for u in r.by_unit if u.tasks %}
<tr><td>{{ u.name or u.unit }}</td>
{{ cells(u, task_columns) }}</tr>
{% else %}
<tr><td colspan="8" class="note">Không có nhiệm vụ đến hạn trong kỳ.</td></tr>
{% endfor %}
</table>
{% if completion %}
{{ chart(completion) }}
{% endif %}

<h2>II. GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH</h2>
<p>Trong kỳ tiếp nhận <strong>{{ t.dossiers_received | number }}</strong> hồ sơ; đã giải
quyết {{ t.dossiers_resolved | number }} hồ sơ, trong đó đúng hạn
{{ t.dossiers_resolved_on_time | number }} (đạt {{ t.dossiers_on_time_pct | pct }}), trễ hạn
{{ t.dossiers_resolved_late | number }}; đang giải quyết {{ t.dossiers_pending | number }} hồ sơ
({{ t.dossiers_overdue | number }} hồ sơ đã quá hạn). Đã gửi {{ t.apology_letters | number }}
phiếu xin lỗi và hẹn lại ngày trả kết quả; {{ t.escalations | number }} hồ sơ quá hạn sau khi
hẹn lại đã báo cáo lãnh đạo.</p>
<table>
<tr><th>Đơn vị giải quyết</th>{{ heads(dossier_titles) }}</tr>
{% for u in r.by_unit if u.dossiers_received or u.apology_letters or u.escalations %}
<tr><td>{{ u.name or u.unit or "Không rõ đơn vị" }}</td>
{{ cells(u, dossier_columns) }}</tr>
{% else %}
<tr><td colspan="10" class="note">Không có hồ sơ trong kỳ.</td></tr>
{% endfor %}
</table>

<h2>III. CÔNG TÁC KIỂM TRA CẢI CÁCH HÀNH CHÍNH</h2>
<p>Trong kỳ đã hoàn thành {{ t.inspections_done | number }} cuộc kiểm tra tại
{{ t.units_inspected | number }}/{{ t.units_inspectable | number }} phòng, đơn vị thuộc diện
kiểm tra, đạt {{ t.inspection_coverage_pct | pct }}.
{% if inspected %}
Đơn vị đã được kiểm tra: {{ inspected | join(", ") }}.
{% endif %}
</p>

<h2>IV. TỶ LỆ ĐÚNG HẠN THEO KỲ</h2>
<table>
<tr><th>Kỳ</th><th>Từ ngày</th><th>Đến ngày</th>{{ heads(trend_titles) }}</tr>
{% for q in r.trend %}
<tr><td>{{ quarter(q.period) }}</td><td>{{ q.from | short_date }}</td>
<td>{{ q.to | short_date }}</td>
{{ cells(q, trend_columns) }}</tr>
{% endfor %}
</table>
{% if on_time %}
{{ chart(on_time) }}
{% endif %}

<div class="sign">
  <div class="to-list"><strong><em>Nơi nhận:</em></strong><br>
  - Sở Nội vụ tỉnh {{ r.organisation.province }};<br>
  - Lưu: VT, {{ r.office_unit }}.</div>
  <div class="who"><strong>THỦ TRƯỞNG CƠ QUAN</strong><br>
  <em>(Ký, ghi rõ họ tên và đóng dấu)</em></div>
</div>
<p class="proof">Thông tin xác thực: báo cáo số hiệu {{ r.snapshot }}, lần lập thứ
{{ r.revision }}, lập lúc {{ generated }} bởi {{ r.generated_by }}.
{% if r.plans %}
Căn cứ số liệu:
{% for p in r.plans %}
{{ p.id }} (phiên bản {{ p.version }}){{ "; " if not loop.last else "." }}
{% endfor %}
{% endif %}
Mã SHA-256 của nội dung báo cáo (ghi trong nhật ký kiểm toán): {{ r.hash }}.</p>
</body>
</html>
"""
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
        dossier_columns=list(DOSSIER_COLUMNS),
        dossier_titles=list(DOSSIER_COLUMNS.values()),
        trend_columns=list(TREND_COLUMNS),
        trend_titles=list(TREND_COLUMNS.values()),
        quarter=lambda key: f"Quý {ROMAN[parse_period(key).index]}/{parse_period(key).year}",
    )
