"""`planflow demo`: the main job, end to end, on a fresh SQLite database."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import FormatOpt, parse_format, writable_folder
from workflow.cli.output import Format, render_object, render_rows
from workflow.cli.runtime import RUNTIME, os_user
from workflow.clock import FixedClock
from workflow.errors import InvalidInput, StoreUnavailable
from workflow.lazy import lazy_module
from workflow.web.settings import DEFAULT_PORT

# The demo, the store and Prefect load when the demo runs, not with every command.
if TYPE_CHECKING:
    from workflow import logs
    from workflow.context import Context
    from workflow.services import database as database_service
else:
    logs = lazy_module("workflow.logs")
    database_service = lazy_module("workflow.services.database")

DEMO_DB = "planflow-demo.db"


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)


def demo(
    definitions: Annotated[
        Path, typer.Option(help="Folder of organisation and plan files to load.")
    ] = Path("definitions"),
    out: Annotated[Path, typer.Option(help="Folder for the demo database and its outputs.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the simulated people's choices.")] = 2024,
    fmt: FormatOpt = "table",
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Then give every person of the demo an account with a generated password, "
            "print them, and serve the web pages on the demo database until Ctrl-C. With "
            "--db naming a demo database made before, the quarter is not simulated again.",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="With --web: the port to listen on.")
    ] = DEFAULT_PORT,
) -> None:
    """Load definitions/, simulate a quarter of work (tasks, dossiers, the apology flow every
    Monday, the inspection flow, the quarterly reports) by several people, and verify the
    audit log.

    Without --db it starts from a fresh SQLite file, demo-output/planflow-demo.db; the
    database it runs on is a simulation database (a production one is refused).
    """
    if web:
        _web_checks(fmt)
        if RUNTIME.db is not None and _demo_ready(RUNTIME.db):
            _serve_demo(RUNTIME.db, port)  # a demo database already: no second quarter
            return
    from flows.temporary_server import for_this_run
    from workflow.context import Context
    from workflow.demo import QUARTER_START, run_demo
    from workflow.store.engine import open_engine

    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    if not definitions.is_dir():
        raise InvalidInput(f"--definitions {definitions} is not a folder")
    out = writable_folder(out)
    url = RUNTIME.db
    if url is None:
        database = out / DEMO_DB
        for leftover in (
            database,
            database.with_name(DEMO_DB + "-wal"),
            database.with_name(DEMO_DB + "-shm"),
        ):
            leftover.unlink(missing_ok=True)  # only the demo's own file: always fresh
        url = f"sqlite:///{database.resolve()}"
    ctx = Context(open_engine(url), clock=FixedClock(QUARTER_START), operator="operator:demo")
    if RUNTIME.db is not None and _production(ctx):
        # Refused (exit 2, in the service's words) before a Prefect server is started for it.
        database_service.initialise(ctx, simulation=True, os_user=os_user())
    # A temporary Prefect server that dies with this command; the events in
    # planflow.log (on the console with --verbose), stamped with the simulated time.
    with for_this_run(), logs.to_file(out, fresh=True), _days_bar() as progress:
        logs.simulated(ctx.clock)
        try:
            summary = run_demo(ctx, definitions, out, seed, os_user(), progress)
        finally:
            logs.simulated(None)
    if render is Format.JSON:
        render_object(summary.as_json(), render)
        return
    typer.echo("\nplanflow demo: a quarter of work (01/04/2024 to 30/06/2024), simulated")
    typer.echo(f"  database        {summary.database}")
    typer.echo(f"  plans, tasks    {summary.plans} plans, {summary.tasks} tasks")
    typer.echo(
        "  moves made      " + ", ".join(f"{k} {v}" for k, v in sorted(summary.moves.items()))
    )
    typer.echo(
        "  moves refused   "
        + (", ".join(f"{k}: {v}" for k, v in summary.refused.items()) or "none")
    )
    typer.echo(
        "  tasks by state  " + ", ".join(f"{k} {v}" for k, v in sorted(summary.states.items()))
    )
    typer.echo(f"  dossiers        {summary.dossiers} received, {summary.delays} delays declared")
    typer.echo(
        f"  apology flow    {summary.flow_runs} runs (every Monday): "
        f"{summary.letters} letters, {summary.escalations} escalations, "
        f"{summary.reminders} task reminders"
    )
    typer.echo(f"  letters         {summary.letters_dir}/<ORG>/*.html, *.docx")
    tally = summary.inspections
    for draw in tally.draws:
        typer.echo(
            f"  inspection      {draw['organisation']} {draw['period']}: drew "
            f"{', '.join(draw['selected'])} (seed {draw['seed']}; "
            f"planflow inspections explain {draw['inspection']})"
        )
    typer.echo(
        f"  inspections     {tally.flow_runs} flow runs: {tally.records} records submitted, "
        f"{tally.conclusions} conclusion notices, {tally.fix_tasks} fix tasks"
    )
    if tally.conclusions:
        typer.echo(f"  notices         {tally.notices_dir}/<ORG>/<period>/TB-*.html, *.docx")
    for report in summary.reports:
        window = report["window"]
        counted = f"{report['tasks']} task" + ("" if report["tasks"] == 1 else "s")
        counted += (
            f" open ({report.get('tasks_completed')} completed, "
            f"{report.get('tasks_overdue')} overdue"
            + ("; provisional)" if report.get("provisional") else ")")
        )
        typer.echo(
            f"  report          {report['organisation']} {report['period']} "
            f"({window['rule']} window {window['from']} to {window['to']}): snapshot "
            f"{report['snapshot']}, {counted}, {report['files']['html']}"
        )
    typer.echo(f"  events          {(out / logs.LOG_FILE).resolve()} (JSON lines)")
    typer.echo(f"  audit log       intact: {summary.audit_entries} entries verified")
    typer.echo(f"  audit anchor    {summary.anchor}")
    if web:
        _serve_demo(url, port)
        return
    typer.echo(
        f"\nNext: {planflow_command()} --db {summary.database} tasks list --overdue "
        "--as-of 2024-06-30"
    )


def _web_checks(fmt: str) -> None:
    """What would stop `--web` after the quarter's simulation, said before it."""
    import os

    if os.environ.get("PLANFLOW_NOW"):
        raise InvalidInput("planflow demo --web serves on the system's clock: unset PLANFLOW_NOW")
    if parse_format(fmt, (Format.TABLE, Format.JSON)) is not Format.TABLE:
        raise InvalidInput("planflow demo --web prints a table of accounts: drop --format json")


def _demo_ready(url: str) -> bool:
    """Whether --db names a demo database already (a simulation with organisations)."""
    from workflow.context import Context
    from workflow.demo_accounts import is_demo_database
    from workflow.store.engine import open_engine, resolve_url

    engine = open_engine(resolve_url(url))
    try:
        return is_demo_database(Context(engine))
    finally:
        engine.dispose()


def _serve_demo(url: str, port: int) -> None:
    """Passwords for the demo's people (a simulation database only), printed with the
    address, then `planflow web` on the database until Ctrl-C."""
    from workflow.cli.web_cmd import serve
    from workflow.clock import SystemClock
    from workflow.context import Context
    from workflow.demo_accounts import give_accounts
    from workflow.store.engine import open_engine, resolve_url
    from workflow.web.settings import Settings

    url = resolve_url(url)
    settings = Settings(database_url=url, port=port)
    # The links are used at once, on the system's clock (the quarter's clock is in 2024).
    ctx = Context(open_engine(url), clock=SystemClock(), operator="operator:demo")
    try:
        made = give_accounts(ctx, settings.public_url)
    finally:
        ctx.engine.dispose()
    typer.echo("\nplanflow demo --web: the demo's people, with passwords made for this run")
    render_rows(
        [
            {
                "person": a.person,
                "role": ", ".join(a.roles),
                "unit": f"{a.organisation}/{a.unit}",
                "password": a.password,
            }
            for a in made
        ],
        Format.TABLE,
        ["person", "role", "unit", "password"],
    )
    typer.echo(f"\nSign in at {settings.public_url}/sign-in (Ctrl-C to stop)", nl=True)
    sys.stdout.flush()
    serve(settings)
    typer.echo("planflow web stopped", err=True)


def planflow_command() -> str:
    """How to type planflow again in this shell: `planflow` when that is what the PATH finds,
    else the path of the script that ran (`.venv/bin/planflow` right after the README's
    install command, before the environment is activated)."""
    script = Path(sys.argv[0])
    if script.name != "planflow":  # `python -m workflow.cli`: the script beside Python
        script = Path(sys.executable).with_name("planflow")
        if not script.exists():
            return f"{sys.executable} -m workflow.cli"
    found = shutil.which("planflow")
    if found is not None and Path(found).resolve() == script.resolve():
        return "planflow"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script.absolute())


@contextmanager
def _days_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar over the simulated days, on a terminal only: redirected or in CI,
    stderr stays empty but for warnings and errors."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("simulating the quarter"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        console=Console(stderr=True),
        transient=True,  # gone once done: the summary follows
    )
    days = bar.add_task("days", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(days, completed=done, total=total)

    with bar:
        yield advance


def _production(ctx: Context) -> bool:
    """Whether a database given with --db is a production one (one without a schema yet is
    not: the demo creates it)."""
    try:
        return database_service.mode(ctx) == "production"
    except StoreUnavailable:
        return False
