"""The inspection record's rules and the period arithmetic, without a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from workflow.domain.inspection import (
    current_period,
    period_bounds,
    read_record,
    record_invalid,
    record_template,
)
from workflow.errors import RecordInvalid

TODAY = dt.date(2024, 5, 20)
CHECKLIST = [11, 12]


def good(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "inspected_on": "2024-05-20",
        "findings": [
            {"task": 11, "compliant": True, "note": "Đúng hạn"},
            {"task": 12, "compliant": False, "note": "Chưa cập nhật số liệu"},
        ],
        "strengths": ["Chủ động triển khai"],
        "shortcomings": ["Báo cáo chậm"],
        "fixes": [{"title": "Cập nhật số liệu quý I", "due": "2024-06-30", "task": 12}],
    }
    record.update(changes)
    return record


def problems(raw: object, checklist: list[int] = CHECKLIST) -> list[tuple[Any, str]]:
    with pytest.raises(RecordInvalid) as caught:
        read_record(raw, checklist, TODAY)
    return caught.value.problems


def test_a_complete_record_is_read_and_summarised() -> None:
    record = read_record(good(), CHECKLIST, TODAY)
    assert record.compliant_count == 1 and len(record.fixes) == 1
    assert record.fixes[0].due == dt.date(2024, 6, 30) and record.fixes[0].task == 12
    assert record.summary() == (
        "Biên bản kiểm tra ngày 20/05/2024: đạt 1/2 nhiệm vụ, 1 nội dung phải khắc phục"
    )
    assert read_record(record.as_json(), CHECKLIST, TODAY) == record  # round trip


def test_every_checklist_task_needs_exactly_one_finding() -> None:
    missing = good(findings=[{"task": 11, "compliant": True, "note": ""}], fixes=[])
    assert problems(missing) == [
        (("findings",), "no finding for task 12: every task on the checklist needs one")
    ]
    twice = good()
    twice["findings"].append({"task": 11, "compliant": True, "note": ""})
    assert problems(twice)[0] == (
        ("findings", 2, "task"), "task 11 already has a finding (finding 1)",
    )  # fmt: skip
    stranger = good()
    stranger["findings"].append({"task": 99, "compliant": True})
    assert "not on this unit's checklist (11, 12)" in problems(stranger)[0][1]


def test_a_shortcoming_needs_a_reason_and_a_fix_with_a_later_deadline() -> None:
    no_note = good()
    no_note["findings"][1]["note"] = " "
    assert problems(no_note)[0] == (
        ("findings", 1, "note"), "task 12 is not compliant: say why in `note`",
    )  # fmt: skip
    no_fix = good(fixes=[])
    assert "no fix names it" in problems(no_fix)[0][1]
    early = good(fixes=[{"title": "Sửa", "due": "2024-05-20", "task": 12}])
    assert ("fixes", 0, "due") in [loc for loc, _ in problems(early)]


def test_unknown_keys_wrong_types_and_future_dates_are_named() -> None:
    found = problems(good(finding=[], inspected_on="2024-06-01"))
    assert (("finding",), "unknown key 'finding'; did you mean 'findings'?") in found
    assert (("inspected_on",), "2024-06-01 is in the future (today is 2024-05-20)") in found
    assert problems(["not", "a", "mapping"])[0][0] == ()
    bad_bool = good()
    bad_bool["findings"][0]["compliant"] = "yes"
    assert problems(bad_bool)[0] == (
        ("findings", 0, "compliant"), "expected true (đạt) or false (chưa đạt)",
    )  # fmt: skip
    found = problems(good(fixes="soon", strengths=[1]))
    assert (("strengths", 0), "expected a non-empty sentence") in found
    assert str(record_invalid(found)) == (
        "fixes: expected a list of fixes (title, due, task) (and 2 more)"
    )


def test_a_unit_with_nothing_to_check_may_have_an_empty_record() -> None:
    record = read_record({"strengths": ["Tốt"]}, [], TODAY)
    assert record.findings == () and record.inspected_on == TODAY


@pytest.mark.parametrize(
    ("key", "bounds"),
    [
        ("2024", (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("2024H1", (dt.date(2024, 1, 1), dt.date(2024, 6, 30))),
        ("2024H2", (dt.date(2024, 7, 1), dt.date(2024, 12, 31))),
        ("2024Q1", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("2024Q4", (dt.date(2024, 10, 1), dt.date(2024, 12, 31))),
    ],
)
def test_period_bounds(key: str, bounds: tuple[dt.date, dt.date]) -> None:
    assert period_bounds(key) == bounds


def test_current_period_of_each_kind() -> None:
    day = dt.date(2024, 8, 15)
    assert [current_period(day, e) for e in ("year", "half", "quarter")] == [
        "2024", "2024H2", "2024Q3",
    ]  # fmt: skip


def test_the_template_lists_the_checklist_and_parses_as_yaml() -> None:
    text = record_template([(11, "A.1", "Ban hành kế hoạch"), (12, "A.2", "Báo cáo quý")], TODAY)
    data = yaml.safe_load(text)
    assert [f["task"] for f in data["findings"]] == [11, 12]
    assert "A.1: Ban hành kế hoạch" in text
    assert read_record(data, CHECKLIST, TODAY).compliant_count == 2  # as filled in by default
