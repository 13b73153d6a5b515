"""Per-invocation settings shared by the commands (database, clock, log format, API token),
and who a command acts as.

Who acts: with an API token (`--token` or `PLANFLOW_TOKEN`), the token's person, through the
`cli` channel, within the token's permissions; a command asks for the permission it needs
(`context(needs=...)`) and is refused (exit 4) when the token does not carry it. Without a
token, in a simulation database (or one whose mode `planflow init` never chose), the person
a command names with `--as`, on the clock `PLANFLOW_NOW` may pin, as planflow always did.

In a production database (`planflow init`) nothing the request can type decides who acts or
when: `--as`, `PLANFLOW_OPERATOR` and `PLANFLOW_NOW` are refused (exit 4) with a line saying
why; reads need no token (the shell on the database's host reads the database anyway), and
a write without one is refused by the unit of work (exit 4).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflow.cli.options import parse_instant
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.domain import principals
from workflow.domain.access import Access, Permission
from workflow.domain.principals import Channel
from workflow.errors import InvalidInput, PermissionDenied
from workflow.lazy import lazy_module

# The store and the services load when a command first opens the database, not when the
# CLI starts (`planflow --help` never does).
if TYPE_CHECKING:
    from workflow import logs
    from workflow.context import Context
    from workflow.services import access as access_service
    from workflow.services import database
    from workflow.services import tokens as token_service
else:
    logs = lazy_module("workflow.logs")
    access_service = lazy_module("workflow.services.access")
    database = lazy_module("workflow.services.database")
    token_service = lazy_module("workflow.services.tokens")

PRODUCTION = "production"
TOKEN_ENV = "PLANFLOW_TOKEN"
CLOCK_ENV = "PLANFLOW_NOW"
OPERATOR_ENV = "PLANFLOW_OPERATOR"

AS_REFUSED = (
    "in a production database a person acts with their token (--token or PLANFLOW_TOKEN), not --as"
)
CLOCK_REFUSED = (
    "PLANFLOW_NOW is set: production databases are dated by the system's clock; unset it"
)
OPERATOR_REFUSED = (
    "PLANFLOW_OPERATOR is set: in a production database a person acts with their token "
    "(--token or PLANFLOW_TOKEN), never a typed name; unset it"
)
TOKEN_NEEDED = (
    "this is a production database: a change is made with a person's API token "
    "(--token or PLANFLOW_TOKEN), never a typed name"
)


@dataclass
class Runtime:
    db: str | None = None
    log_json: bool = False
    verbose: bool = False
    token: str | None = None  # the secret itself: never logged, never echoed


RUNTIME = Runtime()


def clock_from_env() -> Clock:
    """PLANFLOW_NOW=2024-06-30T09:00 runs the command "as of" that instant (Vietnam time)."""
    raw = os.environ.get(CLOCK_ENV)
    if not raw:
        return SystemClock()
    return FixedClock(parse_instant(raw, CLOCK_ENV))


def os_user() -> str:
    """The operating-system user running the command, as the log records the host's own
    acts (init, the first administrator): never PLANFLOW_OPERATOR, a name anyone types."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def token_secret() -> str | None:
    """`--token` (hoisted from anywhere on the line), else PLANFLOW_TOKEN."""
    secret = RUNTIME.token or os.environ.get(TOKEN_ENV) or ""
    return secret.strip() or None


def context(needs: Permission | None = None, *, organisation: str | None = None) -> Context:
    """The command's context: its database, its clock, and who acts (the token's person,
    else nobody: `--as` or the operator, in a simulation).

    `needs`: the permission the command exercises; a token that does not carry it (or whose
    person's roles do not give it, or, with `organisation`, not for that organisation) is
    refused (exit 4). Without a token nothing is checked here: a simulation takes `--as` as
    it always did, and a production database refuses the write itself."""
    from workflow.context import Context
    from workflow.store.engine import open_engine

    ctx = Context(open_engine(RUNTIME.db), clock=SystemClock())
    is_production = database.mode(ctx) == PRODUCTION
    ctx.uow.backend.production = is_production  # read once: every later unit of work knows
    if is_production:
        _refuse_typed_time_and_names()
    else:
        ctx.clock = clock_from_env()
        if isinstance(ctx.clock, FixedClock):  # PLANFLOW_NOW: the events carry its time
            logs.simulated(ctx.clock)
    secret = token_secret()
    if secret is not None:
        ctx.principal = token_service.authenticate_token(ctx, secret, Channel.CLI).principal
        if needs is not None:
            access_of(ctx).require(needs, organisation)
    return ctx


def host_context() -> Context:
    """A context for what the database's host does on its own authority, before anyone
    has an account (the first administrator): acting as the operating-system user running
    the command (never PLANFLOW_OPERATOR), a token or no."""
    from workflow.context import Context
    from workflow.store.engine import open_engine

    ctx = Context(open_engine(RUNTIME.db), clock=SystemClock())
    if production(ctx):
        _refuse_typed_time_and_names()
    else:
        ctx.clock = clock_from_env()
    user = os_user()
    ctx.operator = f"operator:{user}"
    ctx.principal = principals.operator(user)
    return ctx


def production(ctx: Context) -> bool:
    """Whether `planflow init` made this a production database (read once per engine, by
    its unit of work, which holds every write to it)."""
    return ctx.uow.production()


def access_of(ctx: Context) -> Access:
    """What the token's person may do, narrowed to the token's permissions."""
    principal = ctx.principal
    if principal is None:
        raise PermissionDenied(TOKEN_NEEDED)
    return access_service.access_of(ctx, principal, principal.permissions)


def acting_as(ctx: Context, given: str | None, command: str) -> str:
    """The person a command that takes `--as` acts as (`command`: its path, for the hint
    of a missing `--as`, `tasks start`).

    With a token: its person (`--as` may repeat that person's id in a simulation, never name
    another). In a production database `--as` is refused, and a token is needed. In a
    simulation without a token, `--as` is required, as it always was."""
    principal = ctx.principal
    if production(ctx):
        if given is not None:
            raise PermissionDenied(AS_REFUSED)
        if principal is None:
            raise PermissionDenied(TOKEN_NEEDED)
        return principal.id
    if principal is not None:
        if given is not None and given != principal.id:
            raise PermissionDenied(
                f"the token is {principal.id}'s: --as {given} names another person; a token "
                "acts for its own person only (drop --as)"
            )
        return principal.id
    if given is None:
        # Typer's own words for a missing required option, with the hint `main` adds.
        raise InvalidInput(f"Missing option '--as'. (see 'planflow {command} --help')")
    return given


def _refuse_typed_time_and_names() -> None:
    if os.environ.get(CLOCK_ENV):
        raise PermissionDenied(CLOCK_REFUSED)
    if os.environ.get(OPERATOR_ENV):
        raise PermissionDenied(OPERATOR_REFUSED)


def require_writer(ctx: Context) -> None:
    """Refuse, before anything starts (a flow), a change a production database would refuse:
    one made without a token."""
    if ctx.principal is None and production(ctx):
        raise PermissionDenied(TOKEN_NEEDED)
