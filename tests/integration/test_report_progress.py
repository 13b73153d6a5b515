"""A report shows the progress of the seed plans (definitions/), and the province rolls the
agencies up, on SQLite and PostgreSQL.

The seed plans are loaded on 02/01/2024 (the Lạng Sơn plan runs the whole of 2024, its
tasks due 31/12 or at the half-year; the Quảng Nam plans are of 2023 and 2021-2025). Then,
in Lạng Sơn (LSN-SKHDT):

- II.1 (VP) is started 10/05, submitted 20/05, verified 21/05: all in 2024Q2's reporting
  window (15/03 to 14/06), on time (due at the year's end);
- II.2 (VP) is started 20/06: in 2024Q3's window, not in 2024Q2's;
- II.3 (TTR) is started, submitted and verified in March, before 15/03: done before 2024Q2;
- II.4 (TTR) is withdrawn on 02/03: closed before 2024Q2.

What a report should count is computed here from the plan files themselves (YAML read
directly: one task per row, a periodic row one per period of the plan's year), never from
the report's SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.province import HOME_AFFAIRS
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move
from workflow.domain.principals import Channel, Principal
from workflow.errors import InvalidInput, PermissionDenied
from workflow.services import Context, reports
from workflow.services import access as access_service
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
LSN, QNA = "LSN-SKHDT", "QNA-BQLKKT"
VP_STAFF, VP_OFFICE = "lsn.vp.luong-thi-thu", "lsn.vp.hoang-van-nam"
TTR_STAFF, AUDITOR = "lsn.ttr.lang-thi-mai", "lsn.vp.chu-thi-hanh"
PER_YEAR = {"quarterly": 4, "half_yearly": 2}


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, 0, tzinfo=LOCAL_TZ)


def from_files(folder: Path) -> list[dict[str, Any]]:
    """The tasks the plan files of `folder` make, read as YAML: (code, lead unit, index)."""
    out = []
    for path in sorted((folder / "plans").glob("*.yaml")):
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
        for row in plan["tasks"]:
            schedule = row.get("schedule")
            periodic = schedule.get("periodic") if isinstance(schedule, dict) else None
            category = row.get("category")
            index = BY_CODE[category].index if category in BY_CODE else None
            for _ in range(PER_YEAR.get(str(periodic), 1)):
                out.append({"code": row["code"], "unit": row["lead_unit"], "index": index})
    return out


@pytest.fixture
def seeded(ctx: Context, tmp_path: Path) -> tuple[Context, dict[str, int]]:
    """The seed definitions and the Department of Home Affairs (oversees all), loaded on
    02/01/2024; the Lạng Sơn moves above made. Returns LSN's task ids by code."""
    clock: FixedClock = ctx.clock  # type: ignore[assignment]
    clock.set(at(1, 2))
    snv = tmp_path / "snv"
    snv.mkdir()
    (snv / "organisation.yaml").write_text(
        yaml.safe_dump(HOME_AFFAIRS, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    found, problems = validate([DEFINITIONS, snv], org_service.known_organisations(ctx))
    assert problems == []
    plan_service.load(ctx, found)
    ids = {
        t.code: t.id
        for t in task_service.list_tasks(ctx, TaskFilter(plan="lsn-skhdt-papi-2024"))
        if t.code in ("II.1", "II.2", "II.3", "II.4")
    }
    for when, code, move, who, note in (
        (at(3, 1), "II.3", Move.START, TTR_STAFF, None),
        (at(3, 2), "II.4", Move.WITHDRAW, VP_OFFICE, "Gộp vào nhiệm vụ II.3"),
        (at(3, 5), "II.3", Move.SUBMIT, TTR_STAFF, "Đã công khai kết quả"),
        (at(3, 10), "II.3", Move.VERIFY, VP_OFFICE, None),
        (at(5, 10), "II.1", Move.START, VP_STAFF, None),
        (at(5, 20), "II.1", Move.SUBMIT, VP_STAFF, "Đã tổ chức hội nghị"),
        (at(5, 21), "II.1", Move.VERIFY, VP_OFFICE, None),
        (at(6, 20), "II.2", Move.START, VP_STAFF, None),
    ):
        clock.set(when)
        task_service.move(ctx, ids[code], move, who, note=note)
    clock.set(at(7, 1))
    return ctx, ids


def ask(ctx: Context, org: str, period: str = "2024Q2", rule: str = "reporting") -> Any:
    return reports.generate(ctx, reports.Request(org, period, rule)).report


def test_the_q2_report_lists_every_open_task_of_the_seed_plans(
    seeded: tuple[Context, dict[str, int]],
) -> None:
    ctx, _ = seeded
    for org, folder, left_out in (
        (LSN, DEFINITIONS / "lang-son-skhdt", {"II.3", "II.4"}),  # done, withdrawn before
        (QNA, DEFINITIONS / "quang-nam-bqlkkt", set()),
    ):
        expected = [t for t in from_files(folder) if t["code"] not in left_out]
        r = ask(ctx, org)
        t = r["totals"]
        assert (r["provisional"], t["tasks"]) == (False, len(expected)), org
        by_unit = {u["unit"]: u["tasks"] for u in r["by_unit"] if u["tasks"]}
        assert by_unit == dict(Counter(x["unit"] for x in expected)), org
        by_index = {i["index"]: i["tasks"] for i in r["by_index"]}
        assert by_index == dict(Counter(x["index"] for x in expected)), org
        # Overdue at the window's end (15/06): open, and due before it, as the tasks say.
        due_before = [
            x
            for x in task_service.list_tasks(ctx, TaskFilter(organisation=org))
            if x.kind == "plan"
            and x.code not in left_out
            and x.state.value in ("assigned", "in_progress", "submitted")
            and x.due_date is not None
            and x.due_date < dt.date(2024, 6, 15)
        ]
        assert t["tasks_overdue"] == len(due_before), org
        assert t["tasks_open_at_end"] + t["tasks_completed"] + t["tasks_withdrawn"] == t["tasks"]
    lsn = ask(ctx, LSN)
    # The Lạng Sơn plan's 9 tasks (8 rows, III.2 half-yearly) but II.3 and II.4: 7, not the
    # 1 a count of the tasks due in the quarter gave.
    assert lsn["totals"]["tasks"] == 7
    assert lsn["plans"][0]["id"] == "lsn-skhdt-papi-2024"
    assert (lsn["totals"]["tasks_completed"], lsn["totals"]["tasks_completed_on_time"]) == (1, 1)
    vp = next(u for u in lsn["by_unit"] if u["unit"] == "VP")
    # VP leads II.1, II.2, II.5, II.6, II.7 and both III.2; TTR the withdrawn and done ones.
    assert (vp["tasks"], vp["tasks_started"], vp["tasks_verified"]) == (7, 1, 1)
    assert not any(u["tasks"] for u in lsn["by_unit"] if u["unit"] != "VP")


def test_moves_count_in_the_period_they_were_made_in_and_not_the_next(
    seeded: tuple[Context, dict[str, int]],
) -> None:
    ctx, _ = seeded
    moved = ("tasks_started", "tasks_submitted", "tasks_verified", "tasks_withdrawn")
    q1, q2, q3 = (ask(ctx, LSN, p)["totals"] for p in ("2024Q1", "2024Q2", "2024Q3"))
    # Q1 (15/12/2023-14/03): II.3 started, submitted, verified; II.4 withdrawn; all 9 open.
    assert (q1["tasks"], *(q1[k] for k in moved)) == (9, 1, 1, 1, 1)
    # Q2: II.1's three moves; II.3 and II.4, finished before it began, are not listed.
    assert (q2["tasks"], *(q2[k] for k in moved)) == (7, 1, 1, 1, 0)
    # Q3 (from 15/06, still open on 01/07): II.2's start only; II.1, done in Q2, has left.
    assert (q3["tasks"], *(q3[k] for k in moved)) == (6, 1, 0, 0, 0)
    assert q3["tasks_completed"] == 0


def test_provisional_while_the_window_is_open_final_after(
    seeded: tuple[Context, dict[str, int]], tmp_path: Path
) -> None:
    ctx, _ = seeded
    q3 = ask(ctx, LSN, "2024Q3")  # asked 01/07: the window runs to 14/09
    assert q3["provisional"] is True
    assert q3["next_period"]["period"] == "2024Q4"
    files = reports.write_files(q3, tmp_path)
    html = Path(files["html"]).read_text(encoding="utf-8")
    assert "(số liệu tạm tính)" in html and "Số liệu tạm tính" in html
    assert "Đến thời điểm lập báo cáo còn" in " ".join(html.split())
    csv_lines = Path(files["csv"]).read_text(encoding="utf-8-sig").splitlines()
    header = csv_lines[0].split(",")
    assert {line.split(",")[header.index("provisional")] for line in csv_lines[1:]} == {"true"}
    assert ask(ctx, LSN, "2024Q2")["provisional"] is False  # closed on 14/06
    clock: FixedClock = ctx.clock  # type: ignore[assignment]
    clock.set(at(9, 15))  # the day after Q3's window: a new report of it is final
    again = reports.generate(
        ctx, reports.Request(LSN, "2024Q3", revise=True, reason="Số liệu cuối kỳ")
    ).report
    assert again["provisional"] is False
    assert "tạm tính" not in reports.document.render_html(again)


def test_the_province_roll_up_ranks_every_agency_by_on_time_rate(
    seeded: tuple[Context, dict[str, int]],
) -> None:
    ctx, _ = seeded
    home_affairs = access_service.access_of(ctx, Principal("snv.auditor", Channel.CLI))
    rolled = reports.province(ctx, "2024Q2", access=home_affairs)
    assert (rolled["period"], rolled["provisional"]) == ("2024Q2", False)
    rows = {r["organisation"]: r for r in rolled["organisations"]}
    assert [r["organisation"] for r in rolled["organisations"]] == [LSN, QNA, "SNV"]
    for org in (LSN, QNA):  # the same counts as each agency's own report
        own = ask(ctx, org)["totals"]
        for key in ("tasks", "tasks_completed_on_time", "tasks_completed_late", "tasks_overdue"):
            assert rows[org][key] == own[key], (org, key)
    # LSN: one task done on time, none overdue: 100%. QNA: nothing done, its 2023 tasks
    # overdue: 0%. SNV has no task: unranked.
    assert (rows[LSN]["rank"], rows[LSN]["on_time_pct"]) == (1, 100.0)
    assert (rows[QNA]["rank"], rows[QNA]["on_time_pct"]) == (2, 0.0)
    assert rows[QNA]["tasks_overdue"] > 0
    assert (rows["SNV"]["rank"], rows["SNV"]["on_time_pct"], rows["SNV"]["tasks"]) == (
        None,
        None,
        0,
    )
    assert reports.province(ctx, "2024Q2") == rolled  # the host (no principal): the same


def test_the_roll_up_refuses_whoever_does_not_read_every_agency(
    seeded: tuple[Context, dict[str, int]],
) -> None:
    ctx, _ = seeded
    lang_son = access_service.access_of(ctx, Principal(AUDITOR, Channel.CLI))
    with pytest.raises(PermissionDenied, match="may not read every organisation"):
        reports.province(ctx, "2024Q2", access=lang_son)
    with pytest.raises(InvalidInput, match="has not begun"):
        reports.province(ctx, "2024Q4")
    with pytest.raises(InvalidInput, match="not a year"):
        reports.province(ctx, "2024Q5")
