"""Quiet by default: a command prints its output; its events go to the output folder's
planflow.log (the flows) or, with --verbose, to stderr. Times a person reads are Vietnam
time; JSON keeps ISO 8601 with the offset."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.e2e.conftest import DEFINITIONS, Cli
from workflow import logs

ORG = "LSN-SKHDT"


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_flow_run_is_quiet_and_keeps_its_events_in_the_output_folder(
    prefect_server: None, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLANFLOW_OPERATOR", "vp.admin")
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-01T09:00")
    loaded = cli("plans", "load", str(DEFINITIONS))
    assert loaded.code == 0 and loaded.err == ""  # 10 `definitions.loaded` events: none shown
    monkeypatch.setenv("PLANFLOW_NOW", "2024-07-20T09:00")
    out = tmp_path / "reports"
    args = ["flows", "aggregate", "--org", ORG, "--period", "2024Q2", "--out", str(out)]
    done = cli(*args)
    assert done.code == 0 and done.err == "", done.err
    assert done.out.startswith("report ")
    assert "2024-07-20 09:00:00 by operator:vp.admin" in done.out  # Vietnam time, for people
    log = out / logs.LOG_FILE
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # events name people
    [snapshot] = [e for e in _events(log) if e["event"] == "report.snapshot"]
    # The simulated time (PLANFLOW_NOW), in Vietnam time with its offset.
    assert snapshot["timestamp"] == "2024-07-20T09:00:00+07:00" and snapshot["level"] == "info"

    again = cli("--verbose", *args, "--revise", "--reason", "số liệu bổ sung")
    assert again.code == 0, again.err
    assert "report.snapshot" in again.err and "2024-07-20T09:00:00+07:00" in again.err
    # The file keeps every run's events, one after the other.
    assert [e["event"] for e in _events(log)].count("report.snapshot") == 2


def test_without_verbose_only_warnings_and_errors_reach_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger("planflow")
    logs.configure()
    log.info("task.transition", task=1)
    log.warning("disk.almost_full", free="1%")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "disk.almost_full" in lines[0] and "task.transition" not in lines[0]
    logs.configure(verbose=True)
    log.info("task.transition", task=1)
    assert "task.transition" in capsys.readouterr().err


def test_tables_show_vietnam_time_and_json_keeps_the_offset(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-03T09:30")
    assert cli("init", "--simulation").code == 0
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    rows = tmp_path / "in.csv"
    rows.write_text(
        "procedure,applicant,received_at\nSKHDT-DN-01,Công ty Hoa Sen,2024-06-03 09:00\n",
        encoding="utf-8",
    )
    assert cli("dossiers", "import", str(rows), "--as", "lsn.dkkd.be-thi-huong").code == 0
    [dossier] = json.loads(cli("dossiers", "list", "--format", "json").out)
    assert dossier["received_at"] == "2024-06-03T09:00:00+07:00"
    assert "2024-06-03 09:00:00" in cli("dossiers", "list").out
    assert "2024-06-03 09:00:00" in cli("dossiers", "show", str(dossier["id"])).out

    entry = json.loads(cli("tasks", "history", str(dossier["id"]), "--format", "json").out)[0]
    assert entry["at"].startswith("2024-06-03T02:30:00")  # UTC, as stored, with its offset
    assert entry["at"].endswith(("Z", "+00:00"))
    table = cli("tasks", "history", str(dossier["id"])).out
    audit = cli("audit", "query", "--action", entry["action"]).out
    # The same instant, read the same way in both: Vietnam time, no offset.
    assert "2024-06-03 09:30:00" in table and "2024-06-03 09:30:00" in audit
    assert "T02:30" not in table
