"""`planflow flows aggregate` runs the real Prefect flow (on the session's test server) and
writes the report; `planflow reports list|show` read the snapshots back; bad input is exit 2
before Prefect is even started."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.conftest import DEFINITIONS, Cli
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.services import Context, reports
from workflow.store.engine import open_engine

ORG = "LSN-SKHDT"
KEYS = {"snapshot", "hash", "period", "window", "totals", "by_plan", "by_unit"}


@pytest.fixture
def loaded(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("PLANFLOW_OPERATOR", "vp.admin")
    # Loaded early in June (the log goes forward in time: a test may run a flow as of
    # mid-June), then the commands run on 20/07.
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-01T09:00")
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    monkeypatch.setenv("PLANFLOW_NOW", "2024-07-20T09:00")
    return cli


def test_aggregate_writes_the_report_once_and_revises_on_request(
    prefect_server: None, loaded: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    args = ["flows", "aggregate", "--org", ORG, "--period", "2024H1", "--window", "calendar"]
    done = loaded(*args, "--out", str(out), "--format", "json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert set(report) >= KEYS and report["created"] is True
    assert report["window"] == {"rule": "calendar", "from": "2024-01-01", "to": "2024-06-30"}
    # Every task of the plan is open in the half-year (loaded 01/06, none started), not only
    # the one due in it: III.2's half-year report, due 30/06, overdue at the window's end.
    assert report["totals"]["tasks_by_state"]["assigned"] == report["totals"]["tasks"] == 9
    assert (report["totals"]["tasks_due"], report["totals"]["tasks_overdue"]) == (1, 1)
    # Due in the next half (01/07 to 31/12): the seven continuous tasks and III.2's second.
    assert report["totals"]["tasks_due_next"] == 8
    assert report["next_period"]["period"] == "2024H2"
    assert [p["plan"] for p in report["by_plan"]] == ["lsn-skhdt-papi-2024"]
    assert report["generated_by"] == "operator:vp.admin"
    files = {kind: Path(path) for kind, path in report["files"].items()}
    assert {k: files[k].name for k in ("json", "csv", "html")} == {
        "json": "2024H1-calendar-r1.json",
        "csv": "2024H1-calendar-r1.csv",
        "html": "2024H1-calendar-r1.html",
    }
    assert all(p.parent == out / ORG for p in files.values())
    html = files["html"].read_text(encoding="utf-8")
    assert "Kết quả thực hiện kế hoạch cải cách hành chính 6 tháng đầu năm 2024" in html
    assert "Kính gửi: Sở Nội vụ tỉnh Lạng Sơn." in html and report["hash"] in html
    assert files["csv"].read_text(encoding="utf-8-sig").startswith("snapshot,organisation,period")
    stored_json = json.loads(files["json"].read_text(encoding="utf-8"))
    assert stored_json == {
        k: v for k, v in report.items() if k not in ("files", "created", "seconds")
    }

    again = json.loads(loaded(*args, "--out", str(out), "--format", "json").out)
    assert again["created"] is False
    assert (again["snapshot"], again["hash"]) == (report["snapshot"], report["hash"])

    revised = loaded(*args, "--out", str(out), "--revise", "--reason", "Bổ sung số liệu")
    assert revised.code == 0, revised.err
    assert "stored now" in revised.out and "revises report" in revised.out
    listed = json.loads(loaded("reports", "list", "--org", ORG, "--format", "json").out)
    assert [(r["revision"], r["previous"]) for r in listed] == [(1, None), (2, report["snapshot"])]
    assert (out / ORG / "2024H1-calendar-r2.html").is_file()
    shown = json.loads(loaded("reports", "show", str(report["snapshot"]), "--format", "json").out)
    assert shown == stored_json
    table = loaded("reports", "show", str(listed[1]["id"]))
    assert table.code == 0 and "hash checked against the audit log" in table.out
    assert loaded("audit", "verify").code == 0


def test_a_scheduled_run_without_a_period_reports_the_latest_closed_quarter(
    prefect_server: None, loaded: Cli, tmp_path: Path
) -> None:
    from flows.aggregate import aggregate_flow

    now = dt.datetime(2024, 6, 15, 2, 0, tzinfo=LOCAL_TZ)  # the night Q2's window closed
    result = aggregate_flow(loaded.db, ORG, out_dir=str(tmp_path), now=now)
    assert (result["period"], result["window"]["to"], result["provisional"]) == (
        "2024Q2",
        "2024-06-14",
        False,
    )
    assert result["generated_by"] == "flow:aggregate" and result["created"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--period", "2024Q5"], "period '2024Q5' is not a year"),
        (["--period", "2024", "--window", "weekly"], "--window 'weekly' is not known"),
        (["--period", "2024Q4"], "period 2024Q4 has not begun"),
        (["--period", "2024", "--revise"], "--revise needs --reason"),
        (["--period", "2024", "--reason", "x"], "--reason goes with --revise"),
        (["--period", "2024", "--format", "csv"], "--format 'csv' is not known"),
        ([], "Missing option '--period'"),
    ],
)
def test_bad_input_is_exit_2_before_anything_runs(
    loaded: Cli, extra: list[str], message: str
) -> None:
    done = loaded("flows", "aggregate", "--org", ORG, *extra)
    assert done.code == 2, done.err
    assert done.err.splitlines()[-1].startswith("planflow: error: ") and message in done.err
    assert json.loads(loaded("reports", "list", "--format", "json").out) == []


def test_unknown_organisations_and_reports_are_exit_2(loaded: Cli) -> None:
    done = loaded("flows", "aggregate", "--org", "NO-SUCH", "--period", "2024")
    assert done.code == 2 and "organisation 'NO-SUCH' does not exist" in done.err
    done = loaded("reports", "show", "42")
    assert done.code == 2 and "report 42 does not exist" in done.err
    assert loaded("reports", "list", "--period", "2024Q9").code == 2
    assert loaded("reports", "show", "99999999999999999999999").code == 2


def test_an_altered_snapshot_is_exit_6_in_one_line_before_prefect_starts(loaded: Cli) -> None:
    engine = open_engine(loaded.db)
    ctx = Context(engine, clock=FixedClock(dt.datetime(2024, 7, 20, 9, tzinfo=LOCAL_TZ)))
    stored = reports.generate(ctx, reports.Request(ORG, "2024H1", "calendar")).report
    with engine.begin() as conn:  # an owner who disables the guard and edits the figures
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER report_snapshots_no_update"))
        else:
            conn.execute(text("ALTER TABLE report_snapshots DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE report_snapshots SET content = replace(content, '1', '2')"))
    engine.dispose()
    for args in (
        ["flows", "aggregate", "--org", ORG, "--period", "2024H1", "--window", "calendar"],
        ["reports", "show", str(stored["snapshot"])],
    ):
        done = loaded(*args)
        lines = done.err.splitlines()
        assert done.code == 6 and len(lines) == 1, done.err
        assert lines[0].startswith(f"planflow: error: report {stored['snapshot']} was altered")


def test_the_province_roll_up_ranks_the_seed_agencies(
    loaded: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = loaded("reports", "province", "--period", "2024Q2", "--format", "json")
    assert done.code == 0, done.err
    rolled = json.loads(done.out)
    rows = {r["organisation"]: r for r in rolled["organisations"]}
    assert set(rows) == {"LSN-SKHDT", "QNA-BQLKKT"}
    # Quảng Nam's 2023 tasks, none done, are overdue: 0%, ranked; Lạng Sơn has nothing done
    # nor overdue yet (its tasks are due at the half-year's end and the year's): unranked.
    assert (rows["QNA-BQLKKT"]["rank"], rows["QNA-BQLKKT"]["on_time_pct"]) == (1, 0.0)
    assert (rows["LSN-SKHDT"]["rank"], rows["LSN-SKHDT"]["tasks"]) == (None, 9)
    table = loaded("reports", "province", "--period", "2024Q2")
    assert table.code == 0 and "reporting window 2024-03-15 to 2024-06-14" in table.out
    assert "RANK" in table.out and "QNA-BQLKKT" in table.out
    csv = loaded("reports", "province", "--period", "2024Q2", "--format", "csv")
    assert csv.code == 0 and csv.out.lstrip("\ufeff").startswith("period,window,from,to")
    refused = loaded("reports", "province", "--period", "2024Q4")
    assert refused.code == 2 and "has not begun" in refused.err
    assert loaded("reports", "province", "--period", "2024Q2", "--window", "lunar").code == 2
    # With a token, its person must read every organisation: Lạng Sơn's auditor does not.
    auditor = "lsn.vp.chu-thi-hanh"
    assert loaded("accounts", "invite", auditor).code == 0
    secret = tmp_path / "token"
    made = loaded(
        "tokens", "create", "--person", auditor, "--permission", "reports:read",
        "--label", "báo cáo", "--secret-file", str(secret),
    )  # fmt: skip
    assert made.code == 0, made.err
    monkeypatch.setenv("PLANFLOW_TOKEN", secret.read_text(encoding="utf-8").strip())
    refused = loaded("reports", "province", "--period", "2024Q2")
    assert refused.code == 4 and "may not read every organisation" in refused.err
