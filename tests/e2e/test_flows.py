"""Real Prefect flows (one test-harness server for the whole session) and the CLI's flows."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEFINITIONS, run_process
from workflow.cli.main import run
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.errors import Conflict
from workflow.services import Context
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine


def test_the_apology_flow_runs_in_batches_and_once_per_day(
    prefect_server: None, db_url: str, tmp_path: Path
) -> None:
    from flows.apology import apology_flow

    engine = open_engine(db_url)
    ctx = Context(engine, clock=FixedClock(dt.datetime(2024, 6, 3, 17, tzinfo=LOCAL_TZ)))
    found, _ = validate([DEFINITIONS])
    plan_service.load(ctx, found)
    for i in range(7):
        received = dossier_service.receive(
            ctx,
            dossier_service.NewDossier(
                "SKHDT-DN-01",
                dossier_service.Applicant(f"Hộ kinh doanh số {i}"),
                dt.datetime(2024, 6, 3, 9, i, tzinfo=LOCAL_TZ),
            ),
            "lsn.dkkd.be-thi-huong",
        )
        # A letter states the reason the handling unit declared.
        dossier_service.delay(ctx, int(received["id"]), "Cần xác minh", 2, "lsn.dkkd.ly-van-duc")
    now = dt.datetime(2024, 6, 5, 7, tzinfo=LOCAL_TZ)
    result = apology_flow(db_url, dt.date(2024, 6, 5), str(tmp_path), None, 3, now)
    assert len(result["letters"]) == 7 and result["candidates"] == 7
    reminders = len(result["reminders"])  # overdue plan tasks, in batches of 3 too
    assert reminders > 0 and result["batches"] == 3 + -(-reminders // 3)
    assert all(Path(letter["path"]).exists() and letter["dossier"] for letter in result["letters"])
    assert set(result["seconds"]) == {"total", "database", "prefect"}
    again = apology_flow(db_url, dt.date(2024, 6, 5), str(tmp_path), None, 3, now)
    assert (again["letters"], again["reminders"], again["escalations"]) == ([], [], [])
    engine.dispose()


def test_flows_apology_on_the_cli(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-03T10:00")  # the desk's day; the flow's: today
    assert run_process("plans", "load", str(DEFINITIONS), db=sqlite_url).code == 0
    csv = tmp_path / "in.csv"
    csv.write_text(
        "procedure,applicant,received_at\nSKHDT-DN-01,Công ty Hoa Sen,2024-06-03 09:00\n",
        encoding="utf-8",
    )
    assert (
        run_process(
            "dossiers", "import", str(csv), "--as", "lsn.dkkd.be-thi-huong", db=sqlite_url
        ).code
        == 0
    )
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-04T09:00")  # before the due date, 6/6
    [received] = json.loads(run_process("dossiers", "list", "--format", "json", db=sqlite_url).out)
    delay = ["dossiers", "delay", str(received["id"]), "--reason", "Cần xác minh", "--days", "2"]
    declared = run_process(*delay, "--as", "lsn.dkkd.ly-van-duc", db=sqlite_url)
    assert declared.code == 0, declared.err
    monkeypatch.delenv("PLANFLOW_NOW")
    done = run_process(
        "flows",
        "apology",
        "--as-of",
        "2024-06-12",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
        db=sqlite_url,
        timeout=300,
    )
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert set(report) >= {"letters", "reminders", "escalations"}
    [letter] = report["letters"]
    listed = json.loads(run_process("dossiers", "list", "--format", "json", db=sqlite_url).out)
    assert Path(letter["path"]).is_file() and letter["dossier"] == listed[0]["id"]
    assert (letter["missed_due"], listed[0]["extension_count"]) == ("2024-06-06", 1)
    assert "Traceback" not in done.err and "ERROR" not in done.err, done.err


INSPECTOR = ["--as", "lsn.ttr.lang-thi-mai"]


@pytest.mark.parametrize(
    ("command", "service", "function"),
    [
        (["flows", "aggregate", "--org", "LSN-SKHDT", "--period", "2024Q2"], "reports", "generate"),
        (["flows", "apology", "--as-of", "2024-07-15"], "apology", "find_work"),
        (
            ["flows", "inspect", "--org", "LSN-SKHDT", "--period", "2024Q3", *INSPECTOR],
            "inspections",
            "draw",
        ),
    ],
    ids=["aggregate", "apology", "inspect"],
)
def test_an_error_inside_a_flow_run_is_one_line_not_prefects_traceback(
    prefect_server: None,
    sqlite_url: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    service: str,
    function: str,
) -> None:
    """Someone else's transaction wins after the CLI's checks passed, inside a Prefect task:
    the user sees the CLI's one line and its exit code (5), not Prefect's tracebacks and ERROR
    lines about the same error."""
    assert run(["--db", sqlite_url, "plans", "load", str(DEFINITIONS)]) == 0
    module = importlib.import_module(f"workflow.services.{service}")

    def lost_the_race(*_args: Any, **_kwargs: Any) -> Any:
        raise Conflict("another transaction changed the same rows; try again")

    monkeypatch.setattr(module, function, lost_the_race)
    monkeypatch.setenv("PLANFLOW_NOW", "2024-07-20T09:00")
    capfd.readouterr()
    code = run(["--db", sqlite_url, *command, "--out", str(tmp_path / "out")])
    err = capfd.readouterr().err
    assert code == 5, err
    assert "Traceback" not in err and "| ERROR" not in err, err
    assert [line for line in err.splitlines() if line.strip()] == [
        "planflow: error: another transaction changed the same rows; try again"
    ]
