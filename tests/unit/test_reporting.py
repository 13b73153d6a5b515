"""Reporting windows and the rules that classify a report's figures (no database)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.clock import LOCAL_TZ
from workflow.definitions.models import OrganisationSpec
from workflow.documents.report import number, pct, period_label
from workflow.domain import report_content, reporting
from workflow.domain.reporting import percent, quarters_up_to, window
from workflow.errors import InvalidInput


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("period", "reporting_window", "calendar_window"),
    [
        ("2024Q1", ("2023-12-15", "2024-03-14"), ("2024-01-01", "2024-03-31")),
        ("2024Q2", ("2024-03-15", "2024-06-14"), ("2024-04-01", "2024-06-30")),
        ("2024Q3", ("2024-06-15", "2024-09-14"), ("2024-07-01", "2024-09-30")),
        ("2024Q4", ("2024-09-15", "2024-12-14"), ("2024-10-01", "2024-12-31")),
        ("2024H1", ("2023-12-15", "2024-06-14"), ("2024-01-01", "2024-06-30")),
        ("2024H2", ("2024-06-15", "2024-12-14"), ("2024-07-01", "2024-12-31")),
        ("2024", ("2023-12-15", "2024-12-14"), ("2024-01-01", "2024-12-31")),
        ("2025Q1", ("2024-12-15", "2025-03-14"), ("2025-01-01", "2025-03-31")),
    ],
)
def test_windows_follow_decree_09_2019_or_the_calendar(
    period: str, reporting_window: tuple[str, str], calendar_window: tuple[str, str]
) -> None:
    got = window(period, "reporting")
    assert (got.start, got.end) == tuple(map(d, reporting_window))
    assert window(period) == got  # the reporting rule is the default
    got = window(period, "calendar")
    assert (got.start, got.end) == tuple(map(d, calendar_window))
    assert got.as_json() == {
        "rule": "calendar",
        "from": calendar_window[0],
        "to": calendar_window[1],
    }


@given(st.integers(min_value=reporting.MIN_YEAR, max_value=reporting.MAX_YEAR))
def test_quarters_tile_halves_and_years_without_gap_or_overlap(year: int) -> None:
    for rule in reporting.WINDOW_RULES:
        quarters = [window(f"{year}Q{q}", rule) for q in range(1, 5)]
        for before, after in itertools.pairwise(quarters):
            assert after.start == before.end + dt.timedelta(days=1)
        whole = window(str(year), rule)
        assert (whole.start, whole.end) == (quarters[0].start, quarters[3].end)
        for half, (first, last) in ((1, (0, 1)), (2, (2, 3))):
            w = window(f"{year}H{half}", rule)
            assert (w.start, w.end) == (quarters[first].start, quarters[last].end)
    assert window(f"{year}Q1").start == dt.date(year - 1, 12, 15)


def test_the_trend_covers_the_quarters_of_the_year_up_to_the_period() -> None:
    assert quarters_up_to("2024Q1") == ["2024Q1"]
    assert quarters_up_to("2024Q3") == ["2024Q1", "2024Q2", "2024Q3"]
    assert quarters_up_to("2024H1") == ["2024Q1", "2024Q2"]
    assert quarters_up_to("2024H2") == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert quarters_up_to("2024") == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def test_a_window_as_instants_is_half_open_in_vietnam_time() -> None:
    lo, hi = window("2024Q2").instants(LOCAL_TZ)
    assert lo == dt.datetime(2024, 3, 14, 17, tzinfo=dt.UTC)  # 15/03 00:00 in Vietnam
    assert hi == dt.datetime(2024, 6, 14, 17, tzinfo=dt.UTC)  # 15/06 00:00: excluded


def test_bad_periods_and_rules_are_invalid_input() -> None:
    for key in ("2024Q5", "2024H3", "24", "2024-Q1", "2024q1", "", "1899", "3000Q1"):
        with pytest.raises(InvalidInput, match="period"):
            window(key)
    with pytest.raises(InvalidInput, match="--window 'fiscal' is not known; use reporting"):
        reporting.parse_rule("fiscal")
    assert reporting.parse_rule("calendar") == "calendar"


def test_completion_on_the_due_date_in_vietnam_is_on_time() -> None:
    due = dt.date(2024, 5, 15)
    just_in = dt.datetime(2024, 5, 15, 16, 59, tzinfo=dt.UTC)  # 23:59 in Vietnam
    just_late = dt.datetime(2024, 5, 15, 17, 0, tzinfo=dt.UTC)  # 00:00 on the 16th
    assert reporting.completed_on_time(reporting.local_date(just_in, LOCAL_TZ), due)
    assert not reporting.completed_on_time(reporting.local_date(just_late, LOCAL_TZ), due)
    with pytest.raises(ValueError, match="timezone-aware"):
        reporting.local_date(dt.datetime(2024, 5, 15), LOCAL_TZ)


def test_overdue_means_open_and_past_its_due_date() -> None:
    today = dt.date(2024, 6, 20)
    assert reporting.is_overdue(False, False, dt.date(2024, 6, 19), today)
    assert not reporting.is_overdue(False, False, today, today)  # due today: not yet
    assert not reporting.is_overdue(True, False, dt.date(2024, 6, 1), today)
    assert not reporting.is_overdue(False, True, dt.date(2024, 6, 1), today)  # withdrawn


def test_rates_round_half_up_to_one_decimal_and_none_without_a_denominator() -> None:
    assert percent(2, 3) == 66.7
    assert percent(1, 6) == 16.7
    assert percent(1, 16) == 6.3  # 6.25: half up (bankers' rounding would give 6.2)
    assert percent(1, 8) == 12.5
    assert percent(5, 8) == 62.5
    assert percent(0, 4) == 0.0
    assert percent(4, 4) == 100.0
    assert percent(0, 0) is None


def test_provisional_until_the_window_has_closed() -> None:
    q2 = window("2024Q2")
    assert reporting.provisional(q2, dt.date(2024, 6, 14))
    assert not reporting.provisional(q2, dt.date(2024, 6, 15))
    assert reporting.not_begun(q2, dt.date(2024, 3, 14))
    assert not reporting.not_begun(q2, dt.date(2024, 3, 15))


def test_the_html_speaks_vietnamese_numbers_and_periods() -> None:
    assert period_label("2024Q2") == "quý II năm 2024"
    assert period_label("2024H1") == "6 tháng đầu năm 2024"
    assert period_label("2024H2") == "6 tháng cuối năm 2024"
    assert period_label("2024") == "năm 2024"
    assert (number(1234567), number(None)) == ("1.234.567", "–")
    assert (pct(62.5), pct(100.0), pct(None)) == ("62,5%", "100,0%", "–")


def test_a_scheduled_run_reports_the_latest_quarter_whose_window_closed() -> None:
    latest = reporting.latest_closed_quarter
    assert latest(dt.date(2024, 6, 15)) == "2024Q2"  # the window closed on 14/06
    assert latest(dt.date(2024, 6, 14)) == "2024Q1"  # not yet
    assert latest(dt.date(2024, 12, 20)) == "2024Q4"
    assert latest(dt.date(2025, 3, 15)) == "2025Q1"
    assert latest(dt.date(2025, 1, 2)) == "2024Q4"
    assert latest(dt.date(2024, 6, 15), "calendar") == "2024Q1"
    assert latest(dt.date(2024, 7, 1), "calendar") == "2024Q2"


# ----------------------------------------------------------------------------- adding up


def small_agency(inspection: bool) -> OrganisationSpec:
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": "SO-NHO",
            "name": "Sở Nhỏ",
            "province": "Lạng Sơn",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng"},
                {"code": "TTR", "name": "Thanh tra"},
            ],
            "people": [],
            **({"inspection": {"unit": "TTR", "units": "all"}} if inspection else {}),
        }
    )


def test_units_keep_the_files_order_then_the_stored_ones_it_no_longer_lists() -> None:
    spec = small_agency(inspection=True)
    stored = {"ZZ": "Phòng cũ", "TTR": "Thanh tra Sở", "AA": "Phòng bỏ", "VP": "Văn phòng"}
    names = report_content.unit_names(spec, stored)
    assert list(names.items()) == [
        ("VP", "Văn phòng"),
        ("TTR", "Thanh tra Sở"),  # the stored name
        ("AA", "Phòng bỏ"),
        ("ZZ", "Phòng cũ"),
    ]
    assert report_content.inspectable(spec, names) == ["VP"]  # the team inspects
    assert report_content.inspectable(small_agency(inspection=False), names) == list(names)


def test_a_period_with_nothing_in_it_counts_zero_and_rates_none() -> None:
    spec = small_agency(inspection=True)
    win = window("2024H1", "reporting")
    quarters = [window(q, "reporting") for q in quarters_up_to("2024H1")]
    counted = report_content.tally(win, quarters, [], [], [], [], [])
    assert counted.plans() == set()
    names = report_content.unit_names(spec, {})
    out = report_content.figures(
        counted, quarters, names, report_content.inspectable(spec, names), {}
    )
    assert (out["plans"], out["by_plan"], out["by_category"], out["rows"]) == ([], [], [], [])
    totals = out["totals"]
    assert all(totals[k] == 0 for k in report_content.COUNTS)
    assert set(totals["tasks_by_state"].values()) == {0}
    assert (totals["completion_pct"], totals["on_time_pct"]) == (None, None)
    assert (totals["units_inspected"], totals["units_inspectable"]) == (0, 1)
    assert totals["inspection_coverage_pct"] == 0.0
    assert [u["unit"] for u in out["by_unit"]] == ["VP", "TTR"]
    assert [q["period"] for q in out["trend"]] == ["2024Q1", "2024Q2"]
    assert {q["on_time_pct"] for q in out["trend"]} == {None}


def test_tasks_moves_and_completions_add_up_into_rows_and_the_trend() -> None:
    win = window("2024Q2", "reporting")
    quarters = [window(q, "reporting") for q in quarters_up_to("2024Q2")]
    counts = dict.fromkeys(report_content.SCANNED, 0)
    by_state = dict.fromkeys(report_content.STATES, 0)
    open_ = {**counts, "tasks": 2, "tasks_completed": 2, "tasks_completed_on_time": 1}
    key = ("kh", "papi.transparency", "VP")
    moved = dict.fromkeys(report_content.MOVED.values(), 0) | {"tasks_verified": 2}
    # A task verified before the window and closed in it: moved, not open.
    closed = dict.fromkeys(report_content.MOVED.values(), 0) | {"tasks_closed": 1}
    # Completed in Q1 (not open in Q2: only the trend counts them), and in Q2 (both).
    in_q1 = {**counts, "tasks": 3, "tasks_completed": 3, "tasks_completed_on_time": 1}
    counted = report_content.tally(
        win,
        quarters,
        [
            report_content.TaskGroup("SO", key, in_q1, by_state, listed=False, done_in=0),
            report_content.TaskGroup("SO", key, open_, by_state, listed=True, done_in=1),
        ],
        [
            report_content.MoveGroup("SO", key, moved),
            report_content.MoveGroup("SO", ("kh2", "sipas.access", "VP"), closed),
        ],
        [],
        [("VP", {"escalations": 1})],
        [],
    )
    assert counted.trend[0]["tasks_completed"] == 3 and counted.trend[1]["tasks_completed"] == 2
    assert counted.rows[key]["tasks"] == 2 and counted.rows[key]["tasks_verified"] == 2
    assert counted.rows[(None, None, "VP")]["escalations"] == 1
    assert counted.plans() == {"kh", "kh2"}
    spec = small_agency(inspection=False)
    names = report_content.unit_names(spec, {})
    info = {p: {"id": p, "title": p, "version": 1, "hash": "0" * 64} for p in ("kh", "kh2")}
    out = report_content.figures(counted, quarters, names, list(names), info)
    assert [(i["index"], i["tasks"], i["tasks_closed"]) for i in out["by_index"]] == [
        ("PAPI", 2, 0),
        ("SIPAS", 0, 1),
    ]


def test_the_next_period_is_of_the_same_kind() -> None:
    assert reporting.next_period("2024Q2") == "2024Q3"
    assert reporting.next_period("2024Q4") == "2025Q1"
    assert reporting.next_period("2024H1") == "2024H2"
    assert reporting.next_period("2024H2") == "2025H1"
    assert reporting.next_period("2024") == "2025"


def test_a_span_is_said_at_the_windows_end_or_today_while_it_is_open() -> None:
    q2 = window("2024Q2")
    closed = reporting.span(q2, dt.date(2024, 12, 1), LOCAL_TZ)
    assert closed.overdue_before == dt.date(2024, 6, 15) and not closed.provisional
    assert closed.end == dt.datetime(2024, 6, 14, 17, 0, tzinfo=dt.UTC)  # 15/06 00:00 +07
    assert closed.next_window == window("2024Q3")
    still_open = reporting.span(q2, dt.date(2024, 6, 1), LOCAL_TZ)
    assert still_open.overdue_before == dt.date(2024, 6, 1) and still_open.provisional


def test_the_province_ranks_by_on_time_rate_counting_overdue_against_it() -> None:
    def group(org: str, done: int, on_time: int, overdue: int) -> report_content.TaskGroup:
        counts = dict.fromkeys(report_content.SCANNED, 0) | {
            "tasks": done + overdue,
            "tasks_completed": done,
            "tasks_completed_on_time": on_time,
            "tasks_completed_late": done - on_time,
            "tasks_overdue": overdue,
            "tasks_open_at_end": overdue,
        }
        return report_content.TaskGroup(org, ("kh", None, "VP"), counts, {})

    names = {c: {"name": f"Sở {c}", "province": "Quảng Nam"} for c in "ABCDE"}
    rows = report_content.rollup(
        [
            group("A", 4, 4, 4),  # 4 / (4 + 4) = 50%: all done on time, half left undone
            group("B", 2, 2, 0),  # 100%
            group("C", 4, 3, 0),  # 75%
            group("D", 2, 1, 0),  # 50%, fewer overdue than A: before it
            # Not open in the period (completed before it, counted in a trend): left out.
            report_content.TaskGroup(
                "E",
                ("kh", None, "VP"),
                dict(group("E", 5, 5, 0).counts),
                {},
                listed=False,
                done_in=0,
            ),
        ],
        names,
    )
    assert [(r["rank"], r["organisation"], r["on_time_pct"]) for r in rows] == [
        (1, "B", 100.0),
        (2, "C", 75.0),
        (3, "D", 50.0),
        (3, "A", 50.0),
        (None, "E", None),  # nothing to rate: last, unranked
    ]
    assert rows[3]["tasks_overdue"] == 4 and rows[3]["name"] == "Sở A"
