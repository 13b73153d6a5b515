"""`planflow init [--simulation]`: create or upgrade the schema, and choose the database's
mode once: production (the default) or simulation."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from workflow.cli.runtime import CLOCK_ENV, CLOCK_REFUSED, RUNTIME, clock_from_env, os_user
from workflow.clock import SystemClock
from workflow.errors import PermissionDenied


def register(root: typer.Typer) -> None:
    root.command("init")(init)


def init(
    simulation: Annotated[
        bool,
        typer.Option(
            "--simulation",
            help="A simulation database: --as names who acts and PLANFLOW_NOW may set the "
            "time (demos, training, tests). Without it: a production database, where every "
            "change needs a person's API token and is dated by the system's clock.",
        ),
    ] = False,
) -> None:
    """Create the database schema, or upgrade it to the newest revision; record the
    database's mode (production unless --simulation) the first time. Running it again keeps
    the mode; the other one is refused (exit 2)."""
    # Alembic and the store load here, not with every command of the CLI.
    from workflow.context import Context
    from workflow.services import database
    from workflow.store import schema
    from workflow.store.engine import open_engine, resolve_url, translated

    engine = open_engine(RUNTIME.db)
    # translated: a server that does not answer (or a full disk) is exit 7 and one line.
    with translated():
        try:
            if not simulation and os.environ.get(CLOCK_ENV):
                # A production database's first entry is dated by the system's clock too.
                raise PermissionDenied(CLOCK_REFUSED)
            before, after = schema.upgrade(engine)
            clock = clock_from_env() if simulation else SystemClock()
            ctx = Context(engine, clock=clock)
            mode = database.initialise(ctx, simulation=simulation, os_user=os_user())
        finally:
            engine.dispose()
    where = _safe(resolve_url(RUNTIME.db))
    if before == after:
        typer.echo(f"schema already at revision {after} in {where}")
    elif before is None:
        typer.echo(f"created schema revision {after} in {where}")
    else:
        typer.echo(f"upgraded schema from revision {before} to {after} in {where}")
    typer.echo(f"mode: {mode}" + (_PRODUCTION_NOTE if mode == "production" else _SIMULATION_NOTE))


_PRODUCTION_NOTE = (
    " (every change needs a person's API token, dated by the system's clock; the first "
    "administrator: planflow accounts bootstrap-admin PERSON)"
)
_SIMULATION_NOTE = " (--as names who acts; PLANFLOW_NOW may set the time)"


def _safe(url: str) -> str:
    """Never print a password that came in the URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
