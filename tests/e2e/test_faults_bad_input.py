"""Bad input at the command line (hypothesis), in-process: random arguments, and loads that
fail at any point, never leave a trace.

Whatever the arguments: a documented exit code (0, 2-7; never 1, a bug), no traceback, and on
failure exactly one `planflow: error:` line on stderr (a definition file's problems come first,
each as `file:line:column: message`). A load that fails, in validation or half-way through
its transaction, leaves the database exactly as it was.
"""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.e2e.conftest import DEFINITIONS
from workflow.cli.main import run
from workflow.store.engine import open_engine
from workflow.store.tables import Base

DOCUMENTED = {0, 2, 3, 4, 5, 6, 7}
PROBLEM = re.compile(r"^[^\n]+:\d+:\d+: \S")
COMMANDS = [
    ["tasks", "list"],
    ["tasks", "show"],
    ["tasks", "history"],
    ["tasks", "start"],
    ["tasks", "submit"],
    ["tasks", "return"],
    ["tasks", "verify"],
    ["tasks", "close"],
    ["tasks", "reassign"],
    ["audit", "query"],
    ["audit", "verify"],
    ["audit", "anchor"],
    ["audit", "replay"],
    ["audit", "export"],
    ["plans", "validate"],
    ["plans", "load"],
    ["plans", "list"],
    ["plans", "show"],
    ["plans", "schema"],
    ["orgs", "list"],
    ["orgs", "show"],
    ["lifecycle", "diagram"],
    ["dossiers", "receive"],
    ["dossiers", "import"],
    ["dossiers", "delay"],
    ["dossiers", "list"],
    ["dossiers", "show"],
    ["procedures", "list"],
    ["calendar", "due"],
    ["flows", "inspect"],
    ["inspections", "list"],
    ["inspections", "show"],
    ["inspections", "explain"],
    ["inspections", "template"],
    ["inspections", "record"],
    ["tasks", "withdraw"],
    ["reports", "list"],
    ["reports", "show"],
    ["init"],
    ["tasks"],
    [],
    ["nonsense"],
]
OPTIONS = [
    "--format", "-f", "--as", "--note", "--to", "--expect-version", "--plan", "--unit",
    "--state", "--org", "--overdue", "--as-of", "--task", "--actor", "--action", "--since",
    "--until", "--limit", "--after", "--anchor", "--output", "--log-json", "--help", "--",
    "--procedure", "--applicant", "--received-at", "--phone", "--email", "--reason", "--days",
    "--late", "--from", "--cutoff-hour", "--period", "--ratio", "--seed", "--redraw", "--file",
    "--window", "--revise",
]  # fmt: skip
KNOWN = [
    "1", "8", "0", "-1", "99999999999999999999999", "3000000000", "lsn-skhdt-papi-2024",
    "lsn.vp.luong-thi-thu", "lsn.vp.hoang-van-nam", "qna.hcth.tran-thi-lan", "LSN-SKHDT",
    "VP", "TTR", "2024", "2024Q2", "0.2", "0.5", "qna.dkt.phan-van-tam", "QNA-BQLKKT", "json", "csv", "table", "jsonl", "assigned", "closed", "2024-06-30",
    "2024-02-30", "2024-06-30T25:00", "1:" + "0" * 64, "abc:def", "start", "task.create",
    "out.jsonl", "no/such/folder/out.jsonl", ".", "Đã bổ sung", "\x00", "a\nb", "\u202e",
    "SKHDT-DN-01", "lsn.dkkd.be-thi-huong", "2024-06-03T10:00", "2024-06-03", "15", "99",
    "no-such.csv", "2024H1", "2024Q5", "reporting", "calendar",
]  # fmt: skip


def safe_token(token: str) -> bool:
    """Random words must not name an existing path (no `plans load /`), nor smuggle in an
    option such as --db=/somewhere."""
    if token.startswith("--"):
        return False
    try:
        return not Path(token).exists()
    except (ValueError, OSError):
        return True


WORDS = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(OPTIONS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=20).filter(safe_token),
)


def people() -> list[str]:
    found = []
    for path in sorted(DEFINITIONS.glob("*/organisation.yaml")):
        found += [p["id"] for p in yaml.safe_load(path.read_text(encoding="utf-8"))["people"]]
    return found


MOVES = st.builds(
    lambda move, task, person, extra: [move, str(task), "--as", person, *extra],
    st.sampled_from(["start", "submit", "return", "verify", "close", "reassign"]),
    st.integers(min_value=1, max_value=95),
    st.sampled_from(people()),
    st.lists(
        st.sampled_from(
            [["--note", "Báo cáo số 45/BC"], ["--to", "VP"], ["--to", "TTR"], ["--to", "XX"],
             ["--expect-version", "1"], ["--expect-version", "2"], ["--format", "json"]]
        ),
        max_size=3,
    ).map(lambda pairs: [w for pair in pairs for w in pair]),
)  # fmt: skip


@pytest.fixture
def examples(request: pytest.FixtureRequest) -> Callable[[int], settings]:
    long = bool(request.config.getoption("--long"))

    def make(n: int) -> settings:
        return settings(
            max_examples=n * 10 if long else n,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )

    return make


def check_output(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in DOCUMENTED, (code, err)
    lines = err.splitlines()
    if code in (0, 6):  # success (log lines may follow), or a verification report on stdout
        assert not any(line.startswith("planflow: error:") for line in lines), err
        return
    assert lines and lines[-1].startswith("planflow: error: "), err
    assert all(PROBLEM.match(line) for line in lines[:-1]), err


def snapshot(url: str) -> str:
    """Every row of every table, hashed: equal snapshots mean an unchanged database."""
    engine = open_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


# ------------------------------------------------------------------ random arguments


def test_random_command_lines_end_cleanly(
    prefect_server: None,  # `flows inspect` lines that get through run a real flow
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    examples: Callable[[int], settings],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # --output and relative paths land here
    monkeypatch.delenv("PLANFLOW_NOW", raising=False)
    assert run(["--db", sqlite_url, "plans", "load", str(DEFINITIONS)]) == 0

    @examples(250)
    @given(
        st.one_of(
            st.tuples(st.sampled_from(COMMANDS), st.lists(WORDS, max_size=7)),
            st.tuples(st.just(["tasks"]), MOVES),  # well-formed moves: exits 0, 2, 3, 4, 5
        )
    )
    @example((["tasks", "show"], ["99999999999999999999999"]))
    @example((["audit", "query"], ["--limit", "99999999999999999999999"]))
    @example((["audit", "export"], ["--output", "no/such/folder/out.jsonl"]))
    @example((["tasks", "start"], ["8", "--as", "\x00"]))
    @example((["tasks", "list"], ["--state", "a\nb"]))
    @example((["plans", "validate"], [str(DEFINITIONS)]))
    @example(
        (
            ["flows", "inspect"],
            ["--org", "QNA-BQLKKT", "--period", "2024", "--as", "qna.dkt.phan-van-tam"],
        )
    )
    @example(
        (
            ["flows", "inspect"],
            [
                "--org",
                "QNA-BQLKKT",
                "--period",
                "2024",
                "--ratio",
                "0.2",
                "--as",
                "qna.dkt.phan-van-tam",
            ],
        )
    )
    @example((["inspections", "explain"], ["1"]))
    @example(
        (
            ["inspections", "record"],
            ["1", "--file", str(DEFINITIONS), "--as", "qna.dkt.phan-van-tam"],
        )
    )
    def one(line: tuple[list[str], list[str]]) -> None:
        command, words = line
        capsys.readouterr()
        code = run(["--db", sqlite_url, *command, *words])
        check_output(code, capsys.readouterr().err)

    one()
    capsys.readouterr()
    assert run(["--db", sqlite_url, "audit", "verify"]) == 0  # whatever succeeded, was logged
    assert run(["--db", sqlite_url, "audit", "replay"]) == 0


# ------------------------------------------------------------------ failed loads change nothing


def plan_file(folder: Path) -> Path:
    return next((folder / "lang-son-skhdt" / "plans").glob("*.yaml"))


def test_failed_loads_leave_the_database_exactly_as_it_was(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    examples: Callable[[int], settings],
) -> None:
    """Random damage to a loaded plan: either a new version loads whole, or nothing changes."""
    monkeypatch.chdir(tmp_path)
    defs = tmp_path / "defs"
    shutil.copytree(DEFINITIONS, defs)
    assert run(["--db", db_url, "plans", "load", str(defs)]) == 0
    target = plan_file(defs)
    original: dict[str, Any] = yaml.safe_load(target.read_text(encoding="utf-8"))

    @examples(20)
    @given(
        st.sampled_from(
            ["title", "lead_unit", "code", "category", "schedule", "cooperating_units"]
        ),
        st.integers(min_value=0, max_value=50),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=12),
            st.sampled_from(["VP", "XX", "1.1", "papi.nope", "continuous", "\x00", "Ư" * 50]),
            st.lists(st.text(max_size=4), max_size=2),
        ),
    )
    def one(field: str, row: int, value: Any) -> None:
        data = copy.deepcopy(original)
        data["tasks"][row % len(data["tasks"])][field] = value
        target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        before = snapshot(db_url)
        capsys.readouterr()
        code = run(["--db", db_url, "plans", "load", str(defs)])
        check_output(code, capsys.readouterr().err)
        if code != 0:
            assert snapshot(db_url) == before
        else:  # it was a valid change: a new version, or the same plan again
            assert run(["--db", db_url, "audit", "replay"]) == 0

    one()


def test_a_load_that_fails_inside_its_transaction_writes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files that pass validation but are refused half-way through the load (an organisation
    already loaded under the plan's id, a person id of another agency, a code too long for the
    database): the organisation written before the refusal is rolled back with the rest."""
    monkeypatch.chdir(tmp_path)
    assert run(["--db", db_url, "plans", "load", str(DEFINITIONS)]) == 0
    other = tmp_path / "other"
    shutil.copytree(DEFINITIONS / "lang-son-skhdt", other)
    org_file = other / "organisation.yaml"
    org = yaml.safe_load(org_file.read_text(encoding="utf-8"))
    org["code"] = "SO-KHAC"
    for plan in (other / "plans").glob("*.yaml"):  # same plan id, another organisation
        data = yaml.safe_load(plan.read_text(encoding="utf-8"))
        data["organisation"] = "SO-KHAC"
        plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for person in org["people"]:
        person["id"] = person["id"].replace("lsn.", "khac.")
    del org["inspection"]["signer"]  # the people's ids change below
    org.get("documents", {}).pop("signers", None)  # so are the signers' (people's ids)
    org_file.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    before = snapshot(db_url)

    capsys.readouterr()
    assert run(["--db", db_url, "plans", "load", str(other)]) == 2
    err = capsys.readouterr().err
    assert "already belongs to LSN-SKHDT; give this plan its own id" in err
    assert snapshot(db_url) == before

    for plan in (other / "plans").glob("*.yaml"):
        plan.unlink()
    org["people"][0]["id"] = "lsn.vp.luong-thi-thu"  # a person of the other agency
    org_file.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    assert run(["--db", db_url, "plans", "load", str(other)]) == 2
    assert "already belongs to LSN-SKHDT" in capsys.readouterr().err
    assert snapshot(db_url) == before

    org["people"][0]["id"] = "khac." + "x" * 120  # longer than the column (80)
    org_file.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    code = run(["--db", db_url, "plans", "load", str(other)])
    check_output(code, capsys.readouterr().err)
    if "postgresql" in db_url:  # SQLite does not enforce lengths
        assert code == 2 and snapshot(db_url) == before


def test_a_database_that_is_not_there_is_exit_7(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for db in (
        f"sqlite:///{tmp_path}/no/such/folder/x.db",
        str(tmp_path / "empty.db"),
        "postgresql://nobody@127.0.0.1:1/none",
    ):
        capsys.readouterr()
        code = run(["--db", db, "tasks", "list"])
        check_output(code, capsys.readouterr().err)
        assert code == 7, db
    assert run(["--db", "mysql://x@y/z", "tasks", "list"]) == 2
    check_output(2, capsys.readouterr().err)


INSPECTOR = "lsn.ttr.lang-thi-mai"


@pytest.mark.parametrize(
    "command",
    [
        ["flows", "apology", "--as-of", "2024-07-15"],
        ["flows", "inspect", "--org", "LSN-SKHDT", "--period", "2024Q3", "--as", INSPECTOR],
        ["flows", "aggregate", "--org", "LSN-SKHDT", "--period", "2024Q2"],
        ["serve"],
        ["demo"],
    ],
    ids=["apology", "inspect", "aggregate", "serve", "demo"],
)
def test_an_output_folder_that_cannot_be_written_is_one_line_before_any_flow(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Not a failed Prefect task with its traceback half way through: exit 2, one line,
    nothing written, and no Prefect server started (the check comes first)."""
    assert run(["--db", sqlite_url, "plans", "load", str(DEFINITIONS)]) == 0
    before = snapshot(sqlite_url)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    capsys.readouterr()
    args = ["--db", sqlite_url, *command, "--out", str(blocker / "out")]
    if command == ["demo"]:
        args += ["--definitions", str(DEFINITIONS)]
    code = run(args)
    err = capsys.readouterr().err
    check_output(code, err)
    assert code == 2
    assert err.splitlines()[-1].startswith(f"planflow: error: --out {blocker / 'out'}: cannot")
    assert "prefect" not in err.lower()
    assert snapshot(sqlite_url) == before
