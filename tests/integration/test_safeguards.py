"""`audit verify` checks the database's own safeguards, on both backends: the append-only
triggers of the audit log and of report snapshots, PostgreSQL's trigger functions and
`planflow_append`. Dropped, disabled or rewritten, each is named, with the chain intact."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.support import safeguards as support
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.store import safeguards

pytestmark = pytest.mark.usefixtures("agency")  # a few entries in the log
# What only PostgreSQL has: run there alone, never skipped on SQLite.
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def owner(ctx: Context, *statements: str) -> None:
    with ctx.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def problems(ctx: Context) -> list[tuple[str, str, str]]:
    result = audit_service.verify(ctx)
    return [(p.kind, p.name, p.problem) for p in result.safeguards]


def test_an_intact_database_passes(ctx: Context) -> None:
    result = audit_service.verify(ctx)
    assert result.ok and result.safeguards == () and result.problem is None
    assert result.as_json()["safeguards"] == []
    assert audit_service.anchor(ctx)["anchor"] is not None


def test_each_dropped_trigger_is_named_and_fails_verify(ctx: Context) -> None:
    postgres = ctx.engine.dialect.name == "postgresql"
    expected = safeguards.expected_postgres() if postgres else safeguards.expected_sqlite()
    triggers = [e for e in expected if e.kind == "trigger"]
    assert len(triggers) == 4  # audit_log and report_snapshots, two each
    for trigger in triggers:
        on = f" ON {trigger.table}" if postgres else ""
        owner(ctx, f"DROP TRIGGER {trigger.name}{on}")
        result = audit_service.verify(ctx)
        assert not result.ok and result.first_bad_seq is None  # every entry is intact
        [problem] = result.safeguards
        assert problem.message == f"trigger {trigger.name} on {trigger.table} is missing"
        assert problem.message in (result.problem or "")
        assert audit_service.anchor(ctx)["anchor"] is None  # no head published unguarded
        with ctx.engine.begin() as conn:
            support.restore(conn)
        assert audit_service.verify(ctx).ok


def test_a_replaced_trigger_body_is_named(ctx: Context) -> None:
    if ctx.engine.dialect.name == "sqlite":
        owner(
            ctx,
            "DROP TRIGGER audit_log_no_update",
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT 1; END",
        )
        name = "audit_log_no_update"
    else:  # the same name and function, firing on INSERT only: UPDATE and DELETE pass
        owner(
            ctx,
            "DROP TRIGGER audit_log_no_update_delete ON audit_log",
            "CREATE TRIGGER audit_log_no_update_delete BEFORE INSERT ON audit_log "
            "FOR EACH ROW WHEN (false) EXECUTE FUNCTION audit_log_append_only()",
        )
        name = "audit_log_no_update_delete"
    result = audit_service.verify(ctx)
    assert not result.ok
    assert [p.message for p in result.safeguards] == [
        f"trigger {name} on audit_log was changed: it is not the one migration 0001 created"
    ]


def test_whitespace_alone_is_no_change(ctx: Context) -> None:
    if ctx.engine.dialect.name == "sqlite":
        statement = next(e.sql for e in safeguards.expected_sqlite() if e.kind == "trigger")
        name = next(e.name for e in safeguards.expected_sqlite())
        owner(ctx, f"DROP TRIGGER {name}", "  ".join(statement.split()))
    else:
        function = next(e for e in safeguards.expected_postgres() if e.kind == "function")
        owner(ctx, function.sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    assert audit_service.verify(ctx).ok


@POSTGRES_ONLY  # SQLite has no stored way to disable a trigger
def test_a_disabled_trigger_is_named_on_postgresql(ctx: Context) -> None:
    owner(ctx, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    assert problems(ctx) == [("trigger", "audit_log_no_update_delete", "disabled")]
    # Firing only in replication sessions leaves ordinary ones unguarded just the same.
    owner(
        ctx,
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete",
        "ALTER TABLE report_snapshots ENABLE REPLICA TRIGGER report_snapshots_no_truncate",
    )
    assert problems(ctx) == [("trigger", "report_snapshots_no_truncate", "disabled")]
    owner(ctx, "ALTER TABLE report_snapshots ENABLE ALWAYS TRIGGER report_snapshots_no_truncate")
    assert audit_service.verify(ctx).ok  # ALWAYS fires in every session: still a guard


@POSTGRES_ONLY  # SQLite triggers have no separate function
def test_a_replaced_trigger_function_is_named_on_postgresql(ctx: Context) -> None:
    owner(
        ctx,
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$",
    )
    result = audit_service.verify(ctx)
    assert [p.message for p in result.safeguards] == [
        "function audit_log_append_only was changed (its body): it is not the one migration "
        "0001 created"
    ]


@POSTGRES_ONLY  # planflow_append is PostgreSQL's
def test_a_replaced_planflow_append_is_named_on_postgresql(ctx: Context) -> None:
    [append] = [e for e in safeguards.expected_postgres() if e.name == "planflow_append"]
    # The same function without the check that time goes forward.
    lenient = append.sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        'IF p_at COLLATE "C" < head_at COLLATE "C" THEN', "IF false THEN"
    )
    assert lenient != append.sql
    owner(ctx, lenient)
    assert problems(ctx) == [("function", "planflow_append", "changed")]
    owner(ctx, "DROP FUNCTION planflow_append" + _signature(ctx))
    assert problems(ctx) == [("function", "planflow_append", "missing")]


def _signature(ctx: Context) -> str:
    with ctx.engine.connect() as conn:
        args = conn.execute(
            text(
                "SELECT pg_get_function_identity_arguments(oid) FROM pg_proc "
                "WHERE proname = 'planflow_append'"
            )
        ).scalar_one()
    return f"({args})"


def test_audit_verify_on_the_command_line_names_each_safeguard(
    ctx: Context, db_url: str, agency: OrganisationSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    if ctx.engine.dialect.name == "sqlite":
        owner(ctx, "DROP TRIGGER audit_log_no_update", "DROP TRIGGER report_snapshots_no_delete")
        names = [
            ("audit_log_no_update", "audit_log"),
            ("report_snapshots_no_delete", "report_snapshots"),
        ]
    else:
        owner(
            ctx,
            "DROP TRIGGER audit_log_no_update_delete ON audit_log",
            "ALTER TABLE report_snapshots DISABLE TRIGGER report_snapshots_no_update_delete",
        )
        names = [("audit_log_no_update_delete", "audit_log")]

    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--db", db_url, "audit", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = cli("verify")
    lines = out.splitlines()
    assert code == 6 and err == ""
    assert lines[0] == f"safeguard missing: trigger {names[0][0]} on {names[0][1]} is missing"
    assert len(lines) == 3 and lines[2].startswith(
        "audit log NOT PROTECTED: 2 append-only safeguards missing, disabled or changed; its "
    )
    assert "BROKEN" not in out and "None" not in out
    code, out, _ = cli("verify", "--format", "json")
    report = json.loads(out)
    assert code == 6 and report["ok"] is False and report["first_bad_seq"] is None
    first = report["safeguards"][0]
    assert (first["kind"], first["name"], first["table"]) == ("trigger", *names[0])
    assert len(report["safeguards"]) == 2
    code, out, _ = cli("anchor")
    assert code == 6 and out.startswith("audit log BROKEN: the database's append-only ")
    assert out.endswith("; no anchor printed\n")
