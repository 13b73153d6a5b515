"""The inspection flow from the command line: a real Prefect flow on both backends, the
seed organisations' files, the whole path from draw to fix task, and explain's exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text, update

from tests.e2e.conftest import DEFINITIONS, Cli
from tests.integration.test_faults_tampering import owner, rehash_from
from tests.support import log
from workflow.domain.audit_chain import canonical_json
from workflow.services import Context
from workflow.store.engine import open_engine
from workflow.store.tables import audit_log

ORG = "QNA-BQLKKT"
INSPECTOR = "qna.dkt.phan-van-tam"
OFFICE1 = "qna.hcth.tran-thi-lan"


def inspect(cli: Cli, *extra: str) -> dict[str, object]:
    done = cli("flows", "inspect", "--org", ORG, "--period", "2024", "--format", "json", *extra)
    assert done.code == 0, done.err
    result: dict[str, object] = json.loads(done.out)
    return result


@pytest.fixture
def loaded(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    # A run without --out writes to output/inspections here (its notices, its planflow.log):
    # here is the test's folder, not the checkout.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_NOW", "2024-05-20T09:00")
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    return cli


def test_draw_record_verify_conclude_on_the_cli(
    prefect_server: None, loaded: Cli, tmp_path: Path, db_url: str
) -> None:
    cli = loaded
    out = tmp_path / "tb"
    first = inspect(cli, "--as", INSPECTOR, "--seed", "2024", "--out", str(out))
    assert {"inspection", "period", "population", "selected", "seed"} <= set(first)
    assert first["seed"] == 2024 and first["period"] == "2024"
    population = first["population"]
    assert isinstance(population, list) and len(population) == 6  # CPDV: six units
    selected = first["selected"]
    assert isinstance(selected, list) and len(selected) == 2  # ceil(0.3 × 6)

    # Again for the same period: the stored draw, whatever the seed asked for.
    again = inspect(cli, "--as", INSPECTOR, "--seed", "1")
    assert (again["inspection"], again["selected"], again["existing"]) == (
        first["inspection"], selected, True,
    )  # fmt: skip

    explained = cli("inspections", "explain", str(first["inspection"]))
    assert explained.code == 0 and "follows from its inputs" in explained.out
    assert all(unit in explained.out for unit in selected)

    # The inspector fills in the template and submits; the office verifies.
    task_id = next(t["task"] for t in first["tasks"] if t["unit"] == selected[0])  # type: ignore[attr-defined, index]
    assert cli("tasks", "start", str(task_id), "--as", INSPECTOR).code == 0
    template = cli("inspections", "template", str(task_id))
    assert template.code == 0 and "findings:" in template.out
    record = tmp_path / "bien-ban.yaml"
    record.write_text(
        template.out.replace(
            "fixes: []", 'fixes:\n  - title: "Cập nhật quy trình nội bộ"\n    due: 2024-07-31'
        ),
        encoding="utf-8",
    )
    submitted = cli("inspections", "record", str(task_id), "--file", str(record), "--as", INSPECTOR)
    assert submitted.code == 0, submitted.err
    assert "submitted" in submitted.out
    assert cli("tasks", "verify", str(task_id), "--as", INSPECTOR).code == 4  # four-eyes
    assert cli("tasks", "verify", str(task_id), "--as", OFFICE1).code == 0

    concluded = inspect(cli, "--as", INSPECTOR, "--out", str(out))
    [conclusion] = concluded["conclusions"]  # type: ignore[misc]
    assert Path(conclusion["html"]).exists() and Path(conclusion["docx"]).exists()
    html = Path(conclusion["html"]).read_text(encoding="utf-8")
    assert "THÔNG BÁO" in html and "Cập nhật quy trình nội bộ" in html
    [fix] = conclusion["fix_tasks"]
    shown = json.loads(cli("tasks", "show", str(fix), "--format", "json").out)
    assert shown["lead_unit"] == selected[0] and shown["kind"] == "fix"
    assert shown["due_date"] == "2024-07-31"
    assert inspect(cli, "--as", INSPECTOR)["conclusions"] == []  # once only
    assert cli("audit", "verify").code == 0 and cli("audit", "replay").code == 0


def test_refusals_have_their_exit_codes(prefect_server: None, loaded: Cli) -> None:
    cli = loaded
    low = cli("flows", "inspect", "--org", ORG, "--period", "2024", "--ratio", "0.2", "--as",
              INSPECTOR)  # fmt: skip
    assert low.code == 2 and "at least 30%" in low.err
    assert low.err.count("\n") == 1 and low.err.startswith("planflow: error: ")
    quarter = cli("flows", "inspect", "--org", ORG, "--period", "2024Q2", "--as", INSPECTOR)
    assert quarter.code == 2 and "inspects every year" in quarter.err
    assert cli("flows", "inspect", "--org", ORG, "--period", "2024", "--as", OFFICE1).code == 4
    assert cli("flows", "inspect", "--org", ORG, "--period", "20x4", "--as", INSPECTOR).code == 2
    drawn = inspect(cli, "--as", INSPECTOR, "--seed", "5")
    redraw = ("flows", "inspect", "--org", ORG, "--period", "2024", "--redraw")
    assert cli(*redraw, "--as", OFFICE1).code == 2  # no reason
    assert cli(*redraw, "--reason", "Danh sách sai", "--as", INSPECTOR).code == 4
    done = cli(*redraw, "--reason", "Danh sách sai", "--as", OFFICE1, "--format", "json")
    assert done.code == 0 and json.loads(done.out)["supersedes"] == drawn["inspection"]
    listed = json.loads(cli("inspections", "list", "--format", "json").out)
    assert [d["revision"] for d in listed] == [1, 2]
    assert cli("inspections", "explain", "999").code == 2


def test_explain_exits_6_on_a_doctored_draw(prefect_server: None, loaded: Cli, db_url: str) -> None:
    drawn = inspect(loaded, "--as", INSPECTOR, "--seed", "9")
    engine = open_engine(db_url)
    ctx = Context(engine)
    [entry] = log.entries(ctx, action="inspection.draw")
    data = dict(entry["data"])
    data["record"] = dict(data["record"], seed=10)  # same result claimed from another seed
    with owner(ctx) as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == entry["seq"])
            .values(data=canonical_json(data))
        )
        rehash_from(conn, entry["seq"])
    engine.dispose()
    done = loaded("inspections", "explain", str(drawn["inspection"]))
    assert done.code == 6, done.err
    assert done.err.count("\n") == 1
    assert (
        "does not follow from the recorded inputs" in done.err  # another result from seed 10
        or "the inspections table says" in done.err  # the same result: the seeds disagree
    )


def test_a_record_edited_after_verification_is_exit_6_and_no_notice(
    prefect_server: None, loaded: Cli, tmp_path: Path, db_url: str
) -> None:
    cli, out = loaded, tmp_path / "tb"
    drawn = inspect(cli, "--as", INSPECTOR, "--seed", "2024", "--out", str(out))
    task_id = drawn["tasks"][0]["task"]  # type: ignore[index]
    assert cli("tasks", "start", str(task_id), "--as", INSPECTOR).code == 0
    record = tmp_path / "bien-ban.yaml"
    record.write_text(
        cli("inspections", "template", str(task_id)).out.replace(
            "fixes: []", 'fixes:\n  - title: "Cập nhật quy trình nội bộ"\n    due: 2024-07-31'
        ),
        encoding="utf-8",
    )
    submitted = cli("inspections", "record", str(task_id), "--file", str(record), "--as", INSPECTOR)
    assert submitted.code == 0, submitted.err
    assert cli("tasks", "verify", str(task_id), "--as", OFFICE1).code == 0
    engine = open_engine(db_url)
    with engine.begin() as conn:  # the owner removes the fixes from the verified record
        stored = json.loads(
            conn.execute(
                text("SELECT record FROM inspection_records WHERE task_id = :t"), {"t": task_id}
            ).scalar_one()
        )
        conn.execute(
            text("UPDATE inspection_records SET record = :r WHERE task_id = :t"),
            {"r": canonical_json(dict(stored, fixes=[])), "t": task_id},
        )
    engine.dispose()
    done = cli("flows", "inspect", "--org", ORG, "--period", "2024", "--as", INSPECTOR,
               "--out", str(out))  # fmt: skip
    assert done.code == 6 and done.err.count("\n") == 1, done.err
    assert done.err.startswith(
        f"planflow: error: the stored record of inspection task {task_id} (revision 1"
    )
    assert "not the one the office verified" in done.err
    shown = json.loads(cli("inspections", "show", str(drawn["inspection"]), "-f", "json").out)
    [target] = [t for t in shown["targets"] if t["task"] == task_id]
    assert (target["conclusion"], target["fix_tasks"]) == (None, [])
    assert not list(out.rglob("TB-*"))
