"""What a flow run issued, as a Prefect table artifact: the Prefect UI then shows, on the
run's page (and under the artifact's key, run after run), the documents it numbered and
wrote, the tasks it made, and its counts.

Each table has the same columns: `kind` (in Vietnamese, as the documents say it), `number`
(the document's number, or the draw's or snapshot's id), `subject` (the dossier, task,
unit or period it is about), `unit`, `file` (where it was written). A run that issued
nothing publishes one row saying so, and why. The rows are built by pure functions (tested
without Prefect); `publish` is the one call to Prefect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = ("kind", "number", "subject", "unit", "file")
_KEY = re.compile(r"[^a-z0-9-]+")

Row = dict[str, Any]


def row(kind: str, number: Any = "", subject: Any = "", unit: Any = "", file: Any = "") -> Row:
    return {
        "kind": kind,
        "number": "" if number is None else str(number),
        "subject": "" if subject is None else str(subject),
        "unit": "" if unit is None else str(unit),
        "file": "" if file is None else str(file),
    }


def key(*parts: str) -> str:
    """An artifact key (lowercase letters, digits and dashes, as Prefect requires):
    `apology-lsn-skhdt`, `report-lsn-skhdt-2024q2-reporting`."""
    return _KEY.sub("-", "-".join(parts).lower()).strip("-")[:100]


def apology_rows(result: Mapping[str, Any]) -> list[Row]:
    """An apology run: each letter (its number, dossier, HTML and DOCX files), escalation
    and reminder."""
    out = []
    for letter in result["letters"]:
        out.append(
            row(
                "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
                letter.get("number"),
                letter.get("code"),
                letter.get("unit", ""),
                letter.get("path"),
            )
        )
        if letter.get("docx"):
            out.append(
                row(
                    "Phiếu xin lỗi (DOCX)",
                    letter.get("number"),
                    letter.get("code"),
                    "",
                    letter["docx"],
                )
            )
    for r in result.get("refused", []):
        out.append(
            row(
                "Chưa phát hành phiếu xin lỗi: đơn vị chưa khai lý do chậm",
                "",
                r.get("code"),
                r.get("unit", ""),
            )
        )
    for e in result["escalations"]:
        out.append(
            row("Báo cáo lãnh đạo: quá hạn sau khi hẹn lại", "", e.get("code"), e.get("unit"))
        )
    for r in result["reminders"]:
        out.append(
            row("Nhắc việc", "", f"nhiệm vụ {r.get('task')} ({r.get('code')})", r.get("unit"))
        )
    if not out:
        why = (
            result.get("skipped")
            or f"{result.get('candidates', 0)} hồ sơ đến hạn: không có gì phải gửi"
        )
        out.append(row("Không phát hành văn bản nào", subject=why))
    return out


def apology_description(result: Mapping[str, Any], organisation: str | None) -> str:
    return (
        f"Luồng xin lỗi ngày {result['as_of']} ({organisation or 'mọi cơ quan'}): "
        f"{len(result['letters'])} phiếu xin lỗi, {len(result['escalations'])} báo cáo lãnh "
        f"đạo, {len(result['reminders'])} nhắc việc."
    )


def inspection_rows(result: Mapping[str, Any]) -> list[Row]:
    """An inspection run: the draw (its id, period, units), each unit's inspection task,
    each conclusion notice (its number, HTML and DOCX files, the fix tasks it made)."""
    if result.get("skipped"):
        return [row("Không phát hành văn bản nào", subject=result["skipped"])]
    out = [
        row(
            "Danh sách đơn vị được kiểm tra" + (" (chọn lại)" if result.get("reason") else ""),
            f"lượt chọn {result['inspection']}, lần {result.get('revision')}",
            result.get("period"),
            ", ".join(result.get("selected", [])),
        )
    ]
    for t in result.get("tasks", []):
        out.append(
            row("Nhiệm vụ kiểm tra", f"nhiệm vụ {t['task']}", result.get("period"), t["unit"])
        )
    for c in result.get("conclusions", []):
        fixes = ", ".join(str(f) for f in c.get("fix_tasks", [])) or "không"
        subject = f"nhiệm vụ {c.get('task')}; nhiệm vụ khắc phục: {fixes}"
        out.append(
            row(
                "Thông báo kết luận kiểm tra",
                c.get("number"),
                subject,
                c.get("unit"),
                c.get("html"),
            )
        )
        if c.get("docx"):
            out.append(
                row("Thông báo kết luận (DOCX)", c.get("number"), subject, c.get("unit"), c["docx"])
            )
    return out


def inspection_description(result: Mapping[str, Any]) -> str:
    if result.get("skipped"):
        return f"Luồng kiểm tra ({result.get('organisation')}): {result['skipped']}."
    return (
        f"Luồng kiểm tra {result.get('organisation')} kỳ {result.get('period')}: lượt chọn "
        f"{result.get('inspection')} ({len(result.get('selected', []))} đơn vị), "
        f"{len(result.get('conclusions', []))} thông báo kết luận."
    )


def report_rows(report: Mapping[str, Any], files: Mapping[str, str]) -> list[Row]:
    """An aggregate run: the snapshot (its number, id and revision; stored anew or asked
    again) and each of its files."""
    t = report["totals"]
    number = report.get("number") or f"báo cáo {report['snapshot']}"
    subject = (
        f"{report['organisation']['code']} kỳ {report['period']} ({report['window']['rule']}), "
        f"lần {report['revision']}" + (" (tạm tính)" if report.get("provisional") else "")
    )
    counts = (
        f"{t['tasks']} nhiệm vụ, {t['tasks_completed']} hoàn thành, "
        f"{t['tasks_overdue']} quá hạn; {t['dossiers_received']} hồ sơ"
    )
    out = [
        row(
            "Báo cáo" if report.get("created", True) else "Báo cáo (đã lưu)",
            number,
            subject,
            counts,
        )
    ]
    for kind, path in sorted(files.items()):
        out.append(row(f"Tệp báo cáo ({kind.upper()})", number, subject, "", path))
    return out


def report_description(report: Mapping[str, Any]) -> str:
    state = "lập mới" if report.get("created", True) else "đã lưu, trả lại nguyên văn"
    return (
        f"Báo cáo {report['organisation']['code']} kỳ {report['period']}, lần "
        f"{report['revision']} ({state}); mã SHA-256 {report['hash']}."
    )


# A run of the apology flow on a busy day issues 20,000 letters: a table of them all (~11 MB)
# is more than Prefect publishes as an event, and more than anyone reads on a page. The
# first rows are shown and the last one says how many more there were, and where they are.
MAX_ROWS = 500


def capped(rows: Sequence[Row]) -> list[Row]:
    """The rows, at most `MAX_ROWS`: past that, the first `MAX_ROWS - 1` and one row saying
    how many were left out (the run's JSON result has them all)."""
    if len(rows) <= MAX_ROWS:
        return list(rows)
    left = len(rows) - (MAX_ROWS - 1)
    more = row(
        f"… và {left} dòng khác",
        subject="danh sách đầy đủ: kết quả JSON của lần chạy",
    )
    return [*rows[: MAX_ROWS - 1], more]


def publish(rows: Sequence[Row], artifact_key: str, description: str) -> None:
    """The rows as a table artifact of the current flow run (`capped`)."""
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=capped(rows), key=artifact_key, description=description)
