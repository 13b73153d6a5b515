"""The CLI as users and scripts meet it: a task's whole life, exit codes, formats, tampering."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.conftest import DEFINITIONS, Cli, run_process
from workflow.store.engine import open_engine

LS_PLAN = "lsn-skhdt-papi-2024"
TASK_KEYS = {"id", "code", "title", "plan", "state", "lead_unit", "due_date", "version"}
ENTRY_KEYS = {
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "subject",
    "from_state",
    "to_state",
    "data",
    "prev_hash",
    "hash",
}


def loaded(cli: Cli) -> dict[str, list[str]]:
    """Load the definitions; return Lạng Sơn's people by role."""
    assert cli("init", "--simulation").code == 0
    result = cli("plans", "load", str(DEFINITIONS), "--format", "json")
    assert result.code == 0, result.err
    org = json.loads(cli("orgs", "show", "LSN-SKHDT", "--format", "json").out)
    assert {"code", "name", "units", "people"} <= set(org)
    people: dict[str, list[str]] = {}
    for person in org["people"]:
        for role in person["roles"]:
            people.setdefault(f"{role}@{person['unit']}", []).append(person["id"])
            people.setdefault(role, []).append(person["id"])
    return people


def test_a_task_life_on_the_cli(cli: Cli) -> None:
    people = loaded(cli)
    listing = json.loads(
        cli("tasks", "list", "--plan", LS_PLAN, "--unit", "TTR", "--format", "json").out
    )
    assert listing and all(set(t) >= TASK_KEYS for t in listing)
    task = listing[0]
    tid = str(task["id"])
    staff = people["staff@TTR"][0]
    office_a, office_b = people["office"][:2]
    leader = people["leader"][0]

    assert (
        cli("tasks", "start", tid, "--as", people["staff@DKKD"][0]).code == 4
    )  # not the lead unit
    assert cli("tasks", "start", tid, "--as", staff).code == 0
    refused = cli("tasks", "start", tid, "--as", staff)
    assert (
        refused.code == 3
        and "it is in_progress; start is allowed only when the task is assigned" in refused.err
    )
    missing = cli("tasks", "submit", tid, "--as", staff)
    assert missing.code == 2 and "submit needs --note" in missing.err
    assert (
        cli("tasks", "submit", tid, "--as", staff, "--note", "Biên bản kiểm tra đột xuất").code == 0
    )
    assert cli("tasks", "verify", tid, "--as", staff).code == 4  # staff are not the office
    assert cli("tasks", "return", tid, "--as", office_a, "--note", "Bổ sung kết luận").code == 0
    assert cli("tasks", "submit", tid, "--as", staff, "--note", "Đã bổ sung").code == 0
    stale = cli("tasks", "verify", tid, "--as", office_b, "--expect-version", "2")
    assert stale.code == 5 and "changed by someone else meanwhile" in stale.err
    assert cli("tasks", "verify", tid, "--as", office_b).code == 0
    closed = cli("tasks", "close", tid, "--as", leader, "--format", "json")
    assert closed.code == 0 and json.loads(closed.out)["state"] == "closed"
    assert json.loads(closed.out)["version"] == 7

    history = json.loads(cli("tasks", "history", tid, "--format", "json").out)
    assert [h["action"] for h in history] == [
        "task.create",
        "start",
        "submit",
        "return",
        "submit",
        "verify",
        "close",
    ]
    entries = json.loads(cli("audit", "query", "--task", tid, "--format", "json").out)
    assert entries == history and all(set(e) >= ENTRY_KEYS for e in entries)
    by_office = json.loads(
        cli("audit", "query", "--actor", office_a, "--action", "return", "--format", "json").out
    )
    assert [e["data"]["note"] for e in by_office] == ["Bổ sung kết luận"]
    rows = list(
        csv.DictReader(io.StringIO(cli("audit", "query", "--task", tid, "--format", "csv").out))
    )
    assert [r["action"] for r in rows][-1] == "close"
    verified = json.loads(cli("audit", "verify", "--format", "json").out)
    assert verified["ok"] and verified["first_bad_seq"] is None and verified["checked"] > 90
    assert cli("tasks", "show", "99999").code == 2


def test_tampering_is_named_by_audit_verify(cli: Cli, db_url: str) -> None:
    loaded(cli)
    anchor = cli("audit", "anchor").out.strip()
    engine = open_engine(db_url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7"))
    engine.dispose()
    result = cli("audit", "verify", "--format", "json")
    report = json.loads(result.out)
    assert result.code == 6 and result.err == ""  # the report says it all
    assert (report["ok"], report["first_bad_seq"], report["checked"]) == (False, 7, 6)
    assert "entry 7 was altered" in report["problem"]
    table = cli("audit", "verify")
    assert table.code == 6 and "BROKEN at entry 7" in table.out and table.err == ""
    assert cli("audit", "verify", "--anchor", anchor).code == 6
    assert cli("audit", "verify", "--anchor", "nonsense").code == 2
    head = cli("audit", "anchor")
    assert (head.code, head.err) == (6, "")
    assert head.out.startswith("audit log BROKEN: ") and head.out.endswith("; no anchor printed\n")
    head = cli("audit", "anchor", "--format", "json")
    assert (head.code, head.err, json.loads(head.out)["ok"]) == (6, "", False)


def test_listings_speak_table_json_and_csv(cli: Cli) -> None:
    loaded(cli)
    plans = json.loads(cli("plans", "list", "--format", "json").out)
    assert {p["id"]: p["task_count"] for p in plans}[LS_PLAN] == 9
    assert all({"id", "version", "title", "organisation", "task_count"} <= set(p) for p in plans)
    table = cli("tasks", "list", "--plan", LS_PLAN).out.splitlines()
    assert table[0].split()[:4] == ["ID", "CODE", "PERIOD", "STATE"] and len(table) == 10
    csv_rows = list(csv.DictReader(io.StringIO(cli("tasks", "list", "--format", "csv").out)))
    assert len(csv_rows) == 88
    overdue = json.loads(
        cli("tasks", "list", "--overdue", "--as-of", "2024-07-01", "--format", "json").out
    )
    assert {t["code"] for t in overdue if t["plan"] == LS_PLAN} == {"III.2"}  # the H1 report
    shown = cli("plans", "show", "qna-bqlkkt-par-sipas-2023")
    assert (
        "SIPAS · Tiếp cận dịch vụ" in shown.out
        and "PAR INDEX · Công tác lãnh đạo, chỉ đạo" in shown.out
    )
    orgs = json.loads(cli("orgs", "list", "--format", "json").out)
    assert {o["code"] for o in orgs} == {"QNA-BQLKKT", "LSN-SKHDT"}
    assert cli("tasks", "list", "--format", "yaml").code == 2


def test_bad_definitions_are_refused_with_positions_and_nothing_loads(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("init", "--simulation").code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: plan\nid: x\norganisation: QNA-BQLKKT\ntitle: [\n", encoding="utf-8")
    result = cli("plans", "load", str(DEFINITIONS), str(bad))
    assert result.code == 2
    assert f"{bad}:5:1: YAML syntax error" in result.err
    assert "nothing was loaded" in result.err
    assert json.loads(cli("plans", "list", "--format", "json").out) == []
    assert cli("plans", "validate", str(DEFINITIONS)).code == 0
    # For machines: the problems as a list on stdout; on stderr as for people.
    result = cli("plans", "validate", str(bad), "--format", "json")
    [problem] = json.loads(result.out)
    assert result.code == 2 and set(problem) == {"file", "line", "column", "message"}
    where = f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['message']}"
    assert result.err.splitlines() == [
        where,
        "planflow: error: 1 problem",
    ]


def test_log_json_has_one_event_per_transition(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    people = loaded(cli)
    first, second = json.loads(
        cli("tasks", "list", "--plan", LS_PLAN, "--unit", "VP", "--format", "json").out
    )[:2]
    staff = people["staff@VP"][0]
    quiet = cli("--log-json", "tasks", "start", str(first["id"]), "--as", staff)
    assert quiet.code == 0 and quiet.err == ""  # without --verbose: the command's output only
    monkeypatch.setenv("PLANFLOW_NOW", "2031-06-20T09:15")  # after the load
    task = second
    result = cli("--log-json", "--verbose", "tasks", "start", str(task["id"]), "--as", staff)
    [event] = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    assert event["event"] == "task.transition"
    assert (event["task"], event["from"], event["to"]) == (task["id"], "assigned", "in_progress")
    assert event["actor"] == people["staff@VP"][0] and event["role"] == "staff"
    assert event["timestamp"] == "2031-06-20T09:15:00+07:00"  # the simulated time, Vietnam's


def test_lifecycle_diagram_and_schema(cli: Cli) -> None:
    diagram = cli("lifecycle", "diagram").out
    assert diagram.startswith("stateDiagram-v2")
    assert "submitted --> verified: verify (office, not the submitter)" in diagram
    schema = json.loads(cli("plans", "schema").out)
    assert "par.leadership" in schema["$defs"]["TaskSpec"]["properties"]["category"]["enum"]
    assert {"OrganisationSpec", "PlanSpec"} <= set(schema["$defs"])


def test_eight_processes_start_the_same_task_one_wins(db_url: str) -> None:
    assert run_process("plans", "load", str(DEFINITIONS), db=db_url).code == 0
    listing = json.loads(
        run_process("tasks", "list", "--unit", "TTR", "--format", "json", db=db_url).out
    )
    tid = str(listing[0]["id"])

    people = json.loads(
        run_process("orgs", "show", "LSN-SKHDT", "--format", "json", db=db_url).out
    )["people"]
    staff = next(p["id"] for p in people if p["unit"] == "TTR" and "staff" in p["roles"])

    def start_as(_: int) -> int:
        return run_process(
            "tasks", "start", tid, "--as", staff, "--expect-version", "1", db=db_url
        ).code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(start_as, range(8)))
    assert codes == [0] + [5] * 7
    history = json.loads(run_process("tasks", "history", tid, "--format", "json", db=db_url).out)
    assert [h["action"] for h in history] == ["task.create", "start"]


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_process(
        "demo",
        "--definitions",
        str(DEFINITIONS),
        "--out",
        str(out),
        "--format",
        "json",
        timeout=600,
    )
    assert result.code == 0, result.err
    # Not a terminal: no progress bar, and its events are in the log file, not on stderr.
    assert result.err == "", result.err
    events = [json.loads(line) for line in (out / "planflow.log").read_text("utf-8").splitlines()]
    assert len(events) > 500 and {e["level"] for e in events} == {"info"}
    # Stamped with the simulated quarter's time (Vietnam time), not today's clock.
    assert events[0]["timestamp"] == "2024-04-01T07:00:00+07:00"
    assert all("2024-04-01" <= e["timestamp"] < "2024-07-01" for e in events)
    summary = json.loads(result.out)
    assert summary["plans"] == 4 and summary["dossiers"] > 50
    assert summary["letters"] > 0 and summary["escalations"] > 0 and summary["reminders"] > 0
    assert summary["moves"]["start"] > 0 and summary["moves"]["return"] > 0
    assert summary["refused"] == {"verify (exit 4)": 1}  # the four-eyes attempt
    assert summary["audit_entries"] > 500 and summary["audit_anchor"].startswith(
        f"{summary['audit_entries']}:"
    )
    letters = list((out / "letters").rglob("*.html"))
    assert len(letters) == summary["letters"] and len(
        list((out / "letters").rglob("*.docx"))
    ) == len(letters)
    assert (out / "planflow-demo.db").exists()
    # Inspections: one draw per organisation and period, records verified, notices and fixes.
    inspected = summary["inspections"]
    assert [(d["organisation"], d["period"], len(d["selected"])) for d in inspected["draws"]] == [
        ("LSN-SKHDT", "2024Q2", 2), ("QNA-BQLKKT", "2024", 2),
    ]  # fmt: skip
    assert inspected["records"] >= inspected["conclusions"] > 0 and inspected["fix_tasks"] > 0
    notices = list((out / "inspections").rglob("TB-*.html"))
    assert (
        len(notices)
        == inspected["conclusions"]
        == len(list((out / "inspections").rglob("TB-*.docx")))
    )
    # Reports: the quarter on the reporting window (after 14/6) and on calendar quarters.
    reports = summary["reports"]
    assert sorted((r["organisation"], r["window"]["rule"]) for r in reports) == [
        ("LSN-SKHDT", "calendar"), ("LSN-SKHDT", "reporting"),
        ("QNA-BQLKKT", "calendar"), ("QNA-BQLKKT", "reporting"),
    ]  # fmt: skip
    assert all(Path(path).exists() for r in reports for path in r["files"].values())
    # Each lists every task open in its window: the Lạng Sơn plan's 9 (none done before the
    # quarter: the demo starts on 01/04), not only the one due in it; the calendar quarter's,
    # asked on its last day, is provisional.
    lsn = {r["window"]["rule"]: r for r in reports if r["organisation"] == "LSN-SKHDT"}
    assert all(r["tasks"] >= 9 for r in lsn.values())
    assert (lsn["reporting"]["provisional"], lsn["calendar"]["provisional"]) == (False, True)
    db = f"sqlite:///{out / 'planflow-demo.db'}"
    for draw in inspected["draws"]:
        assert run_process("inspections", "explain", str(draw["inspection"]), db=db).code == 0
    assert run_process("audit", "replay", db=db).code == 0
    for r in reports:  # each snapshot's hash is the one in the audit log
        shown = run_process("reports", "show", str(r["snapshot"]), "--format", "json", db=db)
        assert shown.code == 0 and json.loads(shown.out)["hash"] == r["hash"]
