"""The dossier commands as scripts use them: JSON keys, exit codes, line-numbered errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import DEFINITIONS, Cli

DESK = "lsn.dkkd.be-thi-huong"


@pytest.fixture
def ready(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setitem(os.environ, "PLANFLOW_NOW", "2024-06-03T17:00")
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    return cli


def test_procedures_and_receiving(ready: Cli) -> None:
    procedures = json.loads(
        ready("procedures", "list", "--org", "LSN-SKHDT", "--format", "json").out
    )
    assert {"code", "name", "working_days", "unit"} <= set(procedures[0])
    assert {p["code"]: p["working_days"] for p in procedures}["SKHDT-DN-01"] == 3
    done = ready(
        "dossiers",
        "receive",
        "--procedure",
        "SKHDT-DN-01",
        "--applicant",
        "Công ty TNHH Hoa Sen",
        "--received-at",
        "2024-06-03T10:00",
        "--email",
        "hoasen@example.vn",
        "--as",
        DESK,
        "--format",
        "json",
    )
    dossier = json.loads(done.out)
    assert {"id", "code", "due_date"} <= set(dossier)
    assert (dossier["code"], dossier["due_date"]) == ("LSN-SKHDT-240603-0001", "2024-06-06")
    bad = ready(
        "dossiers",
        "receive",
        "--procedure",
        "NOPE",
        "--applicant",
        "X",
        "--received-at",
        "2024-06-03T10:00",
        "--as",
        DESK,
    )
    assert bad.code == 2 and "unknown procedure 'NOPE'" in bad.err
    late = ready(
        "dossiers",
        "delay",
        str(dossier["id"]),
        "--reason",
        "Cần xác minh",
        "--days",
        "2",
        "--as",
        "lsn.vp.luong-thi-thu",
    )
    assert late.code == 4 and "only the handling unit DKKD" in late.err
    ok = ready(
        "dossiers",
        "delay",
        str(dossier["id"]),
        "--reason",
        "Cần xác minh",
        "--days",
        "2",
        "--as",
        "lsn.dkkd.ly-van-duc",
        "--format",
        "json",
    )
    assert ok.code == 0 and json.loads(ok.out)["delay_days"] == 2
    listed = json.loads(
        ready("dossiers", "list", "--late", "--as-of", "2024-06-07", "--format", "json").out
    )
    assert [d["id"] for d in listed] == [dossier["id"]]


def test_import_names_every_bad_line_and_imports_nothing(ready: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "dossiers.csv"
    csv_file.write_text(
        "procedure,applicant,received_at\n"
        "SKHDT-DN-01,Công ty A,2024-06-03 09:00\n"
        "SKHDT-DN-01,Công ty B,hôm qua\n"
        "SKHDT-ZZ,Công ty C,2024-06-03 09:00\n",
        encoding="utf-8",
    )
    result = ready("dossiers", "import", str(csv_file), "--as", DESK)
    assert result.code == 2
    assert f"{csv_file}:3: received_at 'hôm qua' is not a date and time" in result.err
    assert f"{csv_file}:4: unknown procedure 'SKHDT-ZZ'" in result.err
    assert "2 bad row(s); nothing was imported" in result.err
    assert json.loads(ready("dossiers", "list", "--format", "json").out) == []
    missing = tmp_path / "nohead.csv"
    missing.write_text("a,b\n1,2\n", encoding="utf-8")
    assert (
        "missing column(s) procedure, applicant, received_at"
        in ready("dossiers", "import", str(missing), "--as", DESK).err
    )
