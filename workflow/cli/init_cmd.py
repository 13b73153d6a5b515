"""`planflow init`: create or upgrade the schema."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from workflow.cli.runtime import RUNTIME
from workflow.store import schema
from workflow.store.engine import open_engine, resolve_url


def register(root: typer.Typer) -> None:
    root.command("init")(init)


def init() -> None:
    """Create the database schema, or upgrade it to the newest revision."""
    engine = open_engine(RUNTIME.db)
    before, after = schema.upgrade(engine)
    where = resolve_url(RUNTIME.db)
    if before == after:
        typer.echo(f"schema already at revision {after} in {_safe(where)}")
    elif before is None:
        typer.echo(f"created schema revision {after} in {_safe(where)}")
    else:
        typer.echo(f"upgraded schema from revision {before} to {after} in {_safe(where)}")


def _safe(url: str) -> str:
    """Never print a password that came in the URL."""
    return make_url(url).render_as_string(hide_password=True)
