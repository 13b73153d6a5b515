"""`planflow documents verify|restore` on the command line, on SQLite and PostgreSQL: the
letters, notices and reports a flow wrote, one changed and one deleted, named one line each
(exit 6), written back byte for byte by restore; the apology flow run through the CLI
records every letter it writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.e2e.conftest import Cli
from tests.e2e.test_api_support import BASE, PASSWORD, secret_of
from tests.integration.test_documents import KINDS, files_under
from tests.integration.test_dossiers import at
from tests.support import documents as made
from workflow.clock import FixedClock
from workflow.services import Context, accounts, tokens
from workflow.store.engine import open_engine
from workflow.store.files import TEMP_PREFIX
from workflow.store.tables import documents as documents_table

START = at(3, 8)


@pytest.fixture
def ctx_on(db_url: str) -> Iterator[Context]:
    engine = open_engine(db_url)
    yield Context(engine, clock=FixedClock(START), operator="operator:test")
    engine.dispose()


@pytest.mark.parametrize("kind", list(KINDS))
def test_verify_names_the_changed_and_the_missing_and_restore_writes_them_back(
    cli: Cli, ctx_on: Context, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "output"
    written = KINDS[kind](ctx_on, out)
    before = files_under(out)
    n = len(written)
    done = cli("documents", "verify")
    assert (done.code, done.out) == (0, f"documents as recorded: {n} files checked ({n} {kind})\n")

    changed, deleted = written[0], written[-1]
    changed.write_bytes("<p>sửa</p>".encode() + before[changed])
    deleted.unlink()
    done = cli("documents", "verify")
    assert done.code == 6, done.err
    lines = done.out.splitlines()
    assert len(lines) == 3 and done.err == ""
    assert any(line.startswith(f"{kind} {changed}: changed: hashes to ") for line in lines)
    assert f"{kind} {deleted}: missing (recorded by " in done.out
    assert lines[-1].startswith(f"documents NOT as recorded: 2 of {n} files missing or changed")
    as_json = cli("documents", "verify", "--format", "json", "--out", str(out))
    assert as_json.code == 6
    report = json.loads(as_json.out)
    assert (report["ok"], report["checked"]) == (False, n)
    assert sorted((p["file"], p["problem"]) for p in report["problems"]) == sorted(
        [(str(changed), "changed"), (str(deleted), "missing")]
    )

    done = cli("documents", "restore")
    assert done.code == 0, done.err
    assert done.out.splitlines()[-1] == f"2 of {n} files restored, the others were as recorded"
    assert files_under(out) == before  # byte for byte, nothing else written
    assert cli("documents", "verify", "--out", str(out)).code == 0
    assert cli("documents", "restore").out.splitlines() == [
        f"0 of {n} files restored, the others were as recorded"
    ]


def test_bad_input_is_one_line_and_exit_2(cli: Cli) -> None:
    for args, message in (
        (["--org", "SO-KHONG-CO"], "organisation 'SO-KHONG-CO' does not exist"),
        (["--format", "csv"], "csv"),
    ):
        for command in ("verify", "restore"):
            done = cli("documents", command, *args)
            assert done.code == 2, (command, args, done)
            assert done.err.startswith("planflow: error:") and message in done.err
            assert len(done.err.splitlines()) == 1


def test_the_apology_flow_on_the_cli_records_what_it_writes(
    prefect_server: None,
    cli: Cli,
    ctx_on: Context,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's case: a letter edited, another deleted, the flow run again for the day:
    the flow does nothing new (each letter once), verify names both, restore mends them."""
    made.load_definitions(ctx_on)
    made.late_dossiers(ctx_on, 4)
    out = tmp_path / "output"
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-05T07:00")
    flow = ["flows", "apology", "--as-of", "2024-06-05", "--out", str(out), "--format", "json"]
    done = cli(*flow)
    assert done.code == 0, done.err
    letters = json.loads(done.out)["letters"]
    assert len(letters) == 4
    letters_dir = out / "letters"  # beside it the run's planflow.log, which grows each run
    before = files_under(letters_dir)
    assert len(before) == 8 and not any(p.name.startswith(TEMP_PREFIX) for p in before)
    edited, deleted = Path(letters[0]["path"]), Path(letters[1]["docx"])
    edited.write_bytes(before[edited].replace("Xin lỗi".encode(), b"", 1) + b"\n")
    deleted.unlink()
    again = cli(*flow)
    assert (again.code, json.loads(again.out)["letters"]) == (0, [])
    found = cli("documents", "verify", "--org", made.LETTERS_ORG)
    assert found.code == 6
    assert f"letter {edited}: changed" in found.out and f"letter {deleted}: missing" in found.out
    assert cli("documents", "restore", "--org", made.LETTERS_ORG).code == 0
    assert files_under(letters_dir) == before
    assert cli("documents", "verify").code == 0


def test_with_a_token_reading_documents_needs_audit_read_for_the_organisation(
    cli: Cli, ctx_on: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made.letters(ctx_on, tmp_path, count=1)
    office = "lsn.vp.luong-thi-thu"  # office and staff of LSN-SKHDT: audit:read is hers
    invitation = accounts.invite(ctx_on, office, BASE)
    accounts.activate(ctx_on, secret_of(invitation.link), PASSWORD)
    reading = tokens.create(ctx_on, office, ["tasks:read"], 30, "tests").secret
    auditing = tokens.create(ctx_on, office, ["audit:read"], 30, "tests").secret
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-05T09:00")
    for command in ("verify", "restore"):
        refused = cli("--token", reading, "documents", command)
        assert refused.code == 4 and "audit:read" in refused.err, refused
        other = cli("--token", auditing, "documents", command, "--org", "QNA-BQLKKT")
        assert other.code == 4, other
    done = cli("--token", auditing, "documents", "verify")
    assert (done.code, done.out) == (0, "documents as recorded: 2 files checked (2 letter)\n")


def test_a_copy_altered_in_the_database_is_exit_6_and_not_restored(
    cli: Cli, ctx_on: Context, tmp_path: Path
) -> None:
    [docx, html, _pdf] = made.notice(ctx_on, tmp_path)
    html.unlink()
    with ctx_on.engine.begin() as conn:
        conn.execute(
            update(documents_table)
            .where(documents_table.c.path.like("%.html"))
            .values(content=b"<p>Da thuc hien tot</p>")
        )
    for command in ("verify", "restore"):
        done = cli("documents", command)
        assert done.code == 6 and "error" not in done.err, done  # the lines say it all
        assert "the copy the database keeps was altered" in done.out
        assert "cannot be restored from it" in done.out
    assert not html.exists() and docx.exists()
