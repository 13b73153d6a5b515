"""Walk every task of the database to `closed`, one committed move at a time.

    python -m tests.support.move_loop DB_URL PERSON_PREFIX

Each move is chosen from the task's *stored* state (start, submit, verify, close), so a run
that was killed half-way resumes where the database says it stopped. After each commit it
prints `moved TASK MOVE VERSION`; at the end `done MOVES`. The pause hook (pause.py) can
freeze it inside a move's transaction.
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy import select

from tests.support import pause
from workflow import logs
from workflow.domain.lifecycle import Move, State
from workflow.services import Context
from workflow.services import tasks as svc
from workflow.store.engine import open_engine
from workflow.store.tables import tasks


def next_move(state: State, prefix: str) -> tuple[Move, str, str | None] | None:
    return {
        State.ASSIGNED: (Move.START, prefix + "lan", None),
        State.IN_PROGRESS: (Move.SUBMIT, prefix + "lan", "Báo cáo kết quả"),
        State.SUBMITTED: (Move.VERIFY, prefix + "office1", None),
        State.VERIFIED: (Move.CLOSE, prefix + "leader", None),
    }.get(state)


def main(url: str, prefix: str) -> int:
    logs.configure(level=logging.WARNING)
    pause.install()
    ctx = Context(open_engine(url), operator="operator:loop")
    with ctx.engine.connect() as conn:
        ids = list(conn.execute(select(tasks.c.id).order_by(tasks.c.id)).scalars())
    moves = 0
    for task_id in ids:
        while True:
            task = svc.get_task(ctx, task_id)
            step = next_move(task.state, prefix)
            if step is None:
                break
            which, actor, note = step
            done = svc.move(ctx, task_id, which, actor, note=note, expected_version=task.version)
            moves += 1
            print(f"moved {task_id} {which} {done.version}", flush=True)
    print(f"done {moves}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
