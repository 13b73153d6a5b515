"""`planflow tasks ...`: list, show, history, and the six lifecycle moves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_date, parse_format, parse_state
from workflow.cli.output import render_object, render_rows
from workflow.cli.runtime import acting_as, context
from workflow.clock import today_local
from workflow.domain.access import Permission
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import tasks as task_service
else:
    task_service = lazy_module("workflow.services.tasks")

app = typer.Typer(help="List, inspect and move tasks.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tasks")


TASK_COLUMNS = [
    "id",
    "code",
    "period",
    "state",
    "lead_unit",
    "due_date",
    "version",
    "plan",
    "title",
]
HISTORY_COLUMNS = ["seq", "at", "actor", "role", "action", "from_state", "to_state", "data"]


@app.command("list")
def list_(
    plan: Annotated[str | None, typer.Option(help="Only tasks of this plan id.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only tasks this unit leads.")] = None,
    state: Annotated[str | None, typer.Option(help="Only tasks in this state.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only tasks past their due date, not verified.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge --overdue as of this date (YYYY-MM-DD).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only tasks of this organisation.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """List tasks, oldest first."""
    out = parse_format(fmt)
    ctx = context(Permission.TASKS_READ)
    overdue_on = None
    if overdue:
        overdue_on = parse_date(as_of, "--as-of") if as_of else today_local(ctx.clock)
    rows = task_service.list_tasks(
        ctx,
        TaskFilter(
            organisation=org, plan=plan, unit=unit, state=parse_state(state), overdue_on=overdue_on
        ),
    )
    render_rows([t.as_json() for t in rows], out, TASK_COLUMNS, widths={"title": 60})


@app.command("show")
def show(
    task_id: Annotated[int, typer.Argument(help="Task id", min=1, max=MAX_ID)],
    fmt: FormatOpt = "table",
) -> None:
    """Show one task with every field."""
    out = parse_format(fmt)
    render_object(task_service.get_task(context(Permission.TASKS_READ), task_id).as_json(), out)


@app.command("history")
def history(
    task_id: Annotated[int, typer.Argument(help="Task id", min=1, max=MAX_ID)],
    fmt: FormatOpt = "table",
) -> None:
    """The task's audit entries, oldest first."""
    out = parse_format(fmt)
    rows = task_service.history(context(Permission.TASKS_READ), task_id)
    render_rows(rows, out, HISTORY_COLUMNS, widths={"data": 70})


def _mover(which: Move, doc: str) -> Any:
    def command(
        task_id: Annotated[int, typer.Argument(help="Task id", min=1, max=MAX_ID)],
        actor: Annotated[
            str | None,
            typer.Option(
                "--as",
                help="The person making the move (id), in a simulation database; with a "
                "token (required in a production database), the token's person.",
            ),
        ] = None,
        note: Annotated[
            str | None,
            typer.Option(help="What was delivered (submit), the reason (return, reassign)."),
        ] = None,
        to: Annotated[
            str | None, typer.Option("--to", help="The new lead unit (reassign).")
        ] = None,
        expect_version: Annotated[
            int | None,
            typer.Option(
                "--expect-version",
                help="Refuse (exit 5) unless the task is still at this version.",
            ),
        ] = None,
        fmt: FormatOpt = "table",
    ) -> None:
        out = parse_format(fmt)
        ctx = context(Permission.TASKS_MOVE)
        task = task_service.move(
            ctx,
            task_id,
            which,
            acting_as(ctx, actor, f"tasks {which.value}"),
            note=note,
            to_unit=to,
            expected_version=expect_version,
        )
        render_object(task.as_json(), out)

    command.__doc__ = doc
    return command


for _move, _doc in (
    (Move.START, "Start work on an assigned task (a member of its lead unit)."),
    (Move.SUBMIT, "Submit the result, with --note saying what was delivered (lead unit)."),
    (Move.RETURN, "Return a submission for rework, with --note giving the reason (office)."),
    (Move.VERIFY, "Verify a submission (office; never the person who submitted it)."),
    (Move.CLOSE, "Close a verified task (office or leadership)."),
    (Move.REASSIGN, "Give the task to another lead unit: --to UNIT --note REASON (office)."),
    (Move.WITHDRAW, "Close a task no longer needed, before any result: --note REASON (office)."),
):
    app.command(_move.value)(_mover(_move, _doc))
