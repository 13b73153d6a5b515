"""`planflow`: the console entry point. Every failure a user can cause ends in one line on
stderr and a documented exit code (see workflow.errors); a traceback means a bug (exit 1).

The app is built here from the command modules, each adding its commands through its
`register(app)`; commands raise the errors of `workflow.errors` and `run` maps them to exit
codes (no command exits by itself).
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import typer

from workflow.cli import (
    accounts_cmd,
    audit_cmd,
    calendar_cmd,
    demo_cmd,
    documents_cmd,
    dossiers_cmd,
    flows_cmd,
    formats_cmd,
    init_cmd,
    inspections_cmd,
    plan_import_cmd,
    plans_cmd,
    reports_cmd,
    serve_cmd,
    tasks_cmd,
    tokens_cmd,
    web_cmd,
)
from workflow.cli.output import AlreadyReported
from workflow.cli.runtime import RUNTIME
from workflow.cli.terminal import visible
from workflow.errors import ManyProblems, PlanflowError
from workflow.lazy import lazy_module

# structlog (and the rich tracebacks it pulls in) loads when a command runs, not for --help.
if TYPE_CHECKING:
    from workflow import logs
else:
    logs = lazy_module("workflow.logs")


class CommandModule(Protocol):
    """A module of `workflow/cli/` that adds its commands (or its group) to the app."""

    def register(self, root: typer.Typer) -> None: ...


# Registered in this order; `planflow --help` lists the single commands (init, demo, serve,
# web) before the groups, each kind in the order registered.
COMMANDS: tuple[CommandModule, ...] = (
    init_cmd,
    demo_cmd,
    tasks_cmd,
    audit_cmd,
    plans_cmd,  # plans, orgs, lifecycle
    plan_import_cmd,  # plans import
    dossiers_cmd,  # dossiers, procedures
    flows_cmd,
    calendar_cmd,
    inspections_cmd,
    reports_cmd,
    documents_cmd,
    formats_cmd,  # documents pdf, sign, verify-signature
    accounts_cmd,
    tokens_cmd,
    serve_cmd,
    web_cmd,
)


def _root_app() -> typer.Typer:
    app = typer.Typer(
        name="planflow",
        help="Auditable workflow engine for provincial reform plans.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    return app


def build() -> typer.Typer:
    app = _root_app()
    for module in COMMANDS:
        module.register(app)
    return app


def _app_for(args: Sequence[str]) -> typer.Typer:
    """The app that parses `args`: the root with only the group or command they name (Typer
    builds a command by reading its signature, ~30 ms for all of them, as much as some
    commands take to run); the whole app for anything else (`planflow --help`, a name that
    is no command: its message is the same either way)."""
    name = args[0] if args else None
    groups = [group for group in app.registered_groups if group.name == name]
    commands = [command for command in app.registered_commands if command.name == name]
    if not groups and not commands:
        return app
    slim = _root_app()
    slim.registered_groups, slim.registered_commands = groups, commands
    return slim


def _root(
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="PLANFLOW_DB",
        help="Database URL (sqlite:///FILE, postgresql://USER@HOST/DB). "
        "Default: planflow.db in the working directory. May be given anywhere on the line.",
    ),
    log_json: bool = typer.Option(
        False, "--log-json", help="Log events as JSON lines (with --verbose, to stderr)."
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        help="Log events (INFO) to stderr too; without it only warnings and errors are. "
        "The demo and the flows keep every event in planflow.log of their output folder.",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="PLANFLOW_TOKEN",
        help="An API token (planflow tokens create): act as its person, within its "
        "permissions. Prefer PLANFLOW_TOKEN (a command line is visible to other users of "
        "the host). May be given anywhere on the line.",
        show_default=False,
    ),
) -> None:
    RUNTIME.db = RUNTIME.db or db  # a hoisted --db beats PLANFLOW_DB
    RUNTIME.token = RUNTIME.token or token  # likewise a hoisted --token, PLANFLOW_TOKEN
    RUNTIME.log_json = log_json or RUNTIME.log_json
    RUNTIME.verbose = verbose or RUNTIME.verbose
    logs.configure(json_lines=RUNTIME.log_json, verbose=RUNTIME.verbose)


app = build()


def _hoist_global_options(argv: list[str]) -> list[str]:
    """Accept --db, --token, --log-json and --verbose after the subcommand too (`planflow tasks list
    --db X`)."""
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in ("--db", "--token") and i + 1 < len(argv):
            if arg == "--db":
                RUNTIME.db = argv[i + 1]
            else:
                RUNTIME.token = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--db="):
            RUNTIME.db = arg.split("=", 1)[1]
        elif arg.startswith("--token="):
            RUNTIME.token = arg.split("=", 1)[1]
        elif arg == "--log-json":
            RUNTIME.log_json = True
        elif arg == "--verbose":
            RUNTIME.verbose = True
        else:
            rest.append(arg)
        i += 1
    return rest


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this in-process)."""
    RUNTIME.db, RUNTIME.log_json, RUNTIME.verbose, RUNTIME.token = None, False, False, None
    args = _hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(_app_for(args))
    try:
        result = command.main(args=args, prog_name="planflow", standalone_mode=False)
        sys.stdout.flush()  # a full disk under `> FILE` is told here, not at exit
    except AlreadyReported as done:  # the command's own output said what failed
        return done.error.exit_code
    except PlanflowError as exc:
        if isinstance(exc, ManyProblems):
            for problem in exc.problems:  # each on its line, before the closing one
                sys.stderr.write(f"{visible(str(problem))}\n")
        _fail(str(exc))
        return exc.exit_code
    except typer.TyperException as exc:  # the command line itself: usage, a bad value
        # Usage errors know their command; `TyperException` is Typer's public base of them.
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _fail(exc.format_message() + hint)
        return exc.exit_code
    except typer.Abort:
        _fail("aborted")
        return 130
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _bug(exc)
        # The output (stdout redirected to a file, an --output or --out file) cannot be
        # written: the user's place to fix, exit 2, naming it when the error does.
        where = exc.filename or "the output"
        _fail(f"cannot write {where}: the disk is full ({exc.strerror})")
        _drop_unwritten_output()
        return 2
    except Exception as exc:
        return _bug(exc)
    return result if isinstance(result, int) else 0


def _bug(exc: Exception) -> int:
    """A bug: said plainly; the traceback only on request."""
    if os.environ.get("PLANFLOW_DEBUG"):
        traceback.print_exception(exc)
    _fail(f"internal error (a bug, please report it): {type(exc).__name__}: {exc}")
    return 1


def _drop_unwritten_output() -> None:
    """After stdout failed to write, send what is left in its buffer nowhere: otherwise
    Python flushes it again at exit, fails again, and exits 120 with a message of its own."""
    try:
        sys.stdout.flush()
    except OSError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            sys.stdout.flush()
        except (OSError, ValueError):  # not a file descriptor (captured in tests): nothing
            pass


def _fail(message: str) -> None:
    one_line = " ".join(message.split())  # every error is one line, whatever it quotes
    # ... and what it quotes cannot drive the terminal (an escape sequence, U+202E).
    sys.stderr.write(f"planflow: error: {visible(one_line)}\n")
    sys.stderr.flush()


def main() -> None:
    sys.exit(run())
