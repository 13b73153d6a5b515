"""`planflow audit ...`: query, verify, anchor and export the audit log."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_format, parse_instant
from workflow.cli.output import AlreadyReported, Format, render_object, render_rows, to_json
from workflow.cli.runtime import context
from workflow.cli.terminal import visible
from workflow.clock import LOCAL_TZ
from workflow.domain.access import Permission
from workflow.domain.audit_chain import SafeguardProblem, Verification
from workflow.domain.filters import AuditFilter
from workflow.errors import AuditVerificationFailed, InvalidInput
from workflow.lazy import lazy_module
from workflow.private_files import open_private, write_private

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import audit_log
else:
    audit_log = lazy_module("workflow.services.audit_log")

app = typer.Typer(help="Query, verify and export the audit log.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit")


COLUMNS = [
    "seq",
    "at",
    "actor",
    "role",
    "unit",
    "action",
    "subject",
    "from_state",
    "to_state",
    "data",
]


def _bound(raw: str | None, what: str, *, end: bool) -> dt.datetime | None:
    """A date means the whole day in Vietnam time: --since its start, --until its end."""
    if raw is None:
        return None
    value = parse_instant(raw, what)
    if end and len(raw.strip()) == 10:  # YYYY-MM-DD: include that whole day
        value += dt.timedelta(days=1)
    return value


@app.command("query")
def query(
    task: Annotated[
        int | None, typer.Option(help="Entries about this task id.", min=1, max=MAX_ID)
    ] = None,
    plan: Annotated[str | None, typer.Option(help="Entries about this plan id.")] = None,
    unit: Annotated[str | None, typer.Option(help="Entries by people of this unit.")] = None,
    actor: Annotated[str | None, typer.Option(help="Entries by this person.")] = None,
    action: Annotated[
        str | None, typer.Option(help="This action only (start, submit, task.create, ...).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this date or time (Vietnam time unless given).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this date (inclusive) or time (exclusive).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N entries.")] = None,
    after: Annotated[
        int | None, typer.Option(min=0, help="Only entries after this seq (paging).")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Audit entries matching every filter, oldest first."""
    out = parse_format(fmt)
    where = AuditFilter(
        task_id=task,
        plan_id=plan,
        unit=unit,
        actor=actor,
        action=action,
        since=_bound(since, "--since", end=False),
        until=_bound(until, "--until", end=True),
        after_seq=after,
        limit=limit,
    )
    rows = audit_log.query(context(Permission.AUDIT_READ), where)
    if out is Format.TABLE:
        for row in rows:
            row["at"] = _local(row["at"])
    render_rows(rows, out, COLUMNS, widths={"data": 60, "subject": 30})


def _local(stamp: str) -> str:
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(LOCAL_TZ)
    return when.strftime("%Y-%m-%d %H:%M:%S")


@app.command("verify")
def verify(
    fmt: FormatOpt = "table",
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH printed earlier by 'planflow audit anchor' and kept outside."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that check the log at once (default: one per core, up to 4, "
            "for 100,000 entries or more; 1: a single pass).",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain and check the append-only safeguards (triggers, functions).
    Exit 0 if intact, 6 naming the first entry that is not, or each safeguard that is not."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    result = audit_log.verify(
        context(Permission.AUDIT_READ),
        audit_log.parse_anchor(anchor) if anchor else None,
        workers=workers,
    )
    if out is Format.JSON:
        payload = {k: v for k, v in result.as_json().items()}
        sys.stdout.write(to_json(payload) + "\n")
    elif result.ok:
        typer.echo(
            f"audit log intact: {result.checked} entries checked"
            + (f", head {result.head_seq}:{result.head_hash}" if result.head_seq else "")
            + ", its safeguards in place"
        )
    else:
        for problem in result.safeguards:
            typer.echo(visible(f"safeguard {problem.problem}: {problem.message}"))
        if result.first_bad_seq is not None:
            typer.echo(
                visible(
                    f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem} "
                    f"({result.checked} entries checked before it)"
                )
            )
        else:  # every entry hashes and links: what failed is what keeps it so
            typer.echo(
                f"audit log NOT PROTECTED: {_safeguards_failed(result.safeguards)}; its "
                f"{result.checked} entries are intact, but nothing in the database stops "
                "them being rewritten"
            )
    if not result.ok:
        raise AlreadyReported(AuditVerificationFailed(_failure(result)))


def _safeguards_failed(found: Sequence[SafeguardProblem]) -> str:
    count = len(found)
    return f"{count} append-only safeguard{'s' if count != 1 else ''} missing, disabled or changed"


def _failure(result: Verification) -> str:
    if result.first_bad_seq is None:
        return f"the audit log is not protected: {_safeguards_failed(result.safeguards)}"
    return f"the audit log is broken at entry {result.first_bad_seq}: {result.problem}"


@app.command("anchor")
def anchor(fmt: FormatOpt = "table") -> None:
    """Print the chain's head (SEQ:HASH) to publish or sign outside the database."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    head = audit_log.anchor(context(Permission.AUDIT_READ))
    if out is Format.JSON:
        render_object(head, out)
    elif head["ok"] and head["anchor"]:
        typer.echo(head["anchor"])
    elif head["ok"]:
        raise InvalidInput("the audit log is empty: there is nothing to anchor yet")
    if not head["ok"]:
        if out is not Format.JSON:
            # A broken chain, or safeguards not intact (then `problem` names them).
            typer.echo(visible(f"audit log BROKEN: {head['problem']}; no anchor printed"))
        raise AlreadyReported(
            AuditVerificationFailed(f"the audit log is broken: {head['problem']}; no anchor")
        )


@app.command("replay")
def replay(fmt: FormatOpt = "table") -> None:
    """Rebuild tasks, dossiers and role grants from the log, and who could act when. Exit 0
    if every row matches, 6 naming each row, column and entry that does not."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    report = audit_log.replay(context(Permission.AUDIT_READ))
    checked = ", ".join(  # the tables that have rows (the tasks always)
        f"{n} {table}" for table, n in report.checked.items() if n or table == "tasks"
    )
    if out is Format.JSON:
        sys.stdout.write(to_json(report.as_json()) + "\n")
    elif report.ok:
        uncovered = len(report.not_covered)
        typer.echo(
            f"the audit log replays to the stored rows: {checked} checked, "
            f"{report.entries_replayed} entries replayed"
            + (f"; {uncovered} column(s) not covered (see --format json)" if uncovered else "")
        )
    else:
        # Stored values are quoted: a row edited behind the log may hold what a terminal obeys.
        for problem in report.log_problems:
            typer.echo(visible(str(problem)))
        for mismatch in report.mismatches:
            typer.echo(visible(str(mismatch)))
        bad = len(report.log_problems)
        typer.echo(
            f"replay MISMATCH: {len(report.mismatches)} row(s) differ from the audit log, "
            f"{bad} entr{'y does' if bad == 1 else 'ies do'} not follow from the ones before "
            f"({checked} checked)"
        )
    if not report.ok:
        raise AlreadyReported(
            AuditVerificationFailed(
                f"{len(report.mismatches)} row(s) differ from the audit log, "
                f"{len(report.log_problems)} entries do not follow from the ones before"
            )
        )


@app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or xlsx")] = "jsonl",
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Export every entry, oldest first: JSON lines exactly as hashed, or CSV or XLSX to
    read (XLSX needs --output)."""
    if fmt not in ("jsonl", "csv", "xlsx"):
        raise InvalidInput(f"--format {fmt!r} is not known; use jsonl, csv or xlsx")
    if fmt == "xlsx":
        if output is None:
            raise InvalidInput("--format xlsx writes a workbook: give --output FILE.xlsx")
        _export_xlsx(Path(output))
        return
    kind: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"
    ctx = context(Permission.AUDIT_READ)
    if output is None:
        audit_log.export(ctx, kind, sys.stdout)
        return
    try:  # 0600: the log names people; a full disk is said as plainly as a bad path
        with open_private(Path(output)) as handle:
            count = audit_log.export(ctx, kind, handle)
    except OSError as exc:
        raise InvalidInput(f"--output {output!r}: cannot write there: {exc.strerror}") from None
    typer.echo(f"exported {count} entries to {output}", err=True)


def _export_xlsx(output: Path) -> None:
    data, count = audit_log.export_xlsx(context(Permission.AUDIT_READ))
    try:  # 0600, as the other exports
        write_private(output, data)
    except OSError as exc:
        where = str(output)
        raise InvalidInput(f"--output {where!r}: cannot write there: {exc.strerror}") from None
    typer.echo(f"exported {count} entries to {output}", err=True)
