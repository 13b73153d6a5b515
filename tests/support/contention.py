"""Many processes making random moves on shared tasks for a fixed time; each reports.

    python -m tests.support.contention DB_URL OUT_DIR WORKERS SECONDS SEED OUTSIDER

The parent forks WORKERS processes (after imports, before any connection), releases them
together, and waits. Each worker opens its own engine and, until the time is up, picks a task
of the database, looks at it, and tries a move: usually one the state allows, by someone who
plausibly may make it, sometimes anything by anyone (an auditor, OUTSIDER from another
agency). It writes OUT_DIR/worker-N.json: attempts, counts per exit code, every successful
move (task, move, version it produced, actor, new state) and any unexpected exception.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from workflow import logs
from workflow.domain.lifecycle import Move, State, available_moves
from workflow.errors import PlanflowError
from workflow.services import Context
from workflow.services import tasks as svc
from workflow.store.engine import open_engine
from workflow.store.tables import people, person_roles, tasks, units


def _world(url: str, outsider: str) -> dict[str, Any]:
    engine = open_engine(url)
    with engine.connect() as conn:
        task_ids = list(conn.execute(select(tasks.c.id).order_by(tasks.c.id)).scalars())
        org = conn.execute(select(tasks.c.organisation).limit(1)).scalar_one()
        unit_codes = list(
            conn.execute(select(units.c.code).where(units.c.organisation == org)).scalars()
        )
        folks = conn.execute(
            select(people.c.id, people.c.unit, person_roles.c.role)
            .join(person_roles, person_roles.c.person_id == people.c.id)
            .where(people.c.organisation == org)
        ).all()
    engine.dispose()
    roles: dict[str, set[str]] = {}
    unit_of: dict[str, str] = {}
    for person, unit, role in folks:
        roles.setdefault(person, set()).add(role)
        unit_of[person] = unit
    return {
        "tasks": task_ids,
        "units": sorted(unit_codes),
        "roles": {p: sorted(r) for p, r in roles.items()},
        "unit_of": unit_of,
        "everyone": [*sorted(roles), outsider],
    }


def _plausible(world: dict[str, Any], move: Move, lead_unit: str) -> list[str]:
    roles, unit_of = world["roles"], world["unit_of"]
    if move in (Move.START, Move.SUBMIT):
        found = [p for p in roles if unit_of[p] == lead_unit and roles[p] != ["auditor"]]
    elif move is Move.CLOSE:
        found = [p for p in roles if {"office", "leader"} & set(roles[p])]
    else:
        found = [p for p in roles if "office" in roles[p]]
    return found or world["everyone"]


def worker(
    index: int, url: str, out: str, seconds: float, seed: int, world: dict[str, Any], go: Any
) -> None:
    logs.configure(level=logging.WARNING)
    rng = random.Random(seed * 1000 + index)
    ctx = Context(open_engine(url), operator=f"operator:worker{index}")
    codes: Counter[int] = Counter()
    successes: list[list[Any]] = []
    unexpected: list[str] = []
    go.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        task_id = rng.choice(world["tasks"])
        try:
            seen = svc.get_task(ctx, task_id)
            if rng.random() < 0.8 and available_moves(seen.state):
                choices = available_moves(seen.state)
                which = rng.choice(choices)
                if seen.state is State.VERIFIED and rng.random() < 0.7:
                    which = rng.choice(list(Move))  # keep tasks from all closing at once
                actor = rng.choice(_plausible(world, which, seen.lead_unit))
            else:
                which = rng.choice(list(Move))
                actor = rng.choice(world["everyone"])
            note = "Kết quả thực hiện" if rng.random() < 0.9 else None
            done = svc.move(
                ctx,
                task_id,
                which,
                actor,
                note=note,
                to_unit=rng.choice(world["units"]),
                expected_version=seen.version if rng.random() < 0.5 else None,
            )
            codes[0] += 1
            successes.append([task_id, which.value, done.version, actor, done.state.value])
        except PlanflowError as exc:
            codes[exc.exit_code] += 1
        except Exception as exc:  # a bug: reported, and the test fails on it
            codes[1] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
    ctx.engine.dispose()
    report = {
        "worker": index,
        "attempts": sum(codes.values()),
        "codes": {str(k): v for k, v in sorted(codes.items())},
        "successes": successes,
        "unexpected": unexpected[:20],
    }
    Path(out, f"worker-{index}.json").write_text(json.dumps(report), encoding="utf-8")


def main(url: str, out: str, workers: int, seconds: float, seed: int, outsider: str) -> int:
    world = _world(url, outsider)
    mp = multiprocessing.get_context("fork")
    go = mp.Event()
    procs = [
        mp.Process(target=worker, args=(i, url, out, seconds, seed, world, go))
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.2)
    go.set()
    for proc in procs:
        proc.join(seconds + 120)
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    print(json.dumps({"workers": workers, "failed": failed}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    url, out, n, secs, seed, outsider = sys.argv[1:7]
    sys.exit(main(url, out, int(n), float(secs), int(seed), outsider))
