"""`planflow`: the console entry point. Every failure a user can cause ends in one line on
stderr and a documented exit code (see workflow.errors); a traceback means a bug (exit 1).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer
from typer import Abort

try:  # Typer >= 0.20 carries its own copy of click
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - older Typer on plain click
    from click import ClickException, UsageError  # type: ignore[assignment]

from workflow import logs
from workflow.cli import (
    audit_cmd,
    calendar_cmd,
    demo_cmd,
    dossiers_cmd,
    init_cmd,
    inspections_cmd,
    plans_cmd,
    reports_cmd,
    serve_cmd,
    tasks_cmd,
)
from workflow.cli.runtime import RUNTIME
from workflow.errors import PlanflowError

app = typer.Typer(
    name="planflow",
    help="Auditable workflow engine for provincial reform plans.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="PLANFLOW_DB",
        help="Database URL (sqlite:///FILE, postgresql://USER@HOST/DB). "
        "Default: planflow.db in the working directory. May be given anywhere on the line.",
    ),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines to stderr."),
) -> None:
    RUNTIME.db = RUNTIME.db or db  # a hoisted --db beats PLANFLOW_DB
    RUNTIME.log_json = log_json or RUNTIME.log_json
    logs.configure(json_lines=RUNTIME.log_json)


init_cmd.register(app)
demo_cmd.register(app)
app.add_typer(tasks_cmd.app, name="tasks")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(plans_cmd.plans_app, name="plans")
app.add_typer(plans_cmd.orgs_app, name="orgs")
app.add_typer(plans_cmd.lifecycle_app, name="lifecycle")
app.add_typer(dossiers_cmd.dossiers_app, name="dossiers")
app.add_typer(dossiers_cmd.procedures_app, name="procedures")
app.add_typer(dossiers_cmd.flows_app, name="flows")
app.add_typer(calendar_cmd.app, name="calendar")
inspections_cmd.register(app)
reports_cmd.register(app)  # `reports list|show`; importing it adds `flows aggregate`
serve_cmd.register(app)


def _hoist_global_options(argv: list[str]) -> list[str]:
    """Accept --db and --log-json after the subcommand too (`planflow tasks list --db X`)."""
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--db" and i + 1 < len(argv):
            RUNTIME.db = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--db="):
            RUNTIME.db = arg.split("=", 1)[1]
        elif arg == "--log-json":
            RUNTIME.log_json = True
        else:
            rest.append(arg)
        i += 1
    return rest


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this in-process)."""
    RUNTIME.db, RUNTIME.log_json = None, False
    args = _hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="planflow", standalone_mode=False)
    except PlanflowError as exc:
        _fail(str(exc))
        return exc.exit_code
    except UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint)
        return 2
    except ClickException as exc:
        _fail(exc.format_message())
        return exc.exit_code
    except Abort:
        _fail("aborted")
        return 130
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("PLANFLOW_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error (a bug, please report it): {type(exc).__name__}: {exc}")
        return 1
    return result if isinstance(result, int) else 0


def _fail(message: str) -> None:
    one_line = " ".join(message.split())  # every error is one line, whatever it quotes
    sys.stderr.write(f"planflow: error: {one_line}\n")
    sys.stderr.flush()


def main() -> None:
    sys.exit(run())
