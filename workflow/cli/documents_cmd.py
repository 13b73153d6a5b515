"""`planflow documents verify|restore|pdf`: the letters, conclusion notices and report files
on disk, checked against the bytes and SHA-256 the database recorded of each, and written
back; the letters' PDFs, made on demand (`formats_cmd` adds `sign` and `verify-signature`).

Who may: reading documents needs `audit:read` (office, leader, auditor, administrator); with
a token only for the organisations the person may read. Without a token the host's shell
reads the database anyway (as every read command). Restore writes files only, never the
database: it adds no audit entry, and logs a `documents.restore` line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import FormatOpt, parse_format
from workflow.cli.output import AlreadyReported, Format, to_json
from workflow.cli.runtime import access_of, context
from workflow.cli.terminal import visible
from workflow.domain.access import Permission
from workflow.errors import AuditVerificationFailed
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.context import Context
    from workflow.services import documents as service
else:
    service = lazy_module("workflow.services.documents")

app = typer.Typer(
    help="Check the letters, notices and reports on disk against their records; restore them.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="documents")


OrgOpt = Annotated[str | None, typer.Option(help="Only this organisation's documents.")]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        help="The output folder to look in (letters/, inspections/, reports/ under it, as "
        "'flows apology --out' and 'serve --out' write them); default: where each was written."
    ),
]


def _scope(org: str | None) -> tuple[Context, list[str] | None]:
    """The command's context and the organisations it covers: `--org`, else, with a token,
    those its person may read, else every one."""
    ctx = context(Permission.AUDIT_READ, organisation=org)
    if org is not None:
        return ctx, [org]
    if ctx.principal is None:
        return ctx, None
    return ctx, sorted(access_of(ctx).readable)


@app.command("verify")
def verify(org: OrgOpt = None, out: OutOpt = None, fmt: FormatOpt = "table") -> None:
    """Check every recorded letter, notice and report file against its recorded SHA-256.
    Exit 0 if all are as recorded; 6 naming each missing or changed one."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx, organisations = _scope(org)
    result = service.verify(ctx, organisations, out)
    if render is Format.JSON:
        sys.stdout.write(to_json(result.as_json()) + "\n")
    else:
        for finding in result.findings:
            typer.echo(visible(finding.line()))
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.by_kind.items()))
        detail = f" ({kinds})" if kinds else ""
        if result.ok:
            typer.echo(f"documents as recorded: {result.checked} files checked{detail}")
        else:
            typer.echo(
                f"documents NOT as recorded: {len(result.findings)} of {result.checked} files "
                f"missing or changed{detail}; `planflow documents restore` writes them back"
            )
    if not result.ok:
        raise AlreadyReported(
            AuditVerificationFailed(
                f"{len(result.findings)} of {result.checked} documents differ from their records"
            )
        )


@app.command("restore")
def restore(org: OrgOpt = None, out: OutOpt = None, fmt: FormatOpt = "table") -> None:
    """Write back, byte for byte from the database, each recorded file missing or changed on
    disk (only those). Exit 6 if a copy in the database was itself altered."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx, organisations = _scope(org)
    result = service.restore(ctx, organisations, out)
    if render is Format.JSON:
        sys.stdout.write(to_json(result.as_json()) + "\n")
    else:
        for path in result.restored:
            typer.echo(visible(f"restored {path}"))
        for finding in result.unrestorable:
            typer.echo(visible(finding.line()))
        typer.echo(
            f"{len(result.restored)} of {result.checked} files restored"
            + (", the others were as recorded" if not result.unrestorable else "")
        )
    if result.unrestorable:
        raise AlreadyReported(
            AuditVerificationFailed(
                f"{len(result.unrestorable)} documents were altered in the database and "
                "cannot be restored from it"
            )
        )


@app.command("pdf")
def pdf(org: OrgOpt = None, out: OutOpt = None, fmt: FormatOpt = "table") -> None:
    """Write the PDF of every recorded apology letter beside its HTML, rendered from the
    copy the database keeps (checked first) and dated by the letter: the same bytes each
    time, so those already there are left alone. Exit 6 if a copy was altered."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx, organisations = _scope(org)
    result = service.letter_pdfs(ctx, organisations, out)
    if render is Format.JSON:
        sys.stdout.write(to_json(result.as_json()) + "\n")
    else:
        for path in result.written:
            typer.echo(visible(f"wrote {path}"))
        for finding in result.unrenderable:
            typer.echo(visible(finding.line()))
        typer.echo(f"{len(result.written)} letter PDF(s) written, {result.current} already there")
    if result.unrenderable:
        raise AlreadyReported(
            AuditVerificationFailed(
                f"{len(result.unrenderable)} letters were altered in the database; no PDF "
                "is made from them"
            )
        )
