"""`plans validate` in one pass: every problem of every file given, from syntax to calendar,
in one run and in file order; a file that fails to parse still counts as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.definitions.checks import validate

ORGANISATION = """\
kind: organisation
code: KHA-SCT
name: "Sở Công Thương tỉnh Khánh Hòa"
province: "Khánh Hòa"
office_unit: VP
units:
  - code: VP
    name: "Văn phòng Sở"
  - code: QLTM
  - code: KTAT
    name: "Phòng Kỹ thuật an toàn"
people:
  - id: kha.vp.nguyen-van-a
    name: "Nguyễn Văn A"
    unit: VPP
    roles: [office]
calendar:
  days_off:
    - {date: 2024-04-29, reason: "Nghỉ bù"}
  working_days:
    - {date: 2024-04-29, reason: "Làm bù"}
"""

PLAN = """\
kind: plan
id: kha-sct-cchc-2024
organisation: KHA-SCT
title: "Kế hoạch cải cách hành chính năm 2024"
issuer: "Sở Công Thương tỉnh Khánh Hòa"
period:
  start: 2024-01-01
  end: 2024-12-31
tasks:
  - code: "1"
    title: "Rà soát thủ tục hành chính"
    lead_unit: KTAT
    schedule: continuous
  - code: "2"
    title: "Công khai thủ tục hành chính"
    category: par.procedures
    lead_unit: KTATT
    schedule: continuous
  - code: "3"
    title: "Báo cáo sơ kết"
    category: par.leadership
    lead_unit: VP
    schedule: {by: 2025-03-31}
  - code: "4"
    title: "Kiểm tra"
    category: par.leadership
    lead_unit: VP
    schedule: {by: abc}
"""

PROCEDURES = """\
kind: procedures
organisation: KHA-SCT
procedures:
  - code: SCT-01
    name: "Cấp giấy phép kinh doanh"
    working_days: mười
    unit: QLTM
  - code: SCT-02
    name: "Cấp chứng chỉ"
    working_days: 10
    unit: ATKT
"""


def _write(folder: Path, **files: str) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_stage_is_reported_in_one_run_in_file_order(here: Path) -> None:
    paths = _write(here, organisation=ORGANISATION, plan=PLAN, procedures=PROCEDURES)
    _, problems = validate(paths)
    assert [str(p) for p in problems] == [
        # schema, then across fields (a person's unit) and the calendar, in the same run
        "organisation.yaml:9:5: units[1] (QLTM): missing required field 'name'",
        "organisation.yaml:15:11: unknown unit 'VPP' for kha.vp.nguyen-van-a; did you mean 'VP'?",
        "organisation.yaml:21:14: 2024-04-29 is both a day off and a working day; keep one",
        # the task without a category still leaves the others checked against the units
        "plan.yaml:10:5: tasks[0] (1): missing required field 'category'; one of: "
        + problems[3].message.split("one of: ")[1],
        "plan.yaml:17:16: unknown unit 'KTATT'; did you mean 'KTAT'?",
        "plan.yaml:23:20: date 2025-03-31 is outside the plan's period (2024-01-01 to 2024-12-31)",
        "plan.yaml:28:20: tasks[3] (4).schedule.by: 'abc' is not a date; expected YYYY-MM-DD",
        "procedures.yaml:6:19: procedures[0] (SCT-01).working_days: 'mười' is not a whole number "
        "(write digits only, e.g. 30)",
        "procedures.yaml:11:11: unknown unit 'ATKT'",
    ]
    assert "par.procedures" in problems[3].message and "papi.transparency" in problems[3].message


def test_fixing_the_reported_problems_leaves_none_behind(here: Path) -> None:
    """The issue's complaint: 5 problems, then 4 new ones once those were fixed."""
    fixed = {
        "organisation": ORGANISATION.replace("  - code: QLTM\n", '  - code: QLTM\n    name: "P"\n')
        .replace("unit: VPP", "unit: VP")
        .replace(
            '    - {date: 2024-04-29, reason: "Làm bù"}',
            '    - {date: 2024-05-04, reason: "Làm bù"}',
        ),
        "plan": PLAN.replace(
            "    lead_unit: KTAT\n", "    category: par.leadership\n    lead_unit: KTAT\n", 1
        )
        .replace("KTATT", "KTAT")
        .replace("2025-03-31", "2024-03-31")
        .replace("{by: abc}", "{by: 2024-06-30}"),
        "procedures": PROCEDURES.replace("mười", "10").replace("ATKT", "KTAT"),
    }
    found, problems = validate(_write(here, **fixed))
    assert problems == []
    assert len(found.plans) == 1 and len(found.procedures) == 1


def test_an_organisation_file_that_does_not_parse_still_counts_as_given(here: Path) -> None:
    broken = ORGANISATION.replace('name: "Sở Công Thương tỉnh Khánh Hòa"', 'name: "Sở Công [')
    paths = _write(here, organisation=broken, plan=PLAN, procedures=PROCEDURES)
    _, problems = validate(paths)
    messages = [str(p) for p in problems]
    assert messages[0].startswith("organisation.yaml:") and "YAML syntax error" in messages[0]
    assert not any("unknown organisation" in m for m in messages), messages
    # The files' own problems are still all there.
    assert any("'abc' is not a date" in m for m in messages)
    assert any("'mười' is not a whole number" in m for m in messages)


def test_an_organisation_not_given_is_still_asked_for(here: Path) -> None:
    [path] = _write(here, procedures=PROCEDURES.replace("mười", "10"))
    _, problems = validate([path])
    assert [p.message for p in problems] == [
        "unknown organisation 'KHA-SCT'; give its organisation file too"
    ]


def test_a_duplicate_key_a_missing_heading_and_a_misspelt_field_stop_no_other_check(
    here: Path,
) -> None:
    organisation = ORGANISATION.replace('province: "Khánh Hòa"\n', "").replace(
        "office_unit: VP\n", "office_unit: VP\noffice_unit: VP\n"
    )
    plan = PLAN.replace("issuer:", "isuer:")
    paths = _write(here, organisation=organisation, plan=plan, procedures=PROCEDURES)
    messages = [str(p) for p in validate(paths)[1]]
    assert (
        "organisation.yaml:5:1: duplicate key 'office_unit' (first given on line 4); keep one"
        in (messages)
    )
    assert "organisation.yaml:1:1: missing required field 'province'" in messages
    assert "plan.yaml:5:1: unknown field 'isuer'; did you mean 'issuer'?" in messages
    # ... and the checks across fields and files ran all the same, in the same run:
    assert any("unknown unit 'VPP'" in m for m in messages)
    assert any("unknown unit 'KTATT'" in m for m in messages)
    assert any("unknown unit 'ATKT'" in m for m in messages)
