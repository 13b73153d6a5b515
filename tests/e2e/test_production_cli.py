"""A production database on the command line: set up from nothing by the host and its first
administrator, then every change made with a person's API token, dated by the system's
clock; whatever a shell could type to act as someone else, or at another time, is refused
(exit 4) and writes nothing. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.e2e.conftest import DEFINITIONS, Cli, Result
from workflow.clock import LOCAL_TZ
from workflow.context import Context
from workflow.services import accounts as account_service
from workflow.services import flow_runs
from workflow.store.engine import open_engine
from workflow.store.tables import Base, api_tokens

LSN = "LSN-SKHDT"
PLAN = "lsn-skhdt-papi-2024"
ADMIN = "lsn.vp.quan-tri"  # added to a copy of the definitions: the first administrator
THU = "lsn.vp.luong-thi-thu"  # office, staff
NAM = "lsn.vp.hoang-van-nam"  # unit head, office
PASSWORD = "Lang-Son-bao-cao-PAPI-2024"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLANFLOW_NOW", "PLANFLOW_OPERATOR", "PLANFLOW_TOKEN", "PLANFLOW_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    return with_an_administrator(tmp_path)


def with_an_administrator(tmp_path: Path) -> Path:
    """A copy of the definitions, with a system administrator in Lạng Sơn's office."""
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    org = target / "lang-son-skhdt" / "organisation.yaml"
    text = org.read_text(encoding="utf-8")
    assert ADMIN not in text and "\npeople:\n" in text
    admin = f'  - id: {ADMIN}\n    name: "Quản trị hệ thống"\n    unit: VP\n    roles: [admin]\n'
    org.write_text(text.replace("\npeople:\n", "\npeople:\n" + admin, 1), encoding="utf-8")
    return target


def out_json(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


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


def activate(db_url: str, link: str) -> None:
    """What the sign-up page does with the link: the person chooses a password."""
    engine = open_engine(db_url)
    try:
        account_service.activate(Context(engine), link.split("token=", 1)[1], PASSWORD)
    finally:
        engine.dispose()


@dataclass
class Production:
    cli: Cli
    admin: str  # the first administrator's token
    thu: str  # Ms Thu's token: tasks, dossiers, flows
    thu_id: int
    nam: str  # Mr Nam's token: reading tasks only
    task: int  # an assigned task of the office (VP)


def set_up(cli: Cli, definitions: Path) -> tuple[str, Path]:
    """init, the host loads the file that names the first administrator, bootstrap, then
    the administrator loads the rest with their token."""
    made = cli("init")
    assert made.code == 0 and "mode: production" in made.out, made.err
    lsn = definitions / "lang-son-skhdt"
    host_load = cli("plans", "load", str(lsn / "organisation.yaml"))
    assert host_load.code == 0, host_load.err
    boot = out_json(cli("accounts", "bootstrap-admin", ADMIN, "--format", "json"))
    assert isinstance(boot, dict)
    admin = str(boot["token"]["secret"])
    loaded = cli("--token", admin, "plans", "load", str(lsn), str(definitions / "rules"))
    assert loaded.code == 0, loaded.err
    return admin, lsn


@pytest.fixture
def production(cli: Cli, definitions: Path) -> Production:
    admin, _ = set_up(cli, definitions)
    tokens = {}
    for person, permissions in (
        (THU, ["tasks:read", "tasks:move", "dossiers:write", "flows:run"]),
        (NAM, ["tasks:read"]),
    ):
        assert cli("accounts", "invite", person, "--token", admin).code == 0
        args = [f"--permission={p}" for p in permissions]
        made = out_json(
            cli("tokens", "create", "--person", person, *args, "--label", "máy tính",
                "--token", admin, "--format", "json")
        )  # fmt: skip
        assert isinstance(made, dict)
        tokens[person] = made
    listing = out_json(
        cli("tasks", "list", "--plan", PLAN, "--unit", "VP", "--state", "assigned", "-f", "json")
    )
    assert isinstance(listing, list) and listing
    return Production(
        cli,
        admin,
        tokens[THU]["secret"],
        tokens[THU]["id"],
        tokens[NAM]["secret"],
        listing[0]["id"],
    )


# ------------------------------------------------------------------ the first set-up


def test_a_first_time_set_up_by_command_line(cli: Cli, definitions: Path, db_url: str) -> None:
    made = cli("init")
    assert made.code == 0 and "mode: production" in made.out
    again = cli("init")
    assert again.code == 0 and "mode: production" in again.out  # init again keeps the mode
    other = cli("init", "--simulation")
    assert other.code == 2 and other.err.count("\n") == 1
    assert "is a production database" in other.err

    # Before any administrator exists, the host loads the file that names the first one.
    lsn = definitions / "lang-son-skhdt"
    assert cli("plans", "load", str(lsn / "organisation.yaml")).code == 0
    boot = out_json(cli("accounts", "bootstrap-admin", ADMIN, "--format", "json"))
    assert isinstance(boot, dict)
    assert boot["link"].startswith("http://127.0.0.1:8080/signup?token=")
    admin, admin_token_id = boot["token"]["secret"], boot["token"]["id"]
    assert (
        admin.startswith(f"pft_{admin_token_id}_")
        and "definitions:load" in (boot["token"]["permissions"])
    )
    twice = cli("accounts", "bootstrap-admin", ADMIN)
    assert twice.code == 2 and "an administrator account exists already" in twice.err

    # From now on the host loads nothing itself; the administrator does, with the token.
    rest = [str(lsn), str(definitions / "rules")]
    refused = cli("plans", "load", *rest)
    assert refused.code == 4 and "administrator's API token" in refused.err
    assert cli("--token", admin, "plans", "load", *rest).code == 0

    invited = out_json(
        cli("accounts", "invite", THU, "--token", admin, "--format", "json",
            "--base-url", "https://planflow.example.gov.vn/")
    )  # fmt: skip
    assert isinstance(invited, dict)
    assert invited["link"].startswith("https://planflow.example.gov.vn/signup?token=")
    activate(db_url, invited["link"])
    accounts = out_json(cli("accounts", "list", "--token", admin, "--format", "json"))
    assert isinstance(accounts, list)
    states = {a["person"]: a["state"] for a in accounts}
    assert states[THU] == "active" and states[ADMIN] == "invited" and states[NAM] == "none"

    made = out_json(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
            "--permission", "tasks:move", "--label", "máy tính của chị Thu", "--days", "30",
            "--token", admin, "--format", "json")
    )  # fmt: skip
    assert isinstance(made, dict) and made["person"] == THU
    thu, token_id = made["secret"], made["id"]

    task = out_json(cli("tasks", "list", "--plan", PLAN, "--unit", "VP", "-f", "json"))
    assert isinstance(task, list)
    tid = str(task[0]["id"])
    moved = cli("tasks", "start", tid, "--token", thu, "--format", "json")
    assert moved.code == 0, moved.err
    assert out_json(moved)["state"] == "in_progress"
    [entry] = out_json(cli("audit", "query", "--task", tid, "--action", "start", "-f", "json"))
    assert (entry["actor"], entry["channel"], entry["credential"]) == (
        THU,
        "cli",
        f"token:{token_id}",
    )

    # The host's own acts name the operating-system user; no secret is in the log.
    log = out_json(cli("audit", "query", "--format", "json"))
    assert isinstance(log, list)
    first = {e["action"]: e for e in reversed(log)}
    host = f"operator:{getpass.getuser()}"
    assert first["database.init"]["actor"] == host
    assert (first["organisation.load"]["actor"], first["organisation.load"]["channel"]) == (
        host,
        "cli",
    )
    assert first["token.create"]["actor"] == host  # the bootstrap's token
    assert [e["actor"] for e in log if e["action"] == "token.create"][1:] == [ADMIN]
    text = json.dumps(log, ensure_ascii=False)
    for secret in (admin, thu, boot["link"].split("=", 1)[1], invited["link"].split("=", 1)[1]):
        assert secret not in text
    assert cli("audit", "verify").code == 0


# ------------------------------------------------------------------ refusals


def test_what_a_shell_could_type_is_refused_and_writes_nothing(
    production: Production, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, tid = production.cli, str(production.task)
    revoked = out_json(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:move", "--label", "cũ",
            "--token", production.admin, "--format", "json")
    )  # fmt: skip
    expired = out_json(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:move", "--label", "hết",
            "--token", production.admin, "--format", "json")
    )  # fmt: skip
    assert isinstance(revoked, dict) and isinstance(expired, dict)
    assert cli("tokens", "revoke", str(revoked["id"]), "--token", production.admin).code == 0
    engine = open_engine(db_url)
    with engine.begin() as conn:  # a token whose day has passed (the clock cannot be moved)
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == expired["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    engine.dispose()

    before = snapshot(db_url)
    receive = ["dossiers", "receive", "--procedure", "SKHDT-DN-01", "--applicant", "Công ty A",
               "--received-at", "2026-01-05T09:00"]  # fmt: skip
    cases: list[tuple[list[str], dict[str, str], str]] = [
        (["tasks", "start", tid, "--as", THU], {}, "not --as"),
        (["tasks", "start", tid, "--as", THU, "--token", production.thu], {}, "not --as"),
        ([*receive, "--as", "lsn.dkkd.be-thi-huong"], {}, "not --as"),
        (["tasks", "start", tid, "--token", production.thu],
         {"PLANFLOW_NOW": "2026-01-05T09:00"}, "dated by the system's clock"),
        (["tasks", "list"], {"PLANFLOW_NOW": "2026-01-05T09:00"}, "system's clock"),
        (["tasks", "start", tid, "--token", production.thu],
         {"PLANFLOW_OPERATOR": "vp.admin"}, "PLANFLOW_OPERATOR"),
        (["tasks", "start", tid], {}, "API token (--token or PLANFLOW_TOKEN)"),
        (receive, {}, "API token"),
        (["flows", "apology"], {}, "API token"),
        (["tasks", "start", tid, "--token", production.nam], {}, "may not tasks:move"),
        (["audit", "query", "--token", production.nam], {}, "may not audit:read"),
        (["flows", "apology", "--token", production.nam], {}, "may not flows:run"),
        (["plans", "load", str(DEFINITIONS / "rules"), "--token", production.thu], {},
         "may not definitions:load"),
        (["accounts", "invite", NAM, "--token", production.thu], {}, "may not accounts:admin"),
        (["tasks", "start", tid, "--token", str(revoked["secret"])], {}, "was revoked"),
        (["tasks", "start", tid, "--token", str(expired["secret"])], {}, "expired on"),
        (["tasks", "start", tid, "--token", f"pft_{production.thu_id}_{'x' * 43}"], {},
         "the API token is unknown"),
        (["tasks", "list", "--token", "not-a-token"], {}, "the API token is unknown"),
    ]  # fmt: skip
    for args, env, message in cases:
        with monkeypatch.context() as patched:
            for name, value in env.items():
                patched.setenv(name, value)
            result = cli(*args)
        assert result.code == 4, (args, result.err)
        assert result.err.count("\n") == 1 and message in result.err, (args, result.err)
    # PLANFLOW_TOKEN works as --token does, and is checked as strictly.
    with monkeypatch.context() as patched:
        patched.setenv("PLANFLOW_TOKEN", production.nam)
        assert cli("tasks", "start", tid).code == 4
    assert snapshot(db_url) == before

    # Reads need no token: the shell on the database's host reads the database anyway.
    assert cli("tasks", "show", tid).code == 0
    assert cli("audit", "verify").code == 0
    with monkeypatch.context() as patched:
        patched.setenv("PLANFLOW_TOKEN", production.thu)
        assert cli("tasks", "start", tid).code == 0


def test_a_disabled_account_s_token_stops_working_and_the_demo_refuses_a_production_database(
    production: Production, db_url: str, tmp_path: Path
) -> None:
    cli, tid = production.cli, str(production.task)
    assert (
        cli("accounts", "disable", THU, "--reason", "nghỉ việc", "--token", production.admin).code
        == 0
    )
    refused = cli("tasks", "start", tid, "--token", production.thu)
    assert refused.code == 4 and "disabled" in refused.err
    assert cli("accounts", "enable", THU, "--token", production.admin).code == 0
    assert cli("tasks", "start", tid, "--token", production.thu).code == 0
    demo = cli("demo", "--definitions", str(DEFINITIONS), "--out", str(tmp_path / "demo"))
    assert demo.code == 2 and "is a production database" in demo.err


# ------------------------------------------------------------------ flows: --as-of


def test_a_flow_s_as_of_goes_forward_with_the_calendar(
    prefect_server: None, production: Production, db_url: str, tmp_path: Path
) -> None:
    cli, thu = production.cli, production.thu
    today = dt.datetime.now(LOCAL_TZ).date()
    out = ["--out", str(tmp_path / "out")]
    ahead = cli(
        "flows", "apology", "--as-of", str(today + dt.timedelta(days=1)), "--token", thu, *out
    )
    assert ahead.code == 2 and "after today" in ahead.err and ahead.err.count("\n") == 1

    ran = cli("flows", "apology", "--token", thu, *out, "--format", "json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["as_of"] == today.isoformat()
    engine = open_engine(db_url)
    try:
        last = flow_runs.last(Context(engine), "apology", LSN)
    finally:
        engine.dispose()
    assert last is not None and (last.as_of, last.run_by) == (today, THU)

    before = snapshot(db_url)
    back = cli(
        "flows", "apology", "--as-of", str(today - dt.timedelta(days=1)), "--token", thu, *out
    )
    assert back.code == 2 and back.err.count("\n") == 1
    assert f"its last run for {LSN} was as of {today}" in back.err and THU in back.err
    other = cli("flows", "apology", "--org", "QNA-BQLKKT", "--token", thu, *out)
    assert other.code == 4 and "may not flows:run for QNA-BQLKKT" in other.err
    assert snapshot(db_url) == before
    assert cli("flows", "apology", "--as-of", str(today), "--token", thu, *out).code == 0


def test_dates_outside_2000_to_2099_are_refused_on_any_database(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init", "--simulation").code == 0
    assert cli("init").code == 2  # a simulation stays one
    for args in (
        ["tasks", "list", "--overdue", "--as-of", "0001-01-01"],
        ["dossiers", "list", "--late", "--as-of", "2100-01-01"],
        ["audit", "query", "--since", "1999-12-31"],
        ["audit", "query", "--until", "9999-12-31T23:59"],
        ["calendar", "due", "--from", "9999-12-30", "--days", "3"],
        ["flows", "apology", "--as-of", "9999-01-01"],
        ["dossiers", "receive", "--procedure", "SKHDT-DN-01", "--applicant", "A",
         "--received-at", "0001-01-01T09:00", "--as", THU],
    ):  # fmt: skip
        result = cli(*args)
        assert result.code == 2, (args, result.err)
        assert "the year must be between 2000 and 2099" in result.err, result.err
    monkeypatch.setenv("PLANFLOW_NOW", "9999-01-01T09:00")
    result = cli("tasks", "list")
    assert result.code == 2 and "PLANFLOW_NOW" in result.err


def test_an_apology_run_for_an_unknown_organisation_is_refused_before_it_starts(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("init", "--simulation").code == 0
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    result = cli("flows", "apology", "--org", "NOPE", "--out", str(tmp_path / "out"))
    assert result.code == 2 and "organisation 'NOPE' does not exist" in result.err
    assert not (tmp_path / "out").exists()  # refused before anything started


def test_a_production_draw_takes_no_seed(production: Production, db_url: str) -> None:
    cli, inspector = production.cli, "lsn.ttr.lang-thi-mai"
    assert cli("accounts", "invite", inspector, "--token", production.admin).code == 0
    made = out_json(
        cli("tokens", "create", "--person", inspector, "--permission", "inspections:write",
            "--label", "thanh tra", "--token", production.admin, "--format", "json")
    )  # fmt: skip
    assert isinstance(made, dict)
    before = snapshot(db_url)
    done = cli("flows", "inspect", "--org", LSN, "--period", "2026Q1", "--seed", "5",
               "--token", made["secret"])  # fmt: skip
    assert done.code == 4 and done.err.count("\n") == 1, done.err
    assert "a draw's seed is derived from the organisation, the period and the audit log's" in (
        done.err
    )
    assert snapshot(db_url) == before  # refused before the flow started: nothing written
