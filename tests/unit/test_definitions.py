"""Definition files without a database: the seed plans, and a precise message per mistake."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec
from workflow.domain import schedules
from workflow.services.plans import expand_units

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
QN = DEFINITIONS / "quang-nam-bqlkkt"

# Task rows in each seed's tables, counted by hand against ../shared/seeds/ (see README).
SEED_ROWS = {
    "qna-bqlkkt-papi-2023": 21,  # sections 1-8 of "Nhiệm vụ và giải pháp": 4+1+4+3+3+1+1+4
    "qna-bqlkkt-par-sipas-2023": 36,  # the appendix: 36 task rows (A: 25, B: 11)
    "qna-bqlkkt-nq16-2021-2025": 19,  # "Nhiệm vụ trọng tâm" 1-6: 6+2+4+2+1+4
    "lsn-skhdt-papi-2024": 8,  # 7 "Nội dung" blocks + the half-yearly report (III.2)
}


def test_every_seed_plan_validates_with_its_row_count() -> None:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    assert {plan.id: len(plan.tasks) for plan, _ in found.plans} == SEED_ROWS
    assert set(found.organisations) == {"QNA-BQLKKT", "LSN-SKHDT"}


def test_par_sipas_appendix_rows_and_diacritics() -> None:
    found, _ = validate([QN / "plans" / "par-sipas-2023.yaml"])
    [(plan, _)] = found.plans
    codes = [t.code for t in plan.tasks]
    assert (
        sum(c.startswith("A.") for c in codes) == 25
        and sum(c.startswith("B.") for c in codes) == 11
    )
    a13 = next(t for t in plan.tasks if t.code == "A.I.3")
    assert "ít nhất 30%" in a13.title and a13.lead_unit == "DKT"
    assert "Biên bản kiểm tra" in (a13.deliverable or "")


def test_a_plan_finds_its_organisation_file_in_a_parent_folder() -> None:
    found, problems = validate([QN / "plans" / "papi-2023.yaml"])
    assert problems == [] and set(found.organisations) == {"QNA-BQLKKT"}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(QN / "organisation.yaml", tmp_path / "organisation.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


PLAN = """\
kind: plan
id: thu-nghiem-2024
organisation: QNA-BQLKKT
title: Kế hoạch thử nghiệm
issuer: Ban Quản lý
signer: qna.ldb.thieu-viet-dung
period: {start: 2024-01-01, end: 2024-12-31}
tasks:
  - code: "1.1"
    title: Công khai thủ tục hành chính
    category: papi.transparency
    lead_unit: HCTH
    cooperating_units: [CPDV]
    schedule: {by: 2024-06-30}
  - code: "1.2"
    title: Báo cáo định kỳ
    category: par.leadership
    lead_unit: QLDT
    schedule: {periodic: quarterly}
"""


def problems_for(workspace: Path, text: str) -> list[str]:
    (workspace / "plan.yaml").write_text(text, encoding="utf-8")
    _, problems = validate([workspace / "plan.yaml"])
    return [str(p) for p in problems]


def test_the_example_plan_is_valid(workspace: Path) -> None:
    assert problems_for(workspace, PLAN) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("schedule: {by: 2024-06-30}", "schedule: {by: 2024-06-30"),
            "plan.yaml:15:9: YAML syntax error: expected ',' or '}', but got ':'",
        ),
        (
            ("    title: Công khai thủ tục hành chính\n", ""),
            "plan.yaml:9:5: tasks[0] (1.1): missing required field 'title'",
        ),
        (
            ('code: "1.2"', "code: 1.2"),
            'plan.yaml:15:11: tasks[1].code: expected text but got the number 1.2; put it in quotes: "1.2"',
        ),
        (
            ("lead_unit: QLDT", "lead_unit: QLD"),
            "plan.yaml:18:16: unknown unit 'QLD'; did you mean 'QLDT'?",
        ),
        (
            ("lead_unit: QLDT", "lead_unit: CPDV"),
            "plan.yaml:18:16: unknown unit 'CPDV'; 'CPDV' is a group: a task has one lead unit",
        ),
        (
            ("category: par.leadership", "category: par.leadershp"),
            "plan.yaml:17:15: unknown category 'par.leadershp'; did you mean 'par.leadership'?",
        ),
        (
            ('code: "1.2"', 'code: "1.1"'),
            "plan.yaml:15:11: duplicate task code '1.1' (first on line 9)",
        ),
        (
            ("cooperating_units: [CPDV]", "cooperating_units: [HCTH]"),
            "plan.yaml:13:25: cooperating unit 'HCTH' is the lead unit itself; remove it",
        ),
        (
            ("{by: 2024-06-30}", "{by: 2025-06-30}"),
            "plan.yaml:14:20: date 2025-06-30 is outside the plan's period (2024-01-01 to 2024-12-31)",
        ),
        (
            ("{by: 2024-06-30}", "{by: 30/06/2024}"),
            "plan.yaml:14:20: tasks[0] (1.1).schedule.by: '30/06/2024' is not a date; expected YYYY-MM-DD",
        ),
        (
            ("{periodic: quarterly}", "{periodic: monthly}"),
            "plan.yaml:19:26: tasks[1] (1.2).schedule.periodic: 'monthly' is not allowed; expected 'quarterly', 'half_yearly' or 'yearly'",
        ),
        (
            ("{periodic: quarterly}", "weekly"),
            "plan.yaml:19:15: tasks[1] (1.2).schedule: a schedule is one of: continuous | within_year",
        ),
        (("issuer:", "isuer:"), "plan.yaml:5:1: unknown field 'isuer'; did you mean 'issuer'?"),
        (
            ("organisation: QNA-BQLKKT", "organisation: QNA-BQLKK"),
            "plan.yaml:3:15: unknown organisation 'QNA-BQLKK'; did you mean 'QNA-BQLKKT'?",
        ),
        (
            ("title: Kế hoạch thử nghiệm\n", "title: Kế hoạch thử nghiệm\ntitle: Lặp\n"),
            "plan.yaml:5:1: duplicate key 'title' (first given on line 4); keep one",
        ),
        (
            ("signer: qna.ldb.thieu-viet-dung", "signer: qna.ldb.thieu-viet-dun"),
            "plan.yaml:6:9: unknown person 'qna.ldb.thieu-viet-dun' in QNA-BQLKKT; did you mean 'qna.ldb.thieu-viet-dung'?",
        ),
        (
            ("kind: plan", "kind: plna"),
            "plan.yaml:1:7: `kind` must be 'organisation', 'plan', 'procedures' or 'apology_rules', got 'plna'; did you mean 'plan'?",
        ),
    ],
    ids=[
        "yaml-syntax",
        "missing-field",
        "wrong-type",
        "unknown-unit",
        "group-as-lead",
        "unknown-category",
        "duplicate-code",
        "cooperating-is-lead",
        "date-outside-period",
        "date-format",
        "bad-frequency",
        "bad-schedule",
        "unknown-field",
        "unknown-org",
        "duplicate-key",
        "unknown-person",
        "unknown-kind",
    ],
)
def test_each_mistake_has_its_precise_message(
    workspace: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in PLAN
    problems = problems_for(workspace, PLAN.replace(old, new, 1))
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_in_one_run(workspace: Path) -> None:
    broken = (
        PLAN.replace("issuer:", "isuer:")
        .replace("lead_unit: QLDT", "lead_unit: QLD")
        .replace("category: papi.transparency", "category: papi.transparncy")
    )
    problems = problems_for(workspace, broken)
    assert len(problems) == 4  # unknown field, the missing issuer, unknown unit, unknown category
    assert [p.split(":")[1] for p in problems] == sorted(
        (p.split(":")[1] for p in problems), key=int
    )


def test_not_utf8_and_empty_and_not_a_mapping(workspace: Path) -> None:
    (workspace / "a.yaml").write_bytes("title: Kế hoạch".encode("utf-16"))
    (workspace / "b.yaml").write_text("", encoding="utf-8")
    (workspace / "c.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    _, problems = validate([workspace / n for n in ("a.yaml", "b.yaml", "c.yaml")])
    text = [str(p) for p in problems]
    assert any(t.startswith("a.yaml:1:1: the file is not UTF-8 text") for t in text)
    assert any(t.startswith("b.yaml:1:1: the file is empty") for t in text)
    assert any(
        t.startswith("c.yaml:1:1: expected a mapping with `kind:` ('organisation', 'plan'")
        for t in text
    )


def test_organisation_cross_references(workspace: Path) -> None:
    text = (workspace / "organisation.yaml").read_text(encoding="utf-8")
    text = text.replace("office_unit: HCTH", "office_unit: HCT", 1)
    (workspace / "organisation.yaml").write_text(text, encoding="utf-8")
    _, problems = validate([workspace / "organisation.yaml"])
    assert [p.message for p in problems] == [
        "office_unit 'HCT' is not one of the units; did you mean 'HCTH'?"
    ]


def test_quarterly_schedule_makes_one_task_per_quarter_of_the_period() -> None:
    occ = schedules.periodic("quarterly", dt.date(2024, 5, 1), dt.date(2024, 12, 31))
    assert [(o.period, o.due) for o in occ] == [
        ("2024Q2", dt.date(2024, 6, 30)),
        ("2024Q3", dt.date(2024, 9, 30)),
        ("2024Q4", dt.date(2024, 12, 31)),
    ]
    half = schedules.periodic("half_yearly", dt.date(2021, 11, 24), dt.date(2022, 12, 31))
    assert [o.period for o in half] == ["2021H2", "2022H1", "2022H2"]
    assert schedules.within_year(2023, dt.date(2021, 11, 24), dt.date(2025, 12, 31))[
        0
    ].due == dt.date(2023, 12, 31)
    assert schedules.periodic("yearly", dt.date(2024, 1, 1), dt.date(2024, 7, 10))[
        0
    ].due == dt.date(2024, 7, 10)


def test_groups_expand_without_the_lead_unit() -> None:
    found, _ = validate([QN / "organisation.yaml"])
    org: OrganisationSpec = found.organisations["QNA-BQLKKT"][0]
    assert expand_units(["CPDV"], org, "HCTH") == ["QLDT", "QHXD", "TNMT", "DNLD", "TTDV"]
    assert expand_units(["QLDT", "CP"], org, "TNMT") == ["QLDT", "HCTH", "QHXD", "DNLD"]
