"""`planflow tokens create|list|revoke`: API tokens, for other systems (the one-stop system
posting dossiers, a reporting tool) and for people's own command line.

A token is a person's, scoped to their organisation and to permissions their roles give, and
expires. Its secret is printed once, on stdout; the database keeps only its SHA-256. An
administrator makes tokens for the people of their organisation, a person for themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_format
from workflow.cli.output import Format, render_object, render_rows
from workflow.cli.runtime import context
from workflow.cli.secret_files import SecretFileOpt, deliver_secret, reserved
from workflow.cli.terminal import visible
from workflow.clock import LOCAL_TZ
from workflow.domain.access import Permission
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import tokens as service
else:
    service = lazy_module("workflow.services.tokens")

app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tokens")


DEFAULT_DAYS = 30
LIST_COLUMNS = ["id", "person", "label", "permissions", "expires_at", "state", "created_by"]
PERMISSIONS = ", ".join(p.value for p in Permission)


@app.command("create")
def create(
    person: Annotated[str, typer.Option("--person", help="Whose token it is (a person's id).")],
    permission: Annotated[
        list[str],
        typer.Option(
            "--permission",
            help=f"What it may do (repeat the option); among: {PERMISSIONS}.",
        ),
    ],
    label: Annotated[
        str, typer.Option(help='What uses it, e.g. "hệ thống một cửa" (shown in listings).')
    ],
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 366).")] = DEFAULT_DAYS,
    secret_file: SecretFileOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Make a token; its secret is printed once, or written to --secret-file (keep it
    secret: it acts as the person)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    with reserved(secret_file) as fd:
        issued = service.create(context(), person, permission, days, label)
        if fd is not None:
            deliver_secret(fd, issued.secret, issued.id)
    shown: dict[str, str] = (
        {"secret": issued.secret} if secret_file is None else {"secret_file": str(secret_file)}
    )
    if out is Format.JSON:
        render_object(
            {
                "id": issued.id,
                **shown,
                "person": issued.person,
                "organisation": issued.organisation,
                "permissions": issued.permissions,
                "expires_at": issued.expires_at.isoformat(),
            },
            out,
        )
        return
    until = issued.expires_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    head = (
        f"API token {issued.id} for {issued.person} ({issued.organisation}): "
        f"{', '.join(issued.permissions)}; until {until} Vietnam time."
    )
    if secret_file is not None:
        typer.echo(f"{head} Its secret is in {visible(str(secret_file))} (keep it secret).")
        return
    typer.echo(f"{head} Shown once, keep it secret:")
    typer.echo(issued.secret)


@app.command("list")
def list_(
    org: Annotated[
        str | None,
        typer.Option(help="This organisation's (an administrator; default: your own)."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Tokens (never their secrets): an administrator sees their organisation's, a person
    their own."""
    out = parse_format(fmt)
    render_rows(service.list_tokens(context(), org), out, LIST_COLUMNS, widths={"label": 30})


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id.", min=1, max=MAX_ID)],
) -> None:
    """End a token at once (an administrator of its organisation, or its person)."""
    service.revoke(context(), token_id)
    typer.echo(f"API token {token_id} revoked")
