"""Hardening (issue 15, item 7), as a user meets it: personal data in files only its owner
reads, CSV that a spreadsheet cannot run, a terminal that shows what is stored instead of
obeying it, one line and exit 2 or 7 (never 1) for a full disk, an unreachable database, an
id beyond 64 bits or a date out of range, and an import too large refused before it is read.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from tests.e2e.conftest import DEFINITIONS, ROOT, Cli
from tests.e2e.test_api_support import Browser, World, error, worlds
from workflow.cli.main import run
from workflow.cli.options import writable_folder
from workflow.documents.spreadsheet import BOM
from workflow.services.dossier_input import MAX_IMPORT_BYTES
from workflow.store.engine import open_engine

RECEIVER = "lsn.dkkd.be-thi-huong"
HUGE = "99999999999999999999"  # 20 digits: beyond 64 bits


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def one_line(err: str) -> str:
    """The single `planflow: error:` line a failure must be, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("planflow: error: "), err
    return lines[0]


@pytest.fixture
def loaded(cli: Cli) -> Cli:
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    return cli


def receive(cli: Cli, applicant: str) -> int:
    done = cli(
        "dossiers", "receive", "--procedure", "SKHDT-DN-01", "--applicant", applicant,
        "--received-at", "2024-06-03T10:00", "--as", RECEIVER, "--format", "json",
    )  # fmt: skip
    assert done.code == 0, done.err
    return int(json.loads(done.out)["id"])


# ----------------------------------------------------------------------------- files 0600


def test_a_new_sqlite_database_and_its_wal_and_shm_are_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "new.db"
    assert run(["--db", f"sqlite:///{database}", "init", "--simulation"]) == 0
    engine = open_engine(f"sqlite:///{database}")
    with engine.begin() as conn:  # a connection open: the -wal and -shm files exist
        conn.execute(text("SELECT count(*) FROM tasks"))
        files = [database, tmp_path / "new.db-wal", tmp_path / "new.db-shm"]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    engine.dispose()


def test_folders_planflow_creates_are_0700_and_existing_ones_are_left_alone(
    tmp_path: Path,
) -> None:
    os.chmod(tmp_path, 0o755)
    made = writable_folder(tmp_path / "demo-output" / "letters")  # --out of flows and demo
    assert mode(made) == mode(made.parent) == 0o700
    assert mode(tmp_path) == 0o755


def test_an_audit_export_file_is_0600_even_over_an_older_one(loaded: Cli, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    target.write_text("last week's\n", encoding="utf-8")
    os.chmod(target, 0o644)
    assert loaded("audit", "export", "--output", str(target)).code == 0
    assert mode(target) == 0o600 and "last week" not in target.read_text(encoding="utf-8")
    fresh = tmp_path / "audit.csv"
    assert loaded("audit", "export", "--format", "csv", "--output", str(fresh)).code == 0
    assert mode(fresh) == 0o600 and fresh.read_text(encoding="utf-8").startswith(BOM + "seq,")


# ----------------------------------------------------------------------------- CSV


def test_csv_listings_neutralise_formulas_keep_numbers_and_start_with_a_bom(
    loaded: Cli,
) -> None:
    names = ['=HYPERLINK("http://x","Bấm")', "+84 912", "-Công ty", "@SUM(A1)", "Hoa Sen"]
    for name in names:
        receive(loaded, name)
    out = loaded("dossiers", "list", "--format", "csv").out
    assert out.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(out.removeprefix(BOM))))
    assert [r["applicant"] for r in rows] == ["'" + n for n in names[:4]] + ["Hoa Sen"]
    assert {r["extension_count"] for r in rows} == {"0"}  # numbers stay numbers
    tasks = loaded("tasks", "list", "--format", "csv").out
    assert tasks.startswith(BOM + "id,") and tasks.count(BOM) == 1


# ----------------------------------------------------------------------------- terminal

NASTY = "Công ty \x1b[2J\x1b]0;pwned\x07 exe.\u202etxt\nID  forged row"


def test_tables_and_show_escape_control_and_bidi_characters(loaded: Cli) -> None:
    dossier = receive(loaded, NASTY)
    shown = "Công ty \\x1b[2J\\x1b]0;pwned\\x07 exe.\\u202etxt\\nID  forged row"
    for args, expected in (
        (["dossiers", "list"], shown[:20]),  # a table clips long cells
        (["dossiers", "show", str(dossier)], shown),
    ):
        out = loaded(*args).out
        assert not any(c in out for c in "\x1b\x07\u202e"), args
        assert expected in out, args
        assert "\nID  forged row" not in out  # no row forged by a newline in a name
    as_json = loaded("dossiers", "show", str(dossier), "--format", "json").out
    assert "\u202e" not in as_json and "\x1b" not in as_json
    assert json.loads(as_json)["applicant"] == NASTY  # the same value, escaped the JSON way


def test_an_error_line_quoting_input_escapes_it(loaded: Cli) -> None:
    done = loaded("tasks", "start", "1", "--as", "evil\x1b[31m\u202eperson")
    assert done.code in (2, 4)
    line = one_line(done.err)
    assert "\x1b" not in line and "\u202e" not in line and "\\x1b[31m\\u202eperson" in line


# ----------------------------------------------------------------------------- exit codes


@pytest.fixture
def sqlite_full(sqlite_url: str) -> Iterator[str]:
    """SQLite's real disk-full path: every connection to this file may not grow it
    (`PRAGMA max_page_count`), so a write fails with SQLITE_FULL, as on a full disk."""
    path = sqlite_url.removeprefix("sqlite:///")

    def limit(dbapi_conn: Any, _record: Any) -> None:
        found = dbapi_conn.execute("PRAGMA database_list").fetchall()
        if any(row[2] == path for row in found):
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", limit)
    yield sqlite_url
    event.remove(Engine, "connect", limit)


def test_a_full_disk_under_the_database_is_exit_7_and_one_line(
    sqlite_full: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--db", sqlite_full, "plans", "load", str(DEFINITIONS)])
    line = one_line(capsys.readouterr().err)
    assert code == 7 and "the disk holding the database is full" in line


def test_a_full_disk_under_an_output_is_exit_2_naming_it(
    loaded: Cli, sqlite_url: str, tmp_path: Path
) -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    done = loaded("audit", "export", "--output", "/dev/full")
    assert done.code == 2 and "'/dev/full'" in one_line(done.err)
    assert "No space left on device" in done.err
    # stdout redirected to a full disk: a real process, so the final flush is real too
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "workflow.cli", "--db", loaded.db, "tasks", "list"],
            stdout=full, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2
    assert "the disk is full" in one_line(proc.stderr)


def test_init_against_an_unreachable_postgresql_is_exit_7_and_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run(["--db", "postgresql://nobody@127.0.0.1:1/none", "init"])
    line = one_line(capsys.readouterr().err)
    assert code == 7 and "cannot use the database" in line and "127.0.0.1" in line


@pytest.mark.parametrize(
    "args",
    [
        ["tasks", "show", HUGE],
        ["tasks", "history", HUGE],
        ["tasks", "start", HUGE, "--as", RECEIVER],
        ["dossiers", "show", HUGE],
        ["inspections", "show", HUGE],
        ["inspections", "template", HUGE],
        ["reports", "show", HUGE],
        ["tokens", "revoke", HUGE],
        ["audit", "query", "--task", HUGE],
        ["tasks", "show", "3000000000"],  # within 64 bits, beyond PostgreSQL's integer
    ],
    ids=lambda a: " ".join(a[:2]) + (" 3e9" if "3000000000" in a else ""),
)
def test_an_id_beyond_what_the_database_holds_is_exit_2_on_both_backends(
    cli: Cli, args: list[str]
) -> None:
    done = cli(*args)
    assert done.code == 2
    one_line(done.err)


def test_dates_outside_the_supported_range_are_exit_2(cli: Cli) -> None:
    for args in (
        ["calendar", "due", "--from", "9999-12-31", "--days", "5"],
        ["calendar", "due", "--from", "0001-01-01T00:00", "--days", "5"],
        ["tasks", "list", "--overdue", "--as-of", "9999-12-31"],
        ["audit", "query", "--since", "9999-12-31"],
    ):
        done = cli(*args)
        assert done.code == 2 and "between 2000 and 2099" in one_line(done.err), args


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def test_the_api_answers_422_not_500_for_ids_beyond_64_bits_and_400_for_far_dates(
    world: World,
) -> None:
    world.account("so-a.office1")
    browser = Browser(world.app()).sign_in("so-a.office1")
    for path in (f"/tasks/{HUGE}", f"/tasks/{HUGE}/history", f"/dossiers/{HUGE}"):
        error(browser.get(path), 422, "invalid_request")
    error(browser.get(f"/audit?task={HUGE}"), 422, "invalid_request")
    far = browser.get("/calendar/due", params={"from": "9999-12-31", "days": 5})
    assert "between 2000 and 2099" in error(far, 400, "invalid_input")


# ----------------------------------------------------------------------------- imports


def test_an_oversized_import_is_refused_before_it_is_read(loaded: Cli, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: 51 MB on paper, nothing on disk
        handle.truncate(MAX_IMPORT_BYTES + 1024 * 1024)
    done = loaded("dossiers", "import", str(big), "--as", RECEIVER)
    assert done.code == 2
    assert f"{MAX_IMPORT_BYTES:,} bytes, 50 MB" in one_line(done.err)
    # a file whose size says nothing (a device): read up to the limit, not without end
    done = loaded("dossiers", "import", "/dev/zero", "--as", RECEIVER)
    assert done.code == 2 and "larger than an import may be" in one_line(done.err)
    assert loaded("dossiers", "list", "--format", "json").out.strip() == "[]"
