"""Loading definitions on both backends: tasks per row and period, idempotence, new versions,
procedures and rule sets, and the order of a load's audit entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support import log
from workflow.definitions.checks import validate
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move, State
from workflow.errors import InvalidInput
from workflow.services import Context
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.services.definitions import LoadOutcome
from workflow.store.tables import audit_log, organisations, procedures, rule_sets, tasks

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
# Tasks made from the seed rows: periodic rows make one task per period of the plan.
EXPECTED_TASKS = {
    "qna-bqlkkt-papi-2023": 21,
    "qna-bqlkkt-par-sipas-2023": 39,  # A.I.2 is quarterly: 36 rows + 3
    "qna-bqlkkt-nq16-2021-2025": 19,
    "lsn-skhdt-papi-2024": 9,  # III.2 is half-yearly: 8 rows + 1
}


def load(ctx: Context, *paths: Path) -> list[LoadOutcome]:
    found, problems = validate(list(paths), org_service.known_organisations(ctx))
    assert problems == []
    return plan_service.load(ctx, found)


def counts(ctx: Context) -> tuple[int, int]:
    with ctx.engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(tasks)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one()),
        )


def test_the_seed_definitions_load_into_tasks(ctx: Context) -> None:
    outcomes = load(ctx, DEFINITIONS)
    assert {o.id: o.tasks_created for o in outcomes if o.kind == "plan"} == EXPECTED_TASKS
    listed = {p["id"]: p for p in plan_service.list_plans(ctx)}
    assert {k: v["task_count"] for k, v in listed.items()} == EXPECTED_TASKS
    assert listed["qna-bqlkkt-par-sipas-2023"]["organisation"] == "QNA-BQLKKT"
    par = task_service.list_tasks(ctx, TaskFilter(plan="qna-bqlkkt-par-sipas-2023"))
    quarterly = sorted(
        (t.period, t.due_date.isoformat()) for t in par if t.code == "A.I.2" and t.due_date
    )
    assert quarterly == [
        ("2023Q1", "2023-03-31"),
        ("2023Q2", "2023-06-30"),
        ("2023Q3", "2023-09-30"),
        ("2023Q4", "2023-12-31"),
    ]
    assert all(t.state is State.ASSIGNED and t.version == 1 for t in par)
    a13 = next(t for t in par if t.code == "A.I.3")
    assert (
        a13.lead_unit == "DKT"
        and "HCTH" in a13.cooperating_units
        and "DKT" not in a13.cooperating_units
    )
    loads = log.entries(ctx, action="plan.load")
    assert len(loads) == 4 and all(len(e["data"]["file_sha256"]) == 64 for e in loads)
    creations = log.entries(ctx, action="task.create")
    assert len(creations) == sum(EXPECTED_TASKS.values())
    assert log.chain_ok(ctx).ok
    org = org_service.show_organisation(ctx, "QNA-BQLKKT")
    assert {"code", "name", "units", "people"} <= set(org)
    assert {"HCTH", "DKT", "LDB"} <= {u["code"] for u in org["units"]}
    assert any("office" in p["roles"] for p in org["people"])


def test_loading_the_same_files_again_changes_nothing(ctx: Context) -> None:
    load(ctx, DEFINITIONS)
    before = counts(ctx)
    outcomes = load(ctx, DEFINITIONS)
    assert {o.status for o in outcomes} == {"unchanged"}
    assert counts(ctx) == before


def test_a_changed_plan_becomes_a_new_version_and_keeps_every_task_history(
    ctx: Context, tmp_path: Path
) -> None:
    folder = tmp_path / "qn"
    shutil.copytree(DEFINITIONS / "quang-nam-bqlkkt", folder)
    plan_file = folder / "plans" / "papi-2023.yaml"
    load(ctx, folder / "organisation.yaml", plan_file)
    by_code = {
        t.code: t for t in task_service.list_tasks(ctx, TaskFilter(plan="qna-bqlkkt-papi-2023"))
    }
    worked = by_code["1.2"]  # someone works on 1.2 before the plan changes
    task_service.move(ctx, worked.id, Move.START, "qna.hcth.tran-thi-lan")

    text = plan_file.read_text(encoding="utf-8")
    start = text.index('  - code: "1.2"')
    end = text.index("  - code:", start + 5)
    removed_block = text[start:end]
    text = text.replace(removed_block, "")  # row 1.2 is dropped
    old_title = by_code["1.1"].title
    text = text.replace(old_title, old_title + " (sửa đổi)", 1)  # row 1.1 reworded
    first_row = text.index("\ntasks:\n") + len("\ntasks:\n")
    text = (
        text[:first_row]
        + """  - code: "9.1"
    title: Nhiệm vụ bổ sung
    category: papi.e_governance
    lead_unit: BBT
    schedule: {by: 2023-11-30}
"""
        + text[first_row:]
    )
    plan_file.write_text(text, encoding="utf-8")
    before_entries = counts(ctx)[1]
    [outcome] = [o for o in load(ctx, plan_file) if o.kind == "plan"]
    assert (outcome.status, outcome.version, outcome.tasks_created) == ("new_version", 2, 1)
    assert (outcome.rows_added, outcome.rows_removed, outcome.tasks_amended) == (
        ["9.1"],
        ["1.2"],
        1,
    )

    kept = task_service.get_task(ctx, worked.id)  # removed from the plan, left as it was
    assert (kept.state, kept.version) == (State.IN_PROGRESS, 2)
    assert [h["action"] for h in task_service.history(ctx, worked.id)] == ["task.create", "start"]
    amended = task_service.get_task(ctx, by_code["1.1"].id)
    assert amended.title.endswith("(sửa đổi)") and amended.version == 2
    [entry] = [h for h in task_service.history(ctx, amended.id) if h["action"] == "task.amend"]
    assert entry["data"]["changes"]["title"] == [old_title, old_title + " (sửa đổi)"]
    assert counts(ctx)[1] == before_entries + 3  # plan.load, task.amend, task.create
    # The amendment's entry comes before the new version's, the new task's after it.
    added = log.entries(ctx, after_seq=before_entries)
    assert [e["action"] for e in added] == ["task.amend", "plan.load", "task.create"]
    assert added[1]["subject"] == "plan:qna-bqlkkt-papi-2023@v2"
    assert added[1]["data"]["rows_removed"] == ["1.2"]
    assert plan_service.show_plan(ctx, "qna-bqlkkt-papi-2023")["version"] == 2


def test_a_lead_unit_change_is_reported_not_applied(ctx: Context, tmp_path: Path) -> None:
    folder = tmp_path / "qn"
    shutil.copytree(DEFINITIONS / "quang-nam-bqlkkt", folder)
    plan_file = folder / "plans" / "par-sipas-2023.yaml"
    load(ctx, folder / "organisation.yaml", plan_file)
    text = plan_file.read_text(encoding="utf-8")
    at = text.index('code: "A.I.3"')
    lead = text.index("lead_unit: DKT", at)
    plan_file.write_text(
        text[:lead] + "lead_unit: TNMT" + text[lead + len("lead_unit: DKT") :], encoding="utf-8"
    )
    [outcome] = [o for o in load(ctx, plan_file) if o.kind == "plan"]
    assert outcome.lead_changes == ["A.I.3: DKT -> TNMT"]
    [a13] = [
        t
        for t in task_service.list_tasks(ctx, TaskFilter(plan="qna-bqlkkt-par-sipas-2023"))
        if t.code == "A.I.3"
    ]
    assert a13.lead_unit == "DKT"


def test_a_load_that_fails_half_way_leaves_nothing(ctx: Context, tmp_path: Path) -> None:
    load(ctx, DEFINITIONS / "quang-nam-bqlkkt")
    before = counts(ctx)
    # Lạng Sơn's files, but its plan reuses a Quảng Nam plan id: found while writing.
    folder = tmp_path / "ls"
    shutil.copytree(DEFINITIONS / "lang-son-skhdt", folder)
    plan_file = folder / "plans" / "papi-2024.yaml"
    plan_file.write_text(
        plan_file.read_text(encoding="utf-8").replace(
            "id: lsn-skhdt-papi-2024", "id: qna-bqlkkt-papi-2023"
        ),
        encoding="utf-8",
    )
    found, problems = validate([folder], org_service.known_organisations(ctx))
    assert problems == []
    with pytest.raises(InvalidInput, match="already belongs to QNA-BQLKKT"):
        plan_service.load(ctx, found)
    assert counts(ctx) == before
    with ctx.engine.connect() as conn:
        assert (
            conn.execute(
                select(organisations.c.code).where(organisations.c.code == "LSN-SKHDT")
            ).first()
            is None
        )


def test_a_load_records_organisations_procedures_rules_then_each_plan_with_its_tasks(
    ctx: Context,
) -> None:
    load(ctx, DEFINITIONS)
    entries = log.entries(ctx)
    actions = [e["action"] for e in entries]
    # Each organisation's load, then one entry per role its file grants (who held which role
    # when can be rebuilt from the log).
    grants = {
        code: sum(len(set(p.roles)) for p in spec.people)
        for code, (spec, _) in validate([DEFINITIONS])[0].organisations.items()
    }
    head = (
        [
            action
            for code in sorted(grants)
            for action in ["organisation.load"] + ["role.change"] * grants[code]
        ]
        + ["procedures.load"] * 2
        + ["rules.load"] * 2
    )
    assert actions[: len(head)] == head
    rest = entries[len(head) :]
    order = [e["plan_id"] for e in rest if e["action"] == "plan.load"]
    assert sorted(order) == sorted(EXPECTED_TASKS)
    expected = [
        pair
        for plan_id in order
        for pair in [("plan.load", plan_id)] + [("task.create", plan_id)] * EXPECTED_TASKS[plan_id]
    ]
    assert [(e["action"], e["plan_id"]) for e in rest] == expected
    procs = [e for e in entries if e["action"] == "procedures.load"]
    assert [e["subject"] for e in procs] == ["procedures:LSN-SKHDT", "procedures:QNA-BQLKKT"]
    assert procs[1]["data"]["changed"][:2] == ["KKT-DT-01", "KKT-DT-02"]  # the file's order
    assert set(procs[1]["data"]) == {"file_sha256", "source", "changed", "procedures"}
    # What due dates are computed from, so that replay rebuilds the procedures table.
    assert set(procs[1]["data"]["procedures"]) == set(procs[1]["data"]["changed"])
    rules = [e for e in entries if e["action"] == "rules.load"]
    assert {e["subject"] for e in rules} == {"rules:nd61-2018", "rules:nd118-2025"}
    assert set(rules[0]["data"]) == {
        "file_sha256",
        "spec_sha256",
        "source",
        "effective_from",
        "verified",
    }
    assert all(e["actor"] == ctx.operator and e["role"] == "admin" for e in entries)


def test_changed_procedures_and_rules_are_updated_and_audited(ctx: Context, tmp_path: Path) -> None:
    folder = tmp_path / "defs"
    shutil.copytree(DEFINITIONS, folder)
    load(ctx, folder)
    procs_file = folder / "lang-son-skhdt" / "procedures.yaml"
    text = procs_file.read_text(encoding="utf-8")
    assert "working_days: 15" in text  # SKHDT-DT-01's
    procs_file.write_text(
        text.replace("working_days: 15", "working_days: 20", 1)
        + "  - code: SKHDT-DN-99\n    name: Thủ tục mới\n    working_days: 5\n    unit: DKKD\n",
        encoding="utf-8",
    )
    rules_file = folder / "rules" / "apology-2025.yaml"
    rules_file.write_text(
        rules_file.read_text(encoding="utf-8").replace(
            "default_extension_working_days: 5", "default_extension_working_days: 7"
        ),
        encoding="utf-8",
    )
    before = counts(ctx)[1]
    outcomes = {(o.kind, o.id): o for o in load(ctx, folder)}
    changed = {k: (o.status, o.rows_added) for k, o in outcomes.items() if o.status != "unchanged"}
    assert changed == {
        ("procedures", "LSN-SKHDT"): ("updated", ["SKHDT-DT-01", "SKHDT-DN-99"]),
        ("apology_rules", "nd118-2025"): ("updated", []),
    }
    [procs, rules] = log.entries(ctx, after_seq=before)
    assert (procs["action"], procs["organisation"]) == ("procedures.load", "LSN-SKHDT")
    assert procs["data"]["changed"] == ["SKHDT-DT-01", "SKHDT-DN-99"]
    assert (rules["action"], rules["subject"]) == ("rules.load", "rules:nd118-2025")
    with ctx.engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(procedures.c.code, procedures.c.working_days).where(
                    procedures.c.organisation == "LSN-SKHDT"
                )
            )
            .tuples()
            .all()
        )
        digest = conn.execute(
            select(rule_sets.c.content_hash).where(rule_sets.c.id == "nd118-2025")
        ).scalar_one()
    assert (stored["SKHDT-DT-01"], stored["SKHDT-DN-99"]) == (20, 5)
    assert rules["data"]["spec_sha256"] == digest
    assert {o.status for o in load(ctx, folder)} == {"unchanged"}
