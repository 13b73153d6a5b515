"""`planflow accounts ...`: the first administrator, invitations, and an administrator's
management of their organisation's accounts.

Links and tokens are secrets: printed once, on stdout, never logged; the database keeps only
their SHA-256. In a production database every command but `bootstrap-admin` needs an
administrator's API token (--token or PLANFLOW_TOKEN); in a simulation without a token the
shell's operator does the administrator's part.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.options import (
    DEFAULT_BASE_URL,
    BaseUrlOpt,
    FormatOpt,
    parse_base_url,
    parse_format,
)
from workflow.cli.output import Format, render_object, render_rows
from workflow.cli.runtime import context, host_context, os_user
from workflow.cli.secret_files import SecretFileOpt, deliver_secret, reserved
from workflow.cli.terminal import visible
from workflow.clock import LOCAL_TZ
from workflow.domain.access import Permission
from workflow.errors import InvalidInput
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import accounts as service
else:
    service = lazy_module("workflow.services.accounts")

app = typer.Typer(help="Accounts: sign-up links, disabling, resets.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="accounts")


PersonArg = Annotated[str, typer.Argument(help="The person's id (see `planflow orgs show`).")]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit log).")]
LIST_COLUMNS = [
    "person",
    "organisation",
    "unit",
    "roles",
    "state",
    "second_factor",
    "last_sign_in",
]


def _when(value: dt.datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _link(invitation: service.Invitation, what: str) -> dict[str, Any]:
    return {
        "person": invitation.person,
        "link": invitation.link,
        "expires_at": invitation.expires_at.isoformat(),
        "what": what,
    }


def _show_link(invitation: service.Invitation, what: str, fmt: Format) -> None:
    if fmt is Format.JSON:
        render_object(_link(invitation, what), fmt)
        return
    typer.echo(
        f"{what} link for {invitation.person} (works once, until "
        f"{_when(invitation.expires_at)} Vietnam time; give it to them alone):"
    )
    typer.echo(invitation.link)


@app.command("bootstrap-admin")
def bootstrap_admin(
    person: PersonArg,
    base_url: BaseUrlOpt = DEFAULT_BASE_URL,
    secret_file: SecretFileOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """The database's first administrator, once: run on the database's host, recorded with
    the operating-system user who ran it. The person must hold the admin role in their
    organisation's file. Prints their sign-up link and an administrator's API token (24 h)
    for the command line, each once (the token's secret to --secret-file if given)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    url = parse_base_url(base_url)
    ctx = host_context()
    with reserved(secret_file) as fd:
        invitation, token = service.bootstrap_admin(ctx, person, os_user(), url)
        if fd is not None:
            deliver_secret(fd, token.secret, token.id)
    shown: dict[str, str] = (
        {"secret": token.secret} if secret_file is None else {"secret_file": str(secret_file)}
    )
    if out is Format.JSON:
        render_object(
            {
                **_link(invitation, "sign-up"),
                "token": {
                    "id": token.id,
                    **shown,
                    "person": token.person,
                    "organisation": token.organisation,
                    "permissions": token.permissions,
                    "expires_at": token.expires_at.isoformat(),
                },
            },
            out,
        )
        return
    typer.echo(f"{person} is the first administrator of {token.organisation}.")
    _show_link(invitation, "sign-up", out)
    head = (
        f"administrator's API token {token.id} ({', '.join(token.permissions)}; until "
        f"{_when(token.expires_at)} Vietnam time"
    )
    if secret_file is not None:
        typer.echo(f"{head}): its secret is in {visible(str(secret_file))} (keep it secret)")
        typer.echo(f"use it with: export PLANFLOW_TOKEN=$(cat {visible(str(secret_file))})")
        return
    typer.echo(f"{head}; shown once, keep it secret):")
    typer.echo(token.secret)
    typer.echo("use it with: export PLANFLOW_TOKEN=<the token>")


@app.command("invite")
def invite(
    person: PersonArg, base_url: BaseUrlOpt = DEFAULT_BASE_URL, fmt: FormatOpt = "table"
) -> None:
    """A one-time sign-up link for a person of your organisation (valid 72 hours)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    url = parse_base_url(base_url)
    invitation = service.invite(context(Permission.ACCOUNTS_ADMIN), person, url)
    _show_link(invitation, "sign-up", out)


@app.command("list")
def list_(
    org: Annotated[
        str | None, typer.Option(help="This organisation's (default: your own).")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Accounts of an organisation, with their state."""
    out = parse_format(fmt)
    rows = service.list_accounts(context(Permission.ACCOUNTS_ADMIN, organisation=org), org)
    render_rows(rows, out, LIST_COLUMNS)


def _reason(raw: str) -> str:
    reason = raw.strip()
    if not reason:
        raise InvalidInput("--reason needs a few words saying why (recorded in the audit log)")
    return reason


@app.command("disable")
def disable(person: PersonArg, reason: ReasonOpt) -> None:
    """Disable an account: its sessions end, its tokens stop working."""
    service.disable(context(Permission.ACCOUNTS_ADMIN), person, _reason(reason))
    typer.echo(f"{person}: account disabled (sessions ended, tokens refused)")


@app.command("enable")
def enable(person: PersonArg) -> None:
    """Enable a disabled account again."""
    service.enable(context(Permission.ACCOUNTS_ADMIN), person)
    typer.echo(f"{person}: account enabled")


@app.command("reset")
def reset(
    person: PersonArg, base_url: BaseUrlOpt = DEFAULT_BASE_URL, fmt: FormatOpt = "table"
) -> None:
    """A one-time link to set a new password (valid 72 hours)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    url = parse_base_url(base_url)
    invitation = service.reset(context(Permission.ACCOUNTS_ADMIN), person, url)
    _show_link(invitation, "password reset", out)


@app.command("revoke-sessions")
def revoke_sessions(person: PersonArg, reason: ReasonOpt) -> None:
    """End every session of a person now (they sign in again)."""
    ended = service.revoke_sessions(context(Permission.ACCOUNTS_ADMIN), person, _reason(reason))
    typer.echo(f"{person}: {ended} session(s) ended")
