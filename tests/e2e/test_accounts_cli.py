"""Accounts and API tokens on the command line: what an administrator (or, in a simulation,
the shell's operator) does, what a person does with their own tokens, and that no secret
ever reaches the log. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Cli, Result
from tests.e2e.test_production_cli import (
    ADMIN,
    NAM,
    THU,
    activate,
    set_up,
    with_an_administrator,
)

DKKD = "lsn.dkkd.be-thi-huong"  # staff of the business registration office


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLANFLOW_NOW", "PLANFLOW_OPERATOR", "PLANFLOW_TOKEN", "PLANFLOW_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    return with_an_administrator(tmp_path)


def ok(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_the_operator_of_a_simulation_manages_accounts_and_tokens(
    cli: Cli, definitions: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init", "--simulation").code == 0
    assert cli("plans", "load", str(definitions)).code == 0
    monkeypatch.setenv("PLANFLOW_BASE_URL", "https://planflow.langson.gov.vn")
    invited = ok(cli("accounts", "invite", THU, "--format", "json"))
    assert invited["person"] == THU
    assert invited["link"].startswith("https://planflow.langson.gov.vn/signup?token=")
    table = cli("accounts", "invite", NAM)
    assert table.code == 0 and f"sign-up link for {NAM}" in table.out
    link = table.out.strip().splitlines()[-1]
    assert link.startswith("https://planflow.langson.gov.vn/signup?token=")
    activate(db_url, link)

    listing = ok(cli("accounts", "list", "--org", "LSN-SKHDT", "--format", "json"))
    states = {a["person"]: a["state"] for a in listing}
    assert (states[THU], states[NAM], states[DKKD]) == ("invited", "active", "none")
    assert cli("accounts", "invite", NAM).code == 2  # signed up already: a reset, not an invite
    reset = cli("accounts", "reset", NAM)
    assert reset.code == 0 and "password reset link" in reset.out
    assert cli("accounts", "disable", NAM, "--reason", "chuyển công tác").code == 0
    again = cli("accounts", "disable", NAM, "--reason", "chuyển công tác")
    assert again.code == 2 and "disabled already" in again.err
    assert cli("accounts", "disable", NAM, "--reason", "   ").code == 2
    assert cli("accounts", "enable", NAM).code == 0
    ended = cli("accounts", "revoke-sessions", NAM, "--reason", "máy bị mất")
    assert ended.code == 0 and "0 session(s) ended" in ended.out
    assert cli("accounts", "invite", "nobody.here").code == 2
    assert cli("accounts", "invite", THU, "--base-url", "ftp://x").code == 2

    made = ok(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
            "--permission", "tasks:move", "--label", "máy tính", "--format", "json")
    )  # fmt: skip
    assert made["secret"].startswith(f"pft_{made['id']}_")
    beyond = cli("tokens", "create", "--person", DKKD, "--permission", "audit:read",
                 "--label", "x")  # fmt: skip
    assert beyond.code == 2  # no account yet
    wrong = cli("tokens", "create", "--person", THU, "--permission", "accounts:admin",
                "--label", "x")  # fmt: skip
    assert wrong.code == 4 and "does not hold accounts:admin" in wrong.err
    unknown = cli("tokens", "create", "--person", THU, "--permission", "tasks:fly", "--label", "x")
    assert unknown.code == 2 and "'tasks:fly' is not a permission" in unknown.err
    assert cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
               "--label", "x", "--days", "367").code == 2  # fmt: skip
    tokens = ok(cli("tokens", "list", "--format", "json"))
    assert [(t["id"], t["person"], t["state"]) for t in tokens] == [(made["id"], THU, "active")]
    assert "secret" not in tokens[0] and made["secret"] not in json.dumps(tokens)

    # A simulation takes a token too: it acts as its person, --as may not name another.
    tid = str(
        ok(cli("tasks", "list", "--unit", "VP", "--state", "assigned", "-f", "json"))[0]["id"]
    )
    other = cli("tasks", "start", tid, "--as", NAM, "--token", made["secret"])
    assert other.code == 4 and "names another person" in other.err
    assert cli("tasks", "start", tid, "--as", THU, "--token", made["secret"]).code == 0
    [entry] = ok(cli("audit", "query", "--task", tid, "--action", "start", "-f", "json"))
    assert (entry["actor"], entry["credential"]) == (THU, f"token:{made['id']}")

    assert cli("tokens", "revoke", str(made["id"])).code == 0
    assert cli("tokens", "revoke", str(made["id"])).code == 2
    assert cli("tokens", "revoke", "999999").code == 2
    gone = cli("tasks", "list", "--token", made["secret"])
    assert gone.code == 4 and "revoked" in gone.err
    listed = ok(cli("tokens", "list", "--format", "json"))
    assert [t["state"] for t in listed] == ["revoked"]

    exported = cli("audit", "export", "--format", "jsonl")
    assert exported.code == 0
    for secret in (made["secret"], invited["link"].split("=", 1)[1], link.split("=", 1)[1]):
        assert secret not in exported.out
    actions = [json.loads(line)["action"] for line in exported.out.splitlines()]
    for action in ("account.invite", "account.activate", "account.disable", "account.enable",
                   "account.revoke_sessions", "token.create", "token.revoke"):  # fmt: skip
        assert action in actions
    assert cli("audit", "verify").code == 0


def test_an_administrator_manages_their_own_organisation_only(cli: Cli, definitions: Path) -> None:
    admin, _lsn = set_up(cli, definitions)
    assert cli("--token", admin, "plans", "load", str(definitions / "quang-nam-bqlkkt")).code == 0
    qna_person = "qna.hcth.tran-thi-lan"
    refused = cli("accounts", "invite", qna_person, "--token", admin)
    assert refused.code == 4 and "for QNA-BQLKKT" in refused.err
    assert cli("accounts", "list", "--org", "QNA-BQLKKT", "--token", admin).code == 4
    # Another organisation's files, once loaded, are its administrators' to change.
    reload = cli("--token", admin, "plans", "load", str(definitions / "quang-nam-bqlkkt"))
    assert reload.code == 4 and "administers LSN-SKHDT, not QNA-BQLKKT" in reload.err

    assert cli("accounts", "invite", THU, "--token", admin).code == 0
    made = ok(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:read", "--label", "x",
            "--token", admin, "--format", "json")
    )  # fmt: skip
    # A person makes tokens for themselves, never wider than the one they use.
    own = ok(
        cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
            "--label", "của tôi", "--token", made["secret"], "--format", "json")
    )  # fmt: skip
    assert own["person"] == THU
    wider = cli("tokens", "create", "--person", THU, "--permission", "tasks:move",
                "--label", "x", "--token", made["secret"])  # fmt: skip
    assert wider.code == 4 and "cannot give more than the credential" in wider.err
    assert cli("accounts", "invite", NAM, "--token", admin).code == 0
    others = cli("tokens", "create", "--person", NAM, "--permission", "tasks:read",
                 "--label", "x", "--token", made["secret"])  # fmt: skip
    assert others.code == 4
    mine = ok(cli("tokens", "list", "--token", made["secret"], "--format", "json"))
    assert {t["person"] for t in mine} == {THU}
    everyone = ok(cli("tokens", "list", "--token", admin, "--format", "json"))
    assert {t["person"] for t in everyone} == {ADMIN, THU}
    assert cli("tokens", "revoke", str(own["id"]), "--token", made["secret"]).code == 0
    table = cli("tokens", "list", "--token", admin)
    assert table.code == 0 and "revoked" in table.out and "pft_" not in table.out
