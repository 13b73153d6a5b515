"""Transition throughput: `services.tasks.move` against the database's floor.

The engine: `workflow.services.tasks.move` on its default path, as the CLI runs it (the task
and the person read, the rules, then one writing transaction: compare-and-set and audit
append; on PostgreSQL one statement whose entry the server hashes).
The floor: the same UPDATE of `tasks` and INSERT into `audit_log`, issued with the raw driver
connection (same pool, same pragmas), one transaction each, rows computed before the clock
starts. Both run on the same database in the same process, interleaved in rounds of floor,
engine, engine, floor so that a drift of the machine hits both alike; each writer is a thread
with its own connection and its own tasks.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bench.common import agency, judged, result
from workflow.clock import SystemClock
from workflow.domain import audit_chain as audit
from workflow.domain.lifecycle import Move
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import organisations as org_service
from workflow.services import tasks as svc
from workflow.store.engine import open_engine

TARGET_RATIO = 0.5
ROUNDS = 4
TARGET = "engine >= 0.5 x floor (moves/s)"
ORG = "SO-BENCH"
UNITS = 4


@dataclass(frozen=True)
class Step:
    move: Move
    who: str  # office1, office2, leader, staff (the lead unit's staff), head (its unit head)
    role: str
    note: str | None
    from_state: str
    to_state: str


# A task's whole life, every move legal, four-eyes respected (office2 verifies).
CYCLE: tuple[Step, ...] = (
    Step(Move.START, "staff", "staff", None, "assigned", "in_progress"),
    Step(Move.SUBMIT, "staff", "staff", "Báo cáo kết quả thực hiện", "in_progress", "submitted"),
    Step(
        Move.RETURN,
        "office1",
        "office",
        "Thiếu số liệu minh chứng, đề nghị bổ sung",
        "submitted",
        "in_progress",
    ),
    Step(
        Move.SUBMIT, "head", "unit_head", "Đã bổ sung phụ lục số liệu", "in_progress", "submitted"
    ),
    Step(Move.VERIFY, "office2", "office", None, "submitted", "verified"),
    Step(Move.CLOSE, "leader", "leader", None, "verified", "closed"),
)


def _person(who: str, unit: str) -> tuple[str, str]:
    """(person id, their unit) for a part in the cycle of a task led by `unit`."""
    prefix = ORG.lower()
    if who in ("office1", "office2"):
        return f"{prefix}.{who}", "VP"
    if who == "leader":
        return f"{prefix}.leader", "BGD"
    return f"{prefix}.{unit.lower()}.{'s1' if who == 'head' else 's2'}", unit


@dataclass(frozen=True)
class PlannedMove:
    task_id: int
    unit: str
    step: int  # index in CYCLE; the task is at version step + 1 before it


def _plan(task_ids: Sequence[tuple[int, str]], moves: int) -> list[PlannedMove]:
    out: list[PlannedMove] = []
    for task_id, unit in task_ids:
        for step in range(len(CYCLE)):
            if len(out) == moves:
                return out
            out.append(PlannedMove(task_id, unit, step))
    return out


def _tasks_needed(moves: int) -> int:
    return -(-moves // len(CYCLE))


def run_threads(workers: Sequence[Callable[[], None]]) -> float:
    """Run the workers at once, one thread each; seconds from the start signal to the last."""
    barrier = threading.Barrier(len(workers) + 1)
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def body() -> None:
            barrier.wait()
            try:
                fn()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        return body

    threads = [threading.Thread(target=wrap(fn)) for fn in workers]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


# ------------------------------------------------------------------ the engine


def _engine_worker(ctx: Context, planned: list[PlannedMove]) -> Callable[[], None]:
    def work() -> None:
        for p in planned:
            step = CYCLE[p.step]
            actor, _unit = _person(step.who, p.unit)
            svc.move(ctx, p.task_id, step.move, actor, note=step.note)

    return work


# ------------------------------------------------------------------ the floor

_INSERT_COLUMNS = ", ".join(audit.FIELDS)


class Floor:
    """The two statements of a move, straight through the driver, one transaction each."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.insert = (
            f"INSERT INTO audit_log ({_INSERT_COLUMNS}) "
            f"VALUES ({', '.join([mark] * len(audit.FIELDS))})"
        )
        base = f"UPDATE tasks SET state={mark}, version={mark}, {{extra}}updated_at={mark} "
        where = f"WHERE tasks.id = {mark} AND tasks.version = {mark}"
        self.updates = {
            "": base.format(extra="") + where,
            "submitted_by": base.format(extra=f"submitted_by={mark}, ") + where,
            "returned_count": base.format(extra=f"returned_count={mark}, ") + where,
        }

    def rows(
        self, per_writer: list[list[PlannedMove]], head: tuple[int, str, str], now: dt.datetime
    ) -> list[list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]]:
        """Each writer's (UPDATE sql, its params, INSERT params), hashed into a valid chain.

        Entries are numbered round-robin across writers; they may commit out of order, but
        every entry links to the one numbered before it, so the log verifies afterwards.
        """
        seq, prev = head[0], head[1]
        stamp = audit.format_at(now)
        updated_at: Any = now.replace(tzinfo=None).isoformat(" ") if self.sqlite else now
        out: list[list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]] = [[] for _ in per_writer]
        longest = max((len(w) for w in per_writer), default=0)
        for i in range(longest):
            for w, planned in enumerate(per_writer):
                if i >= len(planned):
                    continue
                p = planned[i]
                step = CYCLE[p.step]
                actor, unit = _person(step.who, p.unit)
                version = p.step + 1
                data: dict[str, Any] = {"version": version + 1}
                if step.note:
                    data["note"] = step.note
                seq += 1
                row: dict[str, Any] = {
                    "seq": seq,
                    "at": stamp,
                    "actor": actor,
                    "role": step.role,
                    "unit": unit,
                    "organisation": ORG,
                    "action": step.move.value,
                    "subject": f"task:{p.task_id}",
                    "task_id": p.task_id,
                    "plan_id": None,
                    "from_state": step.from_state,
                    "to_state": step.to_state,
                    "data": audit.canonical_json(data),
                    "prev_hash": prev,
                    "channel": None,
                    "credential": None,
                }
                row["hash"] = prev = audit.entry_hash(row)
                if step.move is Move.SUBMIT:
                    sql = self.updates["submitted_by"]
                    params: tuple[Any, ...] = (step.to_state, version + 1, actor, updated_at)
                elif step.move is Move.RETURN:
                    sql = self.updates["returned_count"]
                    params = (step.to_state, version + 1, 1, updated_at)
                else:
                    sql = self.updates[""]
                    params = (step.to_state, version + 1, updated_at)
                out[w].append(
                    (sql, (*params, p.task_id, version), tuple(row[f] for f in audit.FIELDS))
                )
        return out

    def worker(self, rows: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]) -> Any:
        """A connection of its own (checked out now, before the clock) and its moves."""
        fairy = self.engine.raw_connection()
        driver = fairy.driver_connection
        assert driver is not None
        insert = self.insert

        def work() -> None:
            try:
                cur = driver.cursor()
                for update_sql, update_params, insert_params in rows:
                    if self.sqlite:
                        cur.execute("BEGIN IMMEDIATE")
                    cur.execute(update_sql, update_params)
                    if cur.rowcount != 1:
                        raise RuntimeError(f"floor: task {update_params[-2]} was not updated")
                    cur.execute(insert, insert_params)
                    if self.sqlite:
                        cur.execute("COMMIT")
                    else:
                        driver.commit()
                cur.close()
            finally:
                fairy.close()

        return work


# ------------------------------------------------------------------ the benchmark


def bench(url: str, writers: int, moves: int, quick: bool) -> dict[str, Any]:
    """`moves` moves through the engine and as many through the floor, `writers` at once."""
    engine = open_engine(url, pool_size=writers + 2)
    ctx = Context(engine, clock=SystemClock(), operator="operator:bench")
    try:
        org_service.upsert_organisation(ctx, agency(ORG, units=UNITS))
        chunks = _split(moves, 2 * ROUNDS)  # each kind gets one chunk of two in every round

        def make_tasks(count: int, tag: str) -> list[tuple[int, str]]:
            units = [f"P{1 + i % UNITS:02d}" for i in range(count)]
            new = [
                svc.NewTask(
                    ORG,
                    f"{tag}.{i + 1}",
                    f"Nhiệm vụ thử tải {tag}.{i + 1}: báo cáo kết quả thực hiện kế hoạch",
                    unit,
                    due_date=dt.date(2025, 12, 31),
                )
                for i, unit in enumerate(units)
            ]
            ids: list[int] = []
            for start in range(0, len(new), 2000):
                ids += svc.create_tasks(ctx, new[start : start + 2000], reason="benchmark")
            return list(zip(ids, units, strict=True))

        def planned_for(kind: str, chunk: int) -> list[list[PlannedMove]]:
            out = []
            for w, count in enumerate(_split(chunks[chunk], writers)):
                tasks = make_tasks(_tasks_needed(count), f"{kind}{chunk}W{w}")
                out.append(_plan(tasks, count))
            return out

        floor = Floor(engine)

        def run_floor(planned: list[list[PlannedMove]]) -> float:
            with ctx.uow.reading() as r:
                head = r.backend.recorder.head(r.conn)
            rows = floor.rows(planned, head, dt.datetime.now(dt.UTC))
            return run_threads([floor.worker(r) for r in rows])

        def run_engine(planned: list[list[PlannedMove]]) -> float:
            _warm_pool(engine, writers)
            return run_threads([_engine_worker(ctx, p) for p in planned])

        # Warm up both paths (statement caches, prepared statements, pool), untimed.
        warm = [_plan(make_tasks(1, f"warmE{w}"), len(CYCLE)) for w in range(writers)]
        run_engine(warm)
        warm = [_plan(make_tasks(1, f"warmF{w}"), len(CYCLE)) for w in range(writers)]
        run_floor(warm)

        # Rounds of floor, engine, engine, floor: a drift of the machine's speed, slow or
        # sudden, falls on both alike.
        order = [
            (kind, 2 * r + i)
            for r in range(ROUNDS)
            for kind, i in (("floor", 0), ("engine", 0), ("engine", 1), ("floor", 1))
        ]
        plans = {(kind, chunk): planned_for(kind[0].upper(), chunk) for kind, chunk in order}
        seconds = {"floor": 0.0, "engine": 0.0}
        for kind, chunk in order:
            planned = plans[(kind, chunk)]
            seconds[kind] += (run_floor if kind == "floor" else run_engine)(planned)
        check = audit_service.verify(ctx)
    finally:
        engine.dispose()
    engine_rate = moves / seconds["engine"]
    floor_rate = moves / seconds["floor"]
    ratio = engine_rate / floor_rate
    figures = {
        "writers": writers,
        "moves": moves,
        "rounds": ROUNDS,
        "engine_moves_per_s": round(engine_rate, 1),
        "floor_moves_per_s": round(floor_rate, 1),
        "ratio": round(ratio, 3),
        "engine_ms_per_move": round(1000 * seconds["engine"] / moves * writers, 3),
        "floor_ms_per_move": round(1000 * seconds["floor"] / moves * writers, 3),
        "audit_chain_ok": check.ok,
    }
    if not check.ok:
        raise RuntimeError(f"the audit chain does not verify after the benchmark: {check.problem}")
    return result(figures, TARGET, judged(quick, ratio >= TARGET_RATIO))


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _warm_pool(engine: Engine, size: int) -> None:
    """Open `size` pooled connections now, so that no thread connects on the clock."""
    held = [engine.connect() for _ in range(size)]
    for conn in held:
        conn.close()
