"""The audit log at size: `audit verify` throughput and query latency over N entries.

The log is built as the engine builds it: tasks inserted in bulk, entries appended with
the audit recorder's `append` inside transactions of 10,000 (sub-batches of 500 share a
timestamp), so the chain is real and valid. The entries are task lives (create, start,
submit, sometimes a return and a resubmission, verify, mostly a close) interleaved across a
pool of open tasks, by ~1,000 people of 20 agencies, spread over the year 2024.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from bench.common import agency, judged, median, percentile, result
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.domain import audit_chain as audit
from workflow.domain.filters import AuditFilter
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import organisations as org_service
from workflow.store.engine import open_engine
from workflow.store.tables import plans

VERIFY_TARGET_RATE = 200_000
QUERY_TARGET_MS = 20.0
VERIFY_TARGET = f">= {VERIFY_TARGET_RATE:,} entries/s"
QUERY_TARGET = f"p95 < {QUERY_TARGET_MS:g} ms (task history; one person's month)"
ORGS, UNITS, STAFF = 20, 8, 6  # 20 agencies x (8 units x 6 people + office 2 + leader 1)
TRANSACTION, BATCH = 10_000, 500
YEAR_START = dt.datetime(2024, 1, 1, 7, 30, tzinfo=LOCAL_TZ)
YEAR = dt.timedelta(days=365)
NOTES = {
    "submit": "Báo cáo kết quả thực hiện kèm phụ lục số liệu",
    "resubmit": "Đã bổ sung phụ lục số liệu theo yêu cầu",
    "return": "Thiếu số liệu minh chứng, đề nghị bổ sung",
}


@dataclass
class Org:
    code: str
    plan: str
    staff: dict[str, list[str]] = field(default_factory=dict)  # unit -> people
    office: list[str] = field(default_factory=list)
    leader: str = ""


@dataclass
class Life:
    """One task's remaining steps: (action, actor, role, unit, from, to, note)."""

    task_id: int
    org: Org
    steps: list[tuple[str, str, str, str | None, str | None, str, str | None]]
    version: int = 0


def _orgs() -> list[Org]:
    out = []
    for n in range(1, ORGS + 1):
        code = f"SO-B{n:02d}"
        org = Org(code, f"{code.lower()}-plan-2024")
        spec = agency(code, units=UNITS, staff_per_unit=STAFF)
        for person in spec.people:
            if person.unit == "VP":
                org.office.append(person.id)
            elif person.unit == "BGD":
                org.leader = person.id
            else:
                org.staff.setdefault(person.unit, []).append(person.id)
        out.append(org)
    return out


def _life(rng: random.Random, task_id: int, org: Org, unit: str, operator: str) -> Life:
    people = org.staff[unit]
    doer = rng.choice(people)
    office = rng.choice(org.office)
    steps: list[tuple[str, str, str, str | None, str | None, str, str | None]] = [
        ("task.create", operator, "admin", None, None, "assigned", None),
        ("start", doer, "staff", unit, "assigned", "in_progress", None),
        ("submit", doer, "staff", unit, "in_progress", "submitted", NOTES["submit"]),
    ]
    if rng.random() < 0.3:
        steps += [
            ("return", office, "office", "VP", "submitted", "in_progress", NOTES["return"]),
            ("submit", doer, "staff", unit, "in_progress", "submitted", NOTES["resubmit"]),
        ]
    verifier = rng.choice([p for p in org.office if p != office] or org.office)
    steps.append(("verify", verifier, "office", "VP", "submitted", "verified", None))
    if rng.random() < 0.8:
        steps.append(("close", org.leader, "leader", "BGD", "verified", "closed", None))
    return Life(task_id, org, steps)


def _record(life: Life, unit: str) -> audit.Record:
    action, actor, role, actor_unit, from_state, to_state, note = life.steps[life.version]
    life.version += 1
    if action == "task.create":
        data: dict[str, Any] = {
            "code": f"T.{life.task_id}",
            "period": "",
            "lead_unit": unit,
            "due_date": "2024-12-31",
            "reason": f"plan {life.org.plan} v1",
        }
    else:
        data = {"version": life.version}
        if note:
            data["note"] = note
    return audit.Record(
        actor=actor,
        role=role,
        unit=actor_unit,
        organisation=life.org.code,
        action=action,
        subject=f"task:{life.task_id}",
        task_id=life.task_id,
        plan_id=life.org.plan,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )


@dataclass
class Built:
    entries: int  # in the log, organisation loads included
    task_ids: list[int]
    actors: list[str]
    seconds: float


def build(ctx: Context, entries: int, seed: int = 8) -> Built:
    """Load agencies, insert tasks in bulk, append `entries` task entries in batches."""
    started = time.perf_counter()
    rng = random.Random(seed)
    orgs = _orgs()
    loads = 0  # entries: each agency's load and its role grants
    for org in orgs:
        spec = agency(org.code, units=UNITS, staff_per_unit=STAFF)
        org_service.upsert_organisation(ctx, spec)
        loads += 1 + sum(len(set(p.roles)) for p in spec.people)
    now = ctx.clock.now()
    with ctx.uow.writing() as tx:
        tx.conn.execute(
            insert(plans),
            [
                {"id": o.plan, "organisation": o.code, "title": "Kế hoạch", "current_version": 1}
                for o in orgs
            ],
        )
    # Tasks: enough for every life the entries will tell (about 5.4 entries a life).
    task_count = entries // 4 + 10
    units = [f"P{1 + (i // ORGS) % UNITS:02d}" for i in range(task_count)]
    owners = [orgs[i % ORGS] for i in range(task_count)]
    task_ids: list[int] = []
    for start in range(0, task_count, 10_000):
        rows = [
            {
                "organisation": owners[i].code,
                "plan_id": owners[i].plan,
                "kind": "plan",
                "code": f"T.{i + 1}",
                "period": "",
                "title": f"Nhiệm vụ {i + 1}: nâng cao chất lượng phục vụ người dân, doanh nghiệp",
                "category": "papi.public_services",
                "lead_unit": units[i],
                "cooperating_units": '["VP"]',
                "schedule_text": "Thường xuyên",
                "deliverable": "Báo cáo kết quả",
                "target": None,
                "due_date": dt.date(2024, 12, 31),
                "state": "assigned",
                "version": 1,
                "returned_count": 0,
                "since_plan_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(task_count, start + 10_000))
        ]
        with ctx.uow.writing() as tx:
            task_ids += tx.tasks.insert(rows)
    unit_of = dict(zip(task_ids, units, strict=True))
    org_of = dict(zip(task_ids, owners, strict=True))

    def stream() -> Iterator[audit.Record]:
        """Task lives interleaved: a pool of open tasks, each step of a random one."""
        fresh = iter(task_ids)
        pool: list[Life] = []
        for _ in range(min(20_000, max(10, entries // 50))):
            tid = next(fresh)
            pool.append(_life(rng, tid, org_of[tid], unit_of[tid], ctx.operator))
        while True:
            k = rng.randrange(len(pool))
            life = pool[k]
            yield _record(life, unit_of[life.task_id])
            if life.version == len(life.steps):
                tid = next(fresh)
                pool[k] = _life(rng, tid, org_of[tid], unit_of[tid], ctx.operator)

    records = stream()
    batches = -(-entries // BATCH)
    done = 0
    while done < entries:
        with ctx.uow.writing() as tx:
            for _ in range(TRANSACTION // BATCH):
                if done >= entries:
                    break
                size = min(BATCH, entries - done)
                at = YEAR_START + YEAR * (done // BATCH) / batches
                # Each batch at its own time of the year: the recorder itself, not `tx.record`
                # (whose entries all carry the transaction's time).
                tx.backend.recorder.append(
                    tx.conn, [next(records) for _ in range(size)], FixedClock(at)
                )
                done += size
    actors = sorted({p for o in orgs for people in o.staff.values() for p in people})
    actors += sorted({p for o in orgs for p in o.office})
    return Built(entries + loads, task_ids, actors, time.perf_counter() - started)


def bench(url: str, entries: int, quick: bool, queries: int = 200) -> dict[str, dict[str, Any]]:
    engine = open_engine(url)
    # The agencies loaded before the year their entries are dated in.
    ctx = Context(engine, clock=FixedClock(YEAR_START - YEAR / 365), operator="operator:bench")
    try:
        built = build(ctx, entries)
        # verify, as `planflow audit verify` runs it
        runs = []
        for _ in range(1 if quick else 3):
            start = time.perf_counter()
            check = audit_service.verify(ctx)
            runs.append(time.perf_counter() - start)
            if not check.ok or check.checked != built.entries:
                raise RuntimeError(f"verify: {check.as_json()} (expected {built.entries} entries)")
        seconds = median(runs)
        rate = built.entries / seconds
        verify = result(
            {
                "entries": built.entries,
                "build_seconds": round(built.seconds, 1),
                "verify_seconds": round(seconds, 3),
                "verify_runs_seconds": [round(r, 3) for r in runs],
                "entries_per_s": round(rate),
            },
            VERIFY_TARGET,
            judged(quick, rate >= VERIFY_TARGET_RATE),
        )
        query = _queries(ctx, built, queries)
        query["met"] = judged(
            quick,
            query["figures"]["task_history_p95_ms"] < QUERY_TARGET_MS
            and query["figures"]["actor_month_p95_ms"] < QUERY_TARGET_MS,
        )
    finally:
        engine.dispose()
    return {"verify": verify, "query": query}


def _queries(ctx: Context, built: Built, count: int) -> dict[str, Any]:
    rng = random.Random(81)

    def history() -> AuditFilter:
        return AuditFilter(task_id=rng.choice(built.task_ids[: built.entries // 6]))

    def month() -> AuditFilter:
        m = rng.randint(1, 12)
        since = dt.datetime(2024, m, 1, tzinfo=LOCAL_TZ)
        until = dt.datetime(2024 + m // 12, m % 12 + 1, 1, tzinfo=LOCAL_TZ)
        return AuditFilter(actor=rng.choice(built.actors), since=since, until=until)

    figures: dict[str, Any] = {"entries": built.entries, "queries_each": count}
    for name, make in (("task_history", history), ("actor_month", month)):
        for _ in range(10):  # warm up: pool, statement cache
            audit_service.query(ctx, make())
        times, rows = [], []
        for _ in range(count):
            where = make()
            start = time.perf_counter()
            found = audit_service.query(ctx, where)
            times.append((time.perf_counter() - start) * 1000)
            rows.append(len(found))
        figures[f"{name}_p50_ms"] = round(percentile(times, 50), 2)
        figures[f"{name}_p95_ms"] = round(percentile(times, 95), 2)
        figures[f"{name}_max_ms"] = round(max(times), 2)
        figures[f"{name}_rows_mean"] = round(sum(rows) / len(rows), 1)
    return result(figures, QUERY_TARGET, None)
